"""First-generation indicators and the lead score, every point with its reason.

Scores are sums of weighted reasons; the weights live in ``weights.toml`` (or the
case's ``leads.toml``), so a unit can tune them and a court can read them.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from unseen.correlation.base import Cluster
from unseen.correlation.facts import ItemFacts
from unseen.correlation.qtables import standard_quality

CASE_WEIGHTS = "leads.toml"
CAMERA_PATH = re.compile(
    r"(^|/)DCIM/|(^|/)(IMG|DSC|DSCN|DSCF|PXL|MVIMG|P\d{3})_?\d{3,}[^/]*$|(^|/)\d{8}_\d{6}[^/]*$",
    re.IGNORECASE,
)
EDITORS = ("photoshop", "gimp", "lightroom", "paint.net", "snapseed", "pixlr", "picasa")


@dataclass(frozen=True, slots=True)
class Reason:
    signal: str
    weight: float
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"signal": self.signal, "weight": self.weight, "detail": self.detail}


Weights = dict[str, dict[str, float]]


def load_weights(case_root: Path | None = None) -> Weights:
    """The case's ``leads.toml`` if it has one, else the built-in weights."""
    custom = case_root / CASE_WEIGHTS if case_root else None
    if custom and custom.is_file():
        text = custom.read_text()
    else:
        text = resources.files("unseen.correlation").joinpath("weights.toml").read_text()
    raw = tomllib.loads(text)
    return {section: {k: float(v) for k, v in values.items()} for section, values in raw.items()}


def first_generation(f: ItemFacts, near_known: bool, w: dict[str, float]) -> list[Reason]:
    """Why ``f`` looks like (or unlike) a camera original never shared before."""
    reasons: list[Reason] = []
    if f.camera and f.datetime_original:
        reasons.append(Reason("camera_exif", w["camera_exif"], f"camera original, {f.camera}"))
    if f.serial:
        reasons.append(Reason("camera_serial", w["camera_serial"], f"body serial {f.serial}"))
    if CAMERA_PATH.search(f.path):
        reasons.append(Reason("camera_path", w["camera_path"], "camera-style folder or file name"))
    if f.jpeg_qtables:
        standard = standard_quality(f.jpeg_qtables)
        if standard is None:
            reasons.append(Reason("camera_qtables", w["camera_qtables"], "camera JPEG tables"))
        else:
            detail = f"standard libjpeg tables (quality {standard}): saved again by software"
            reasons.append(Reason("reencoded_qtables", w["reencoded_qtables"], detail))
    if f.exif_thumbnail:
        reasons.append(Reason("exif_thumbnail", w["exif_thumbnail"], "embedded EXIF thumbnail"))
    software = (f.software or "").lower()
    if any(editor in software for editor in EDITORS):
        reasons.append(Reason("edited", w["edited"], f"edited with {f.software}"))
    if f.unknown:
        reasons.append(Reason("not_known", w["not_known"], "no hash-set match"))
        if not near_known:
            detail = "not a near-duplicate of a known item"
            reasons.append(Reason("not_near_known", w["not_near_known"], detail))
    return reasons


# Cluster kinds that raise a lead, with the weight key and how the reason reads.
CONTEXT_KINDS = {
    "place": "taken {label} with {others} other unknown pictures",
    "session": "one of a capture session: {label}",
    "device": "{label}",
    "sensor": "matches the {label}",
    "scene": "same scene as {others} other pictures ({label})",
    "identity": "a face that recurs: {label}",
    "text": "text in picture: {label}",
}


@dataclass
class Ranked:
    item_id: int
    score: float
    reasons: list[Reason]


def rank_items(
    facts: list[ItemFacts], clusters: list[Cluster], weights: Weights
) -> tuple[dict[int, list[Reason]], list[Ranked]]:
    """First-generation reasons for every image, and leads for every unknown image."""
    fg_w, lead_w = weights["first_generation"], weights["lead"]
    by_item: dict[int, list[Cluster]] = defaultdict(list)
    for c in clusters:
        for m in c.members:
            by_item[m.item_id].append(c)
    by_id = {f.id: f for f in facts}
    near_known = _near_known(clusters, by_id)
    first_gen: dict[int, list[Reason]] = {}
    leads: list[Ranked] = []
    for f in facts:
        if not f.is_image:
            continue
        fg = first_generation(f, f.id in near_known, fg_w)
        first_gen[f.id] = fg
        if not f.unknown:
            continue
        reasons = [Reason(r.signal, r.weight * lead_w["first_generation"], r.detail) for r in fg]
        reasons += _context(f, by_item[f.id], by_id, lead_w)
        leads.append(Ranked(f.id, round(sum(r.weight for r in reasons), 3), reasons))
    leads.sort(key=lambda r: (-r.score, r.item_id))
    return first_gen, leads


def _near_known(clusters: list[Cluster], by_id: dict[int, ItemFacts]) -> set[int]:
    """Items in a near-duplicate cluster with at least one hash-set-known member."""
    found: set[int] = set()
    for c in clusters:
        if c.kind in ("near_duplicate", "duplicate"):
            ids = [m.item_id for m in c.members if m.item_id in by_id]
            if any(not by_id[i].unknown for i in ids):
                found.update(ids)
    return found


def _context(
    f: ItemFacts, clusters: list[Cluster], by_id: dict[int, ItemFacts], w: dict[str, float]
) -> list[Reason]:
    reasons: list[Reason] = []
    if f.gps_lat is not None and f.gps_lon is not None:
        reasons.append(Reason("gps", w["gps"], f"GPS {f.gps_lat:.4f}, {f.gps_lon:.4f}"))
    for c in clusters:
        others = sum(1 for m in c.members if m.item_id != f.id and by_id.get(m.item_id, f).unknown)
        if c.kind == "camera" and c.details.get("serial") and others:
            weight = min(w["camera_peers"] * others, w["camera_peers_cap"])
            detail = f"{c.label} took {others} other unknown images"
            reasons.append(Reason("camera_peers", weight, detail))
        elif c.kind in CONTEXT_KINDS and (others or c.kind in ("device", "sensor", "text")):
            detail = CONTEXT_KINDS[c.kind].format(label=c.label, others=others)
            reasons.append(Reason(c.kind, w[c.kind] * c.confidence, detail))
    return reasons


def describe(reasons: list[Reason]) -> str:
    """Reasons as one line, strongest first: what ``unseen leads`` prints."""
    ordered = sorted(reasons, key=lambda r: -abs(r.weight))
    return "; ".join(f"{r.detail} ({r.weight:+g})" for r in ordered)
