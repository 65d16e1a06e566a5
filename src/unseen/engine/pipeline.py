"""Per-item work as a pure function of (source, item) -> record.

Nothing here touches the case database: the function opens the item through its
source, runs the analysers in dependency order and returns a ``FileRecord``. It runs
the same in this process, a process pool, or a distributed worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from unseen import plugins
from unseen.analysis.base import FileAnalyser, ItemContext, ordered
from unseen.analysis.filetype import HEAD_BYTES
from unseen.core.models import FileRecord, ItemTask
from unseen.core.settings import Settings
from unseen.sources.base import open_source

log = logging.getLogger(__name__)
READ = "read"


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """What every worker needs besides the task: settings, where thumbnails go, which
    analysers to run (None: all registered)."""

    settings: Settings
    thumbs_dir: str
    analysers: tuple[str, ...] | None = None


_instances: dict[tuple[str, ...] | None, list[FileAnalyser]] = {}


def analysers_for(config: WorkerConfig) -> list[FileAnalyser]:
    """One instance of each analyser per process, in dependency order."""
    found = _instances.get(config.analysers)
    if found is None:
        names = list(config.analysers) if config.analysers else None
        found = _instances[config.analysers] = [cls() for cls in ordered(names)]
    return found


def describe(exc: BaseException) -> str:
    """An exception as a one-line message for the item's error list."""
    message = str(exc) or exc.__class__.__name__
    return message if isinstance(exc, OSError) else f"{exc.__class__.__name__}: {message}"


def process_item(task: ItemTask, config: WorkerConfig) -> FileRecord:
    """Analyse one item; every failure is recorded in the returned record, none raised."""
    plugins.load()  # a fresh worker process registers the plugins once
    record = FileRecord(item_id=task.item_id)
    try:
        stream = open_source(task.source).open(task.locator)
    except Exception as exc:  # hostile evidence: any failure becomes a recorded error
        record.error(READ, f"cannot open: {describe(exc)}")
        return record
    with stream:
        ctx = ItemContext(task, record, config.settings, Path(config.thumbs_dir), stream)
        try:
            ctx.head = stream.read(HEAD_BYTES)
        except OSError as exc:
            record.error(READ, f"cannot read: {describe(exc)}")
            return record
        for analyser in analysers_for(config):
            _run(analyser, ctx)
    return record


def _run(analyser: FileAnalyser, ctx: ItemContext) -> None:
    try:
        if not analyser.applies_to(ctx):
            return
        ctx.record.analysers[analyser.NAME] = analyser.VERSION
        analyser.analyse(ctx)
    except Exception as exc:  # one analyser failing must not stop the others
        ctx.record.error(analyser.NAME, describe(exc))
        log.debug("%s failed on %s", analyser.NAME, ctx.task.path, exc_info=True)


def process_batch(tasks: list[ItemTask], config: WorkerConfig) -> list[FileRecord]:
    """``process_item`` over a batch: fewer round trips between processes."""
    return [process_item(task, config) for task in tasks]
