"""First-generation indicators and the lead score, every point with its reason.

Scores are sums of weighted reasons; the weights live in ``weights.toml`` (or the
case's ``leads.toml``), so a unit can tune them and a court can read them.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from unseen.core.settings import Settings
from unseen.correlation.association import (
    BENIGN,
    Anchor,
    Associator,
    Neighbourhood,
    counted,
)
from unseen.correlation.association import Weights as AssociationWeights
from unseen.correlation.base import Cluster
from unseen.correlation.facts import ItemFacts
from unseen.correlation.qtables import standard_quality
from unseen.correlation.reasons import Reason, describe, total

__all__ = ["Reason", "cluster_lead", "describe", "load_weights", "rank_items"]

CASE_WEIGHTS = Settings().lead_weights
CAMERA_PATH = re.compile(
    r"(^|/)DCIM/|(^|/)(IMG|DSC|DSCN|DSCF|PXL|MVIMG|P\d{3})_?\d{3,}[^/]*$|(^|/)\d{8}_\d{6}[^/]*$",
    re.IGNORECASE,
)
EDITORS = ("photoshop", "gimp", "lightroom", "paint.net", "snapseed", "pixlr", "picasa")


Weights = dict[str, dict[str, float]]


def load_weights(case_root: Path | None = None, name: str = CASE_WEIGHTS) -> Weights:
    """The built-in weights, with the case's file ``name`` (``leads.toml`` unless the
    case's settings name another; if it exists) laid over them entry by entry, so a
    unit's file need only name what it changes."""
    text = resources.files("unseen.correlation").joinpath("weights.toml").read_text()
    weights = _parse(text)
    custom = case_root / name if case_root else None
    if custom and custom.is_file():
        for section, values in _parse(custom.read_text()).items():
            weights.setdefault(section, {}).update(values)
    return weights


def _parse(text: str) -> Weights:
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
    "contact": "exchanged with {label}, with {others} other unknown pictures",
    "conversation": "in {label} with {others} other unknown pictures",
}


@dataclass(slots=True)
class Ranked:
    item_id: int
    score: float
    reasons: list[Reason]
    decided: bool = False  # a reviewer has categorised it: no longer unseen


@dataclass(frozen=True, slots=True)
class Scored:
    """One image's ranking: its first-generation reasons, and its lead when unknown."""

    item_id: int
    first_generation: list[Reason]
    lead: Ranked | None


def neighbourhood(c: Cluster) -> Neighbourhood:
    """The cluster as association reads it (with ``Members``' own array of ids: a tuple
    of a million members' ints is 40 MB more)."""
    return Neighbourhood(c.kind, c.key, c.label, c.confidence, c.ids)


def rank_items(
    facts: list[ItemFacts],
    clusters: list[Cluster],
    weights: Weights,
    known: Mapping[int, Anchor],
    signals: Mapping[int, list[Reason]] | None = None,
) -> Iterator[Scored]:
    """Every image's first-generation reasons and every unknown image's lead, an image
    at a time in ``facts``' order, for the caller to write as they come: a million
    leads' reasons held together cost half a gigabyte beside the facts.

    A lead's reasons are its base (first-generation, context, other stages' signals)
    plus its association with the ``known`` (anchored) items.
    """
    fg_w, lead_w = weights["first_generation"], weights["lead"]
    associator = Associator(known, AssociationWeights.from_file(weights))
    by_item: dict[int, list[Cluster]] = defaultdict(list)
    for c in clusters:
        for i in c.ids:
            by_item[i].append(c)
    by_id = {f.id: f for f in facts}
    near_known = _near_known(clusters, by_id)
    hoods = {id(c): neighbourhood(c) for c in clusters}
    unknown_in = {
        id(c): sum(1 for i in c.ids if i not in by_id or by_id[i].unknown) for c in clusters
    }
    del by_id
    for f in facts:
        if not f.is_image:
            continue
        fg = first_generation(f, f.id in near_known, fg_w)
        if not f.unknown:
            yield Scored(f.id, fg, None)
            continue
        groups = by_item.pop(f.id, [])
        reasons = [Reason(r.signal, r.weight * lead_w["first_generation"], r.detail) for r in fg]
        reasons += _context(f, groups, unknown_in, lead_w)
        reasons += (signals or {}).get(f.id, [])
        reasons += associator.reasons(f.id, [hoods[id(c)] for c in groups])
        yield Scored(f.id, fg, Ranked(f.id, total(reasons), reasons, f.reviewed is not None))


def _near_known(clusters: list[Cluster], by_id: dict[int, ItemFacts]) -> set[int]:
    """Items in a near-duplicate cluster with at least one hash-set-known member."""
    found: set[int] = set()
    for c in clusters:
        if c.kind in ("near_duplicate", "duplicate"):
            ids = [i for i in c.ids if i in by_id]
            if any(not by_id[i].unknown for i in ids):
                found.update(ids)
    return found


def _context(
    f: ItemFacts, clusters: list[Cluster], unknown_in: dict[int, int], w: dict[str, float]
) -> list[Reason]:
    """Reasons from the item's groups; ``unknown_in`` counts each group's unknown members
    (the item itself is unknown: it is one of them)."""
    reasons: list[Reason] = []
    if f.gps_lat is not None and f.gps_lon is not None:
        reasons.append(Reason("gps", w["gps"], f"GPS {f.gps_lat:.4f}, {f.gps_lon:.4f}"))
    for c in clusters:
        others = unknown_in[id(c)] - 1
        if c.kind == "camera" and c.details.get("serial") and others:
            weight = min(w["camera_peers"] * others, w["camera_peers_cap"])
            detail = f"{c.label} took {others} other unknown images"
            reasons.append(Reason("camera_peers", weight, detail))
        elif c.kind == "sensor" and f.id in c.details.get("originals", ()):
            continue  # it makes the fingerprint: matching it says nothing new
        elif c.kind in CONTEXT_KINDS and (others or c.kind in ("device", "sensor", "text")):
            detail = CONTEXT_KINDS[c.kind].format(label=c.label, others=others)
            reasons.append(Reason(c.kind, w[c.kind] * c.confidence, detail))
    return reasons


# Cluster kinds that make a lead of their own (a camera, a place, a session...).
LEAD_KINDS = (
    "camera", "place", "session", "scene", "identity", "sensor", "device",
    "contact", "conversation", "download",
)  # fmt: skip


def cluster_lead(
    target: int,
    n: Neighbourhood,
    scores: Mapping[int, float],
    known: Mapping[int, Anchor],
    weights: Weights,
) -> Ranked | None:
    """A group's lead: its best undecided unknown picture, how many there are, and what
    known material it holds ("camera 999: 16 known A, 16 unknown").

    ``scores`` holds the lead score of every undecided unknown picture of the case.
    """
    if n.kind not in LEAD_KINDS:
        return None
    unknown = sorted((scores[m] for m in n.members if m in scores), reverse=True)
    if not unknown:
        return None
    bonus = round(math.log2(1 + len(unknown)), 3)
    reasons = [
        Reason("strongest_member", unknown[0], f"best unknown picture scores {unknown[0]:.2f}"),
        Reason("size", bonus, f"{len(unknown)} unknown pictures: {n.label}"),
    ]
    w = AssociationWeights.from_file(weights)
    for polarity, table, suffix in ((1, w.raise_by, ""), (-1, w.lower_by, BENIGN)):
        held = Counter(
            known[m].label for m in n.members if m in known and known[m].polarity == polarity
        )
        if held and n.kind in table:
            weight = round(table[n.kind] * n.confidence * w.scale(held.total()), 3)
            about = counted(held)
            detail = f"holds {about} beside {len(unknown)} unknown"
            reasons.append(Reason("known_members" + suffix, weight, detail, about=about))
    return Ranked(target, total(reasons), reasons)
