"""First-generation indicators and the lead score, every point with its reason.

Scores are sums of weighted reasons; the weights live in ``weights.toml`` (or the
case's ``leads.toml``), so a unit can tune them and a court can read them.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from unseen.core.settings import Settings
from unseen.correlation.association import (
    BENIGN,
    Anchor,
    Associator,
    Held,
    Neighbourhood,
    counted,
)
from unseen.correlation.association import Weights as AssociationWeights
from unseen.correlation.base import Cluster
from unseen.correlation.facts import ItemFacts
from unseen.correlation.qtables import standard_quality
from unseen.correlation.reasons import Reason, describe, total

__all__ = ["Reason", "cluster_lead", "describe", "load_weights", "rank_items"]

NONE: frozenset[int] = frozenset()

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


@dataclass(frozen=True, slots=True)
class Group:
    """What ranking reads of one cluster, its members left in the store.

    ``unknown`` counts its members without a hash-set match (any member the run's
    facts do not hold counts as one, as it did when counted from the clusters
    themselves); ``near_known`` marks a copy or near-duplicate group with a
    hash-set-matched member; ``serial``, a camera named by its body serial;
    ``originals``, the pictures a sensor fingerprint is made from.
    """

    hood: Neighbourhood
    unknown: int
    near_known: bool
    serial: bool
    originals: frozenset[int]

    @classmethod
    def of(cls, c: Cluster, matched: Container[int], known: Mapping[int, Anchor]) -> Group:
        ids = c.ids
        held = (Held.of(ids, known, 1), Held.of(ids, known, -1))
        hood = Neighbourhood(c.kind, c.key, c.label, c.confidence, (), held)
        hits = sum(1 for i in ids if i in matched)
        originals = c.details.get("originals") if c.kind == "sensor" else None
        return cls(
            hood,
            len(ids) - hits,
            c.kind in ("near_duplicate", "duplicate") and hits > 0,
            c.kind == "camera" and bool(c.details.get("serial")),
            frozenset(originals) if originals else NONE,
        )


def rank_items(
    rows: Iterable[tuple[ItemFacts, Sequence[Group]]],
    weights: Weights,
    known: Mapping[int, Anchor],
    signals: Mapping[int, list[Reason]] | None = None,
) -> Iterator[Scored]:
    """Every image's first-generation reasons and every unknown image's lead, an image
    at a time in ``rows``' order (each item's facts and groups), for the caller to
    write as they come: a million leads' reasons held together cost half a gigabyte
    beside the facts.

    A lead's reasons are its base (first-generation, context, other stages' signals)
    plus its association with the ``known`` (anchored) items.
    """
    fg_w, lead_w = weights["first_generation"], weights["lead"]
    associator = Associator(known, AssociationWeights.from_file(weights))
    for f, groups in rows:
        if not f.is_image:
            continue
        fg = first_generation(f, any(g.near_known for g in groups), fg_w)
        if not f.unknown:
            yield Scored(f.id, fg, None)
            continue
        reasons = [Reason(r.signal, r.weight * lead_w["first_generation"], r.detail) for r in fg]
        reasons += _context(f, groups, lead_w)
        reasons += (signals or {}).get(f.id, [])
        reasons += associator.reasons(f.id, [g.hood for g in groups])
        yield Scored(f.id, fg, Ranked(f.id, total(reasons), reasons, f.reviewed is not None))


def _context(f: ItemFacts, groups: Sequence[Group], w: dict[str, float]) -> list[Reason]:
    """Reasons from the item's groups (the item is unknown: one of each group's unknown
    members)."""
    reasons: list[Reason] = []
    if f.gps_lat is not None and f.gps_lon is not None:
        reasons.append(Reason("gps", w["gps"], f"GPS {f.gps_lat:.4f}, {f.gps_lon:.4f}"))
    for g in groups:
        kind, label, others = g.hood.kind, g.hood.label, g.unknown - 1
        if g.serial and others:
            weight = min(w["camera_peers"] * others, w["camera_peers_cap"])
            detail = f"{label} took {others} other unknown images"
            reasons.append(Reason("camera_peers", weight, detail))
        elif f.id in g.originals:
            continue  # it makes the fingerprint: matching it says nothing new
        elif kind in CONTEXT_KINDS and (others or kind in ("device", "sensor", "text")):
            detail = CONTEXT_KINDS[kind].format(label=label, others=others)
            reasons.append(Reason(kind, w[kind] * g.hood.confidence, detail))
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
    unknown = [scores[m] for m in n.members if m in scores]
    held = (Held.of(n.members, known, 1), Held.of(n.members, known, -1))
    return group_lead(target, n, max(unknown, default=0.0), len(unknown), held, weights)


def group_lead(
    target: int,
    n: Neighbourhood,
    best: float,
    unknown: int,
    held: tuple[Held, Held],
    weights: Weights,
) -> Ranked | None:
    """A group's lead from its ``unknown`` undecided unknown pictures, the ``best`` of
    their scores, and its anchors (raising, lowering); None without such pictures."""
    if n.kind not in LEAD_KINDS or not unknown:
        return None
    bonus = round(math.log2(1 + unknown), 3)
    reasons = [
        Reason("strongest_member", best, f"best unknown picture scores {best:.2f}"),
        Reason("size", bonus, f"{unknown} unknown pictures: {n.label}"),
    ]
    w = AssociationWeights.from_file(weights)
    for anchors, table, suffix in ((held[0], w.raise_by, ""), (held[1], w.lower_by, BENIGN)):
        if anchors.total and n.kind in table:
            weight = round(table[n.kind] * n.confidence * w.scale(anchors.total), 3)
            about = counted(anchors.counts)
            detail = f"holds {about} beside {unknown} unknown"
            reasons.append(Reason("known_members" + suffix, weight, detail, about=about))
    return Ranked(target, total(reasons), reasons)
