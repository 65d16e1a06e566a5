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

import heapq
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
    members: Sequence[int]
    # Its anchors of each polarity (raising, lowering) when counted where it was made:
    # the whole-case ranking reads members from the store, and holds none.
    anchors: tuple[Held, Held] | None = None


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


@dataclass(frozen=True, slots=True)
class Held:
    """The anchors of one polarity in one cluster: counts per label, how many, and the
    lowest ids (as many as a reason names, and one more for the member that is one
    of them itself): a camera's hundred thousand anchors are not held one by one."""

    polarity: int
    counts: Counter[str]
    total: int
    ids: tuple[int, ...]

    @classmethod
    def of(cls, members: Iterable[int], known: Mapping[int, Anchor], polarity: int) -> Held:
        """The anchors of ``polarity`` among ``members``."""
        ids = [m for m in members if (a := known.get(m)) is not None and a.polarity == polarity]
        if not ids:  # most groups: one shared instance (a run keeps one per group)
            return _NONE[polarity]
        counts = Counter(known[m].label for m in ids)
        return cls(polarity, counts, len(ids), tuple(heapq.nsmallest(ANCHOR_LIST + 1, ids)))

    def without(self, item_id: int, anchor: Anchor | None) -> Held:
        """The same, seen from a member that may itself be one of the anchors."""
        if anchor is None or anchor.polarity != self.polarity:
            return self
        counts = self.counts.copy()
        counts[anchor.label] -= 1
        ids = tuple(i for i in self.ids if i != item_id)[:ANCHOR_LIST]
        return Held(self.polarity, +counts, self.total - 1, ids)


_NONE = {polarity: Held(polarity, Counter(), 0, ()) for polarity in (1, -1)}


class Associator:
    """Association reasons for many items, each cluster's anchors counted once.

    Counting per item would cost (members x anchors) for every cluster; a folder of
    50 000 pictures would take minutes. Here each cluster is read once per polarity.
    """

    def __init__(self, known: Mapping[int, Anchor], weights: Weights) -> None:
        self.known = known
        self.w = weights
        self._held: dict[tuple[int, int], Held] = {}
        self._reasons: dict[tuple[int, int], Reason] = {}

    def held(self, n: Neighbourhood, polarity: int) -> Held:
        if n.anchors is not None:
            return n.anchors[0 if polarity == 1 else 1]
        key = (id(n), polarity)
        found = self._held.get(key)
        if found is None:
            found = self._held[key] = Held.of(n.members, self.known, polarity)
        return found

    def reasons(self, item_id: int, neighbourhoods: Iterable[Neighbourhood]) -> list[Reason]:
        """One reason per (cluster, polarity) the item shares with anchored material."""
        found: list[Reason] = []
        for n in neighbourhoods:
            for polarity, table, suffix in (
                (1, self.w.raise_by, ""),
                (-1, self.w.lower_by, BENIGN),
            ):
                if n.kind not in table:
                    continue
                shared = self.held(n, polarity)
                held = shared.without(item_id, self.known.get(item_id))
                if not held.total:
                    continue
                if held is not shared:  # the item is an anchor itself: its own count
                    found.append(self._reason(n, held, table[n.kind], suffix))
                    continue
                key = (id(n), polarity)
                if key not in self._reasons:  # the same for every other member
                    self._reasons[key] = self._reason(n, held, table[n.kind], suffix)
                found.append(self._reasons[key])
        return found

    def _reason(self, n: Neighbourhood, held: Held, weight: float, suffix: str) -> Reason:
        about = counted(held.counts)
        phrase = PHRASES.get(n.kind, "same " + n.kind + " ({label}) as {about}")
        listed = ", ".join(str(i) for i in held.ids[:ANCHOR_LIST])
        more = held.total - ANCHOR_LIST
        provenance = f"{n.kind} cluster {n.key}; anchors: items {listed}"
        provenance += f" and {more} more" if more > 0 else ""
        return Reason(
            PREFIX + n.kind + suffix,
            round(weight * n.confidence * self.w.scale(held.total), 3),
            phrase.format(label=n.label, about=about),
            provenance,
            about,
        )


def counted(counts: Counter[str]) -> str:
    """``16 pictures categorised A by hash set UK-A and 1 categorised A by reviewer x``."""
    parts = []
    for k, (label, n) in enumerate(sorted(counts.items(), key=lambda p: (-p[1], p[0]))):
        noun = ("picture " if n == 1 else "pictures ") if k == 0 else ""
        parts.append(f"{n} {noun}{label}")
    return " and ".join(parts)


def is_association(signal: str) -> bool:
    return signal.startswith(PREFIX)
