"""Per-item work of the phones stage, a pure function of plain data.

``parse_item`` runs the named message parsers on one database item and returns what
each read, with every failure recorded (never raised), in this process or a worker.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, fields, replace
from itertools import starmap
from operator import attrgetter
from typing import Any

from unseen import plugins
from unseen.engine.driver import CRASHED
from unseen.engine.pipeline import describe
from unseen.internet.base import ParseContext, ParseTask, TooLarge
from unseen.phones.base import MESSAGE_PARSERS, Window
from unseen.phones.model import Extract, Message


@dataclass(frozen=True, slots=True)
class ParserOutcome:
    """How one parser did on one item: ``ok``, ``empty`` or ``failed``."""

    parser: str
    version: str
    status: str
    extract: Extract | None
    errors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What the parsers read from one item, or from chunk ``part`` of ``parts`` of it."""

    item_id: int
    path: str
    outcomes: tuple[ParserOutcome, ...]
    part: int = 0
    parts: int = 1
    # The outcomes' extracts, pickled, when they cross from a pool worker (``pack``).
    packed: bytes | None = None


@dataclass(frozen=True, slots=True)
class ChunkTask:
    """One chunk of a large database: the messages of ``window`` (keys from the
    survey), read by the item's one parser as chunk ``part`` of ``parts``."""

    task: ParseTask
    window: Window
    part: int
    parts: int

    @property
    def item_id(self) -> int:
        return self.task.item_id


@dataclass(frozen=True, slots=True)
class Survey:
    """Where a database splits into chunks (``bounds``: the first key of every chunk
    after the first); None when it is read whole."""

    item_id: int
    bounds: tuple[int, ...] | None


def parse_item(task: ParseTask | ChunkTask) -> ItemOutcome:
    """Run every parser of ``task`` on its item; failures are recorded, never raised."""
    plugins.load()
    if isinstance(task, ChunkTask):
        item, part = task.task, task
    else:
        item, part = task, None
    outcomes = tuple(_run(item, n, part) for n in item.parsers)
    if part is None:
        return ItemOutcome(item.item_id, item.path, outcomes)
    return ItemOutcome(item.item_id, item.path, outcomes, part.part, part.parts)


def _run(task: ParseTask, name: str, part: ChunkTask | None = None) -> ParserOutcome:
    try:
        cls = MESSAGE_PARSERS.get(name)
    except KeyError as exc:
        return ParserOutcome(name, "?", "failed", None, (str(exc),))
    ctx = ParseContext(task, cls.NAME, cls.VERSION)
    extract = None
    try:
        if task.size is not None and task.size > cls.MAX_BYTES:
            raise TooLarge(f"{task.size} bytes, over the {cls.MAX_BYTES}-byte limit for {name}")
        parser = cls()
        parser.window = part.window if part else None
        extract = parser.parse(ctx)
    except Exception as exc:  # hostile evidence: any failure becomes a recorded error
        ctx.error(describe(exc))
    finally:
        ctx.cleanup()
    status = "failed" if extract is None else ("ok" if extract.records() else "empty")
    return ParserOutcome(name, cls.VERSION, status, extract, tuple(ctx.errors))


def parse_batch(tasks: list[ParseTask | ChunkTask]) -> list[ItemOutcome]:
    return [parse_item(task) for task in tasks]


def parse_packed(tasks: list[ParseTask | ChunkTask]) -> list[ItemOutcome]:
    """``parse_batch`` for a pool: each outcome with its extracts packed."""
    return [pack(parse_item(task)) for task in tasks]


def pack(item: ItemOutcome) -> ItemOutcome:
    """The outcome with its extracts pickled into one bytes object.

    A pool's results are unpickled as they arrive and wait there for the writer, up to
    three per worker: as bytes a chunk's messages take a fifth of the memory they take
    as objects, so the writer's memory stays bounded by the one chunk it is storing."""
    extracts = tuple(_flat(o.extract) for o in item.outcomes)
    bare = tuple(replace(o, extract=None) for o in item.outcomes)
    return replace(item, outcomes=bare, packed=pickle.dumps(extracts, protocol=5))


# A message's fields in constructor order, read at C speed into one plain tuple: a
# tuple pickles and unpickles several times faster than an object rebuilt by reduce.
_FIELDS = attrgetter(*(f.name for f in fields(Message)))


def _flat(extract: Extract | None) -> tuple[Extract, list[tuple[Any, ...]]] | None:
    if extract is None:
        return None
    return replace(extract, messages=[]), list(map(_FIELDS, extract.messages))


def _whole(flat: tuple[Extract, list[tuple[Any, ...]]] | None) -> Extract | None:
    if flat is None:
        return None
    extract, rows = flat
    extract.messages = list(starmap(Message, rows))
    return extract


def unpack(item: ItemOutcome) -> ItemOutcome:
    """The outcome with the extracts that ``pack`` pickled (our own worker's data)."""
    if item.packed is None:
        return item
    extracts = [_whole(flat) for flat in pickle.loads(item.packed)]
    outcomes = tuple(replace(o, extract=e) for o, e in zip(item.outcomes, extracts, strict=True))
    return replace(item, outcomes=outcomes, packed=None)


def crashed(task: ParseTask | ChunkTask) -> ItemOutcome:
    """The outcome recorded for an item (or chunk) whose parsing killed its worker."""
    item = task.task if isinstance(task, ChunkTask) else task
    failed = tuple(ParserOutcome(n, "?", "failed", None, (CRASHED,)) for n in item.parsers)
    if isinstance(task, ChunkTask):
        return ItemOutcome(item.item_id, item.path, failed, task.part, task.parts)
    return ItemOutcome(item.item_id, item.path, failed)


def survey_item(task: ParseTask, every: int) -> Survey:
    """Where the item's one parser splits it into chunks of about ``every`` messages.
    Any failure means "read it whole": the whole read then records the failure."""
    plugins.load()
    try:
        cls = MESSAGE_PARSERS.get(task.parsers[0])
        ctx = ParseContext(task, cls.NAME, cls.VERSION)
        try:
            bounds = cls().chunk_bounds(ctx, every)
        finally:
            ctx.cleanup()
    except Exception:  # hostile evidence: the whole read records what went wrong
        bounds = None
    return Survey(task.item_id, tuple(bounds) if bounds else None)


def survey_batch(every: int, tasks: list[ParseTask]) -> list[Survey]:
    return [survey_item(task, every) for task in tasks]


def unsurveyed(task: ParseTask) -> Survey:
    """A survey that killed its worker: the item is read whole (and records that)."""
    return Survey(task.item_id, None)
