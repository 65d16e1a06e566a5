"""Per-item work as a pure function of (source, item) -> record.

Nothing here touches the case database: the function opens the item through its
source, runs the analysers in dependency order and returns a ``FileRecord``. It runs
the same in this process, a process pool, or a distributed worker.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import socket
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from unseen import plugins
from unseen.analysis.base import ANALYSERS, FileAnalyser, ItemContext, ordered
from unseen.analysis.filetype import HEAD_BYTES
from unseen.core.errors import UnseenError
from unseen.core.models import FileRecord, ItemTask
from unseen.core.registry import Registry
from unseen.core.settings import Settings
from unseen.engine.remote import map_task, mapped
from unseen.sources.base import SOURCES, open_source
from unseen.sources.containers import CONTAINERS

log = logging.getLogger(__name__)
READ = "read"
_HOST = socket.gethostname()


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """What every worker needs besides the task: settings, where thumbnails go, which
    analysers to run (None: all registered) and which plugin modules to import (empty:
    every plugin; see ``worker_plugin_modules``)."""

    settings: Settings
    thumbs_dir: str
    analysers: tuple[str, ...] | None = None
    plugin_modules: tuple[str, ...] = ()
    # Where workers on other machines find what this one calls a path: (prefix here,
    # prefix there) pairs, e.g. ("/cases", "/mnt/cases"); the first that fits wins.
    path_map: tuple[tuple[str, str], ...] = ()
    # On another machine: a source that cannot be seen at all is refused (so it can
    # be tried elsewhere) instead of recorded as unreadable on every item.
    remote: bool = False

    def mapped(self, path: str) -> str:
        """``path`` as a worker sees it."""
        return mapped(path, self.path_map)


def worker_plugin_modules() -> tuple[str, ...]:
    """The built-in modules that define the registered sources, container readers and
    analysers, in load order; empty (load everything) if any other plugin is present.

    Call after ``plugins.load()``. Workers need only these: the stages, reports and
    exporters of the other plugins run in the main process, and importing them would
    cost every worker about half a second. Third-party plugins may change decoding
    without registering anything, so with any installed, workers load them all.
    """
    if os.environ.get("UNSEEN_LOAD_PLUGINS", "1") != "0" and entry_points(
        group=plugins.ENTRY_POINT_GROUP
    ):
        return ()
    registries: tuple[Registry[Any], ...] = (SOURCES, CONTAINERS, ANALYSERS)
    needed = {cls.__module__ for registry in registries for cls in registry}
    if not needed <= set(plugins.BUILTIN_MODULES):
        return ()  # something is registered by a module other than its own
    return tuple(name for name in plugins.BUILTIN_MODULES if name in needed)


def _load_plugins(config: WorkerConfig) -> None:
    """Register, once per process, what the analysis needs (a fresh worker has nothing)."""
    if config.plugin_modules in _loaded:
        return
    if config.plugin_modules:
        for name in config.plugin_modules:
            importlib.import_module(name)
    else:
        plugins.load()
    _loaded.add(config.plugin_modules)


_loaded: set[tuple[str, ...]] = set()


_instances: dict[tuple[str, ...] | None, list[FileAnalyser]] = {}


def analysers_for(config: WorkerConfig) -> list[FileAnalyser]:
    """One instance of each analyser per process, in dependency order."""
    found = _instances.get(config.analysers)
    if found is None:
        names = list(config.analysers) if config.analysers else None
        found = _instances[config.analysers] = [cls() for cls in ordered(names)]
    return found


def describe(exc: BaseException) -> str:
    """An exception as a one-line message for the item's error list.

    A system error gives its reason alone (``Permission denied``), not the host path
    of the evidence it names; our own errors are already worded for the examiner; any
    other exception keeps its class name, which tells a developer where it came from.
    """
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    message = str(exc) or exc.__class__.__name__
    if isinstance(exc, OSError | UnseenError):
        return message
    return f"{exc.__class__.__name__}: {message}"


def process_item(task: ItemTask, config: WorkerConfig) -> FileRecord:
    """Analyse one item; every failure is recorded in the returned record, none raised."""
    _load_plugins(config)
    record = FileRecord(item_id=task.item_id, worker=f"{_HOST}:{os.getpid()}")
    try:
        stream = open_source(task.source).open(task.locator)
    except Exception as exc:  # hostile evidence: any failure becomes a recorded error
        record.error(READ, f"cannot open: {describe(exc)}")
        return record
    with stream:
        ctx = ItemContext(task, record, config.settings, Path(config.thumbs_dir), stream)
        try:
            ctx.head = stream.read(HEAD_BYTES)
        except Exception as exc:  # a reader off its OSError contract must not stop the run
            record.error(READ, f"cannot read: {describe(exc)}")
            return record
        for analyser in analysers_for(config):
            _run(analyser, ctx)
    return record


def _run(analyser: FileAnalyser, ctx: ItemContext) -> None:
    try:
        if not analyser.applies_to(ctx):
            return
        ctx.record.analysers[analyser.NAME] = analyser.version(ctx.settings)
        analyser.analyse(ctx)
    except Exception as exc:  # one analyser failing must not stop the others
        ctx.record.error(analyser.NAME, describe(exc))
        log.debug("%s failed on %s", analyser.NAME, ctx.task.path, exc_info=True)


def process_batch(tasks: list[ItemTask], config: WorkerConfig) -> list[FileRecord]:
    """``process_item`` over a batch: fewer round trips between processes."""
    if config.remote:
        tasks = [map_task(task, config.path_map) for task in tasks]
        config = dataclasses.replace(config, thumbs_dir=config.mapped(config.thumbs_dir))
    return [process_item(task, config) for task in tasks]
