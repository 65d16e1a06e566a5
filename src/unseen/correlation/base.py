"""Groupings: plugins that find clusters (same camera, same place, same scene...).

A grouping reads the case's ``ItemFacts`` (and, for heavy signals, its own tables
written by the deep pass) and returns clusters, each with members, a confidence and
the reason every member belongs. Groupings never write: the correlation stage stores
their clusters, so a rerun replaces them whole.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, overload

from sqlalchemy import Connection

from unseen.core.registry import Registry
from unseen.core.settings import Settings
from unseen.correlation.facts import ItemFacts


@dataclass(frozen=True, slots=True)
class Member:
    item_id: int
    reason: str
    score: float = 1.0


class SameReason(Sequence[Member]):
    """Members that all belong for the same reason (score 1): their ids in an array and
    the reason once, each ``Member`` made when read. As objects they held about 64
    bytes a member: 0.15 GB at a million items over the camera, folder and place
    groupings, whose members are most of a case's."""

    __slots__ = ("_ids", "reason")

    def __init__(self, ids: Iterable[int], reason: str) -> None:
        self._ids = array("q", ids)
        self.reason = reason

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
            return tuple(Member(i, self.reason) for i in self._ids[index])
        return Member(self._ids[index], self.reason)

    def __iter__(self) -> Iterator[Member]:
        reason = self.reason
        return (Member(i, reason) for i in self._ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))


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
    members: Sequence[Member]  # a tuple, or ``SameReason``
    details: dict[str, Any] = field(default_factory=dict)


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
    def group(self, facts: list[ItemFacts], conn: Connection) -> Iterable[Cluster]:
        """Clusters among ``facts`` (``conn`` reads deep-pass tables, read-only)."""


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
    def signals(self, facts: list[ItemFacts], conn: Connection) -> Iterable[Signal]:
        """Signals about items among ``facts`` (``conn`` reads the case, read-only)."""


ITEM_SIGNALS: Registry[type[ItemSignals]] = Registry("item signals")
