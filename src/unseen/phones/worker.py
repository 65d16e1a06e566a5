"""Per-item work of the phones stage, a pure function of plain data.

``parse_item`` runs the named message parsers on one database item and returns what
each read, with every failure recorded (never raised), in this process or a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from unseen import plugins
from unseen.engine.driver import CRASHED
from unseen.engine.pipeline import describe
from unseen.internet.base import ParseContext, ParseTask, TooLarge
from unseen.phones.base import MESSAGE_PARSERS
from unseen.phones.model import Extract


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
    item_id: int
    path: str
    outcomes: tuple[ParserOutcome, ...]


def parse_item(task: ParseTask) -> ItemOutcome:
    """Run every parser of ``task`` on its item; failures are recorded, never raised."""
    plugins.load()
    return ItemOutcome(task.item_id, task.path, tuple(_run(task, n) for n in task.parsers))


def _run(task: ParseTask, name: str) -> ParserOutcome:
    try:
        cls = MESSAGE_PARSERS.get(name)
    except KeyError as exc:
        return ParserOutcome(name, "?", "failed", None, (str(exc),))
    ctx = ParseContext(task, cls.NAME, cls.VERSION)
    extract = None
    try:
        if task.size is not None and task.size > cls.MAX_BYTES:
            raise TooLarge(f"{task.size} bytes, over the {cls.MAX_BYTES}-byte limit for {name}")
        extract = cls().parse(ctx)
    except Exception as exc:  # hostile evidence: any failure becomes a recorded error
        ctx.error(describe(exc))
    finally:
        ctx.cleanup()
    status = "failed" if extract is None else ("ok" if extract.records() else "empty")
    return ParserOutcome(name, cls.VERSION, status, extract, tuple(ctx.errors))


def parse_batch(tasks: list[ParseTask]) -> list[ItemOutcome]:
    return [parse_item(task) for task in tasks]


def crashed(task: ParseTask) -> ItemOutcome:
    """The outcome recorded for an item whose parsing killed its worker process."""
    return ItemOutcome(
        task.item_id,
        task.path,
        tuple(ParserOutcome(n, "?", "failed", None, (CRASHED,)) for n in task.parsers),
    )
