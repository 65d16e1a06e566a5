"""Groupings: plugins that find clusters (same camera, same place, same scene...).

A grouping reads the case's facts (``Facts``, and, for heavy signals, its own tables
written by the deep pass) and returns clusters, each with members, a confidence and
the reason every member belongs. Groupings never write: the correlation stage stores
their clusters, so a rerun replaces them whole.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any, ClassVar, overload

from sqlalchemy import Connection

from unseen.core.registry import Registry
from unseen.core.settings import Settings
from unseen.correlation.facts import Facts


@dataclass(frozen=True, slots=True)
class Member:
    item_id: int
    reason: str
    score: float = 1.0


class Members(Sequence[Member], ABC):
    """Members kept as arrays (ids, and what each member's reason is made of), each
    ``Member`` made when read: as objects with their own reason strings, a grouping's
    members held 64 to 300 bytes each, and most of a case's items are members of
    several groupings. Read like the tuple of members they stand for."""

    __slots__ = ("_ids",)

    def __init__(self) -> None:
        self._ids = array("q")

    @abstractmethod
    def _member(self, k: int) -> Member:
        """The ``k``-th member (0 <= k < len)."""

    @property
    def ids(self) -> Sequence[int]:
        """The members' item ids, as held (not to be changed)."""
        return self._ids

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Member: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Member, ...]: ...
    def __getitem__(self, index: int | slice) -> Member | tuple[Member, ...]:
        if isinstance(index, slice):
            return tuple(self._member(k) for k in range(*index.indices(len(self))))
        return self._member(range(len(self))[index])

    def __iter__(self) -> Iterator[Member]:
        return (self._member(k) for k in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))


class SameReason(Members):
    """Members that all belong for the same reason (score 1): the camera, folder and
    place groupings, whose members are most of a case's."""

    __slots__ = ("reason",)

    def __init__(self, ids: Iterable[int], reason: str) -> None:
        super().__init__()
        self._ids.extend(ids)
        self.reason = reason

    def _member(self, k: int) -> Member:
        return Member(self._ids[k], self.reason)

    def __iter__(self) -> Iterator[Member]:
        reason = self.reason
        return (Member(i, reason) for i in self._ids)


class Taken(Members):
    """Members that belong by when they were taken (score 1), each reason "taken
    HH:MM:SS" and a rest shared by many ("in session ...", "by Canon EOS 80D"): the
    time of day in an array and each distinct rest once."""

    __slots__ = ("_rest", "_rests", "_seconds")

    def __init__(self, members: Iterable[tuple[int, time, str]]) -> None:
        super().__init__()
        self._seconds, self._rest = array("i"), array("I")
        index: dict[str, int] = {}
        for item_id, when, rest in members:
            self._ids.append(item_id)
            self._seconds.append(when.hour * 3600 + when.minute * 60 + when.second)
            self._rest.append(index.setdefault(rest, len(index)))
        self._rests = list(index)

    def _member(self, k: int) -> Member:
        hours, rest = divmod(self._seconds[k], 3600)
        reason = f"taken {hours:02d}:{rest // 60:02d}:{rest % 60:02d}{self._rests[self._rest[k]]}"
        return Member(self._ids[k], reason)


@dataclass(frozen=True, slots=True)
class Cluster:
    """A group of items that belong together for one reason.

    Attributes:
        kind: the grouping's kind: duplicate, near_duplicate, camera, device, sensor,
            scene, place, session, identity.
        key: stable identity of the cluster within its kind (e.g. camera serial).
        label: what a person reads ("Canon EOS 80D serial 183012345678").
        confidence: 0..1, how sure the grouping is that the members belong together.
    """

    kind: str
    key: str
    label: str
    confidence: float
    members: Sequence[Member]  # a tuple, or ``Members``
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ids(self) -> Sequence[int]:
        """The members' item ids, without making ``Members``' member objects."""
        members = self.members
        return members.ids if isinstance(members, Members) else [m.item_id for m in members]


class Grouping(ABC):
    NAME: ClassVar[str]
    VERSION: ClassVar[str]
    KIND: ClassVar[str]
    DESCRIPTION: ClassVar[str]

    def __init__(self, settings: Settings | None = None) -> None:
        # The run's settings: thresholds that change clusters are read from here, so a
        # case that sets its own (case.toml, --set) groups by them and records them.
        self.settings = settings if settings is not None else Settings()

    @abstractmethod
    def group(self, facts: Facts, conn: Connection) -> Iterable[Cluster]:
        """Clusters among ``facts`` (``conn`` reads deep-pass tables, read-only).

        A grouping walks the facts with ``scan``, naming what it reads, and holds item
        ids rather than facts: a million items' facts held were two thirds of a
        gigabyte."""


GROUPINGS: Registry[type[Grouping]] = Registry("groupings")


@dataclass(frozen=True, slots=True)
class Signal:
    """One weighted fact about one item, from outside the groupings.

    ``signal`` names its weight (``[lead]`` in ``weights.toml`` or the case's
    ``leads.toml``, else the plugin's own default); ``detail`` is what the examiner
    reads and ``provenance`` where the fact was found (a database row, a library).
    ``about`` names known material the fact ties the item to, when it does ("series
    'S' from case 2025/117"): lists show it as what the lead is associated with.
    """

    item_id: int
    signal: str
    detail: str
    provenance: str = ""
    about: str = ""


class ItemSignals(ABC):
    """A plugin that adds reasons to single items' leads (messages, intelligence...).

    ``WEIGHTS`` are defaults: a unit overrides them in its weights file like any other.
    """

    NAME: ClassVar[str]
    VERSION: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    WEIGHTS: ClassVar[dict[str, float]]

    def __init__(self, settings: Settings | None = None) -> None:
        # The run's settings (the case's library, thresholds), as groupings get them.
        self.settings = settings if settings is not None else Settings()

    @abstractmethod
    def signals(self, facts: Facts, conn: Connection) -> Iterable[Signal]:
        """Signals about items among ``facts`` (``conn`` reads the case, read-only)."""


ITEM_SIGNALS: Registry[type[ItemSignals]] = Registry("item signals")
