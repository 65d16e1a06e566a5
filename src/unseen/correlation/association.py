"""Association with what is already known: the strongest lead to a new victim.

An unknown picture that shares a camera, a sensor, a room, a face, a capture session,
a folder or a download with material a hash set or a reviewer categorised as indecent
is worth more than any holiday snap; one that shares a session or a scene with
material marked not indecent (or known-good) is worth less. Categorised items are
*anchors*; every cluster an unknown item shares with anchors becomes one weighted
reason naming them ("same camera (Canon EOS 80D serial 999) as 16 pictures
categorised A by hash set UK-A").

The same function scores the whole case after correlation and a neighbourhood after
each reviewer decision (``feedback``), so both give identical results.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from unseen.core.schemes import Scheme
from unseen.correlation.facts import ItemFacts
from unseen.correlation.reasons import Reason

PREFIX = "assoc."  # signal prefix of every association reason
BENIGN = ".benign"  # suffix of the reasons that lower a score

# How each cluster kind reads in a reason, ``about`` naming the anchored material.
PHRASES = {
    "camera": "same camera ({label}) as {about}",
    "camera_tables": "same camera model and JPEG tables ({label}) as {about}",
    "sensor": "same sensor noise ({label}) as {about}",
    "scene": "same scene ({label}) as {about}",
    "identity": "same face ({label}) as {about}",
    "session": "same capture session ({label}) as {about}",
    "window": "taken within minutes ({label}) of {about}",
    "place": "same place ({label}) as {about}",
    "near_duplicate": "an altered copy (PDQ near-duplicate) of {about}",
    "duplicate": "an identical copy of {about}",
    "folder": "same folder ({label}) as {about}",
    "download": "same download ({label}) as {about}",
    "device": "same device ({label}) as {about}",
    "contact": "exchanged with the same contact ({label}) as {about}",
    "conversation": "same conversation ({label}) as {about}",
}
ANCHOR_LIST = 5  # anchor item ids named in a reason's provenance


@dataclass(frozen=True, slots=True)
class Anchor:
    """What makes an item known: its category, who decided it and which way it points.

    ``polarity`` is +1 for indecent material, -1 for known-good or ignorable ("not
    indecent") material; neutral categories (comparison, uncategorised) are no anchor.
    """

    polarity: int
    category: str | None
    by: str

    @property
    def label(self) -> str:
        what = f"categorised {self.category}" if self.category else "known-good"
        return f"{what} by {self.by}"


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    """A cluster as association sees it (from a grouping or read back from the case)."""

    kind: str
    key: str
    label: str
    confidence: float
    members: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Weights:
    """``[association]`` (raise) and ``[association_benign]`` (lower) of the weights file.

    A cluster with ``n`` anchors of one polarity scores ``weight * confidence *
    min(1 + per_doubling * log2(n), cap)``: more known material counts, with a ceiling.
    """

    raise_by: Mapping[str, float]
    lower_by: Mapping[str, float]
    per_doubling: float
    cap: float

    @classmethod
    def from_file(cls, weights: Mapping[str, Mapping[str, float]]) -> Weights:
        up = dict(weights.get("association", {}))
        per_doubling, cap = up.pop("per_doubling", 0.5), up.pop("cap", 3.0)
        return cls(up, dict(weights.get("association_benign", {})), per_doubling, cap)

    def scale(self, n: int) -> float:
        return min(1.0 + self.per_doubling * math.log2(n), self.cap) if n else 0.0


def hash_set_names(source: str | None) -> str:
    """``hashset:UK-A v1, hashset:NSRL v3`` -> ``hash set UK-A`` / ``hash sets UK-A, NSRL``."""
    names = []
    for part in (source or "").split(","):
        name = part.strip().removeprefix("hashset:").rsplit(" v", 1)[0]
        if name and name not in names:
            names.append(name)
    if not names:
        return "a hash set"
    return ("hash set " if len(names) == 1 else "hash sets ") + ", ".join(names)


def anchor_of(
    scheme: Scheme,
    reviewed: tuple[str, str] | None,
    hashed: tuple[str | None, bool, str | None] | None,
) -> Anchor | None:
    """An item's anchor from its reviewer decision ``(code, user)`` and hash-set decision
    ``(code, known_good, sources)``: the reviewer outranks the hash sets."""
    if reviewed is not None:
        return _graded(scheme, reviewed[0], f"reviewer {reviewed[1]}")
    if hashed is None:
        return None
    category, known_good, source = hashed
    if known_good:
        return Anchor(-1, None, hash_set_names(source))
    return _graded(scheme, category, hash_set_names(source)) if category else None


def _graded(scheme: Scheme, code: str, by: str) -> Anchor | None:
    category = next((c for c in scheme.categories if c.code == code), None)
    if category is None or not (category.indecent or category.ignorable):
        return None
    return Anchor(1 if category.indecent else -1, code, by)


def anchors(facts: Iterable[ItemFacts], scheme: Scheme) -> dict[int, Anchor]:
    """Every anchored item of ``facts``."""
    found = {}
    for f in facts:
        reviewed = (f.reviewed, f.reviewer or "") if f.reviewed is not None else None
        hashed = (f.category, f.known_good, f.hash_source) if f.matched else None
        a = anchor_of(scheme, reviewed, hashed)
        if a is not None:
            found[f.id] = a
    return found


def associate(
    item_id: int,
    neighbourhoods: Iterable[Neighbourhood],
    known: Mapping[int, Anchor],
    w: Weights,
) -> list[Reason]:
    """One reason per (cluster, polarity) the item shares with anchored material."""
    reasons: list[Reason] = []
    for n in neighbourhoods:
        found = [(m, known[m]) for m in n.members if m != item_id and m in known]
        for polarity, table, suffix in ((1, w.raise_by, ""), (-1, w.lower_by, BENIGN)):
            if n.kind not in table:
                continue
            hits = [(m, a) for m, a in found if a.polarity == polarity]
            if not hits:
                continue
            weight = round(table[n.kind] * n.confidence * w.scale(len(hits)), 3)
            about = counted(a for _, a in hits)
            phrase = PHRASES.get(n.kind, "same " + n.kind + " ({label}) as {about}")
            detail = phrase.format(label=n.label, about=about)
            ids = sorted(m for m, _ in hits)
            listed = ", ".join(str(i) for i in ids[:ANCHOR_LIST])
            more = f" and {len(ids) - ANCHOR_LIST} more" if len(ids) > ANCHOR_LIST else ""
            provenance = f"{n.kind} cluster {n.key}; anchors: items {listed}{more}"
            reasons.append(Reason(PREFIX + n.kind + suffix, weight, detail, provenance, about))
    return reasons


def counted(found: Iterable[Anchor]) -> str:
    """``16 pictures categorised A by hash set UK-A and 1 categorised A by reviewer x``."""
    counts = Counter(a.label for a in found)
    parts = []
    for k, (label, n) in enumerate(sorted(counts.items(), key=lambda p: (-p[1], p[0]))):
        noun = ("picture " if n == 1 else "pictures ") if k == 0 else ""
        parts.append(f"{n} {noun}{label}")
    return " and ".join(parts)


def known_split(members: Sequence[int], known: Mapping[int, Anchor]) -> dict[str, int]:
    """How a cluster's members divide: per anchor label, and how many are unknown."""
    split: Counter[str] = Counter()
    for m in members:
        a = known.get(m)
        split[a.label if a else "unknown"] += 1
    return dict(sorted(split.items()))


def is_association(signal: str) -> bool:
    return signal.startswith(PREFIX)
