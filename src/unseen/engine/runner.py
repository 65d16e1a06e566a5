"""The fast pass over a case: list every source, then analyse every pending item.

Work fans out to an executor (a process pool by default; any
``concurrent.futures.Executor`` will do, e.g. a Dask client's) in batches, and the
results come back to this process, the only writer of the case database. A worker
that dies (a decoder crashing on hostile input) breaks the pool: the batches in
flight are retried one item at a time, alone, so the item that kills its worker is
found and recorded as such, and everything else is still processed.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.forkserver
import os
import sys
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Protocol

from unseen import plugins
from unseen.analysis.base import ordered, versions
from unseen.analysis.thumbnail import remove_partial
from unseen.core.models import FileRecord, ItemTask
from unseen.core.settings import Settings
from unseen.engine.fanout import batched, fan_out
from unseen.engine.pipeline import (
    SourceUnreachable,
    WorkerConfig,
    process_batch,
    worker_plugin_modules,
)
from unseen.engine.stages import ordered_stages
from unseen.sources.base import close_sources, open_source
from unseen.sources.budget import charge
from unseen.sources.containers import Limits
from unseen.store import repo
from unseen.store.case import Case, current_user

if TYPE_CHECKING:
    from unseen.engine.distributed import DaskCluster

log = logging.getLogger(__name__)
ENUMERATION_CHUNK = 1000
CRASHED = "worker process died while analysing this item (a decoder crashed or ran out of memory)"


class Progress(Protocol):
    """What the runner reports as it goes; the CLI draws it.

    ``start`` says how much is still pending (files, bytes), at the beginning and
    again whenever items found inside items (archive members) add to it, so a total
    is always what is done plus what is pending: done never passes it.
    """

    def start(self, files: int, size: int) -> None: ...

    def advance(self, files: int, size: int) -> None: ...


class _Silent:
    def start(self, files: int, size: int) -> None:
        pass

    def advance(self, files: int, size: int) -> None:
        pass


@dataclass
class RunSummary:
    run_id: int
    listed: int = 0
    processed: int = 0
    bytes: int = 0
    errors: int = 0
    crashed: list[str] = field(default_factory=list)
    stages: dict[str, str] = field(default_factory=dict)


ExecutorFactory = Callable[[int], Executor]


_FAST_PASS_PACKAGES = ("unseen.sources.", "unseen.analysis.")


def _forkserver() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    # Imported once by the fork server, so workers fork ready instead of each importing:
    # what a fast-pass worker needs (pipeline.worker_plugin_modules decides exactly; this
    # is a warm-up) and, under the ``unseen`` command, the CLI that every worker
    # re-imports as its main module.
    fast_pass = [m for m in plugins.BUILTIN_MODULES if m.startswith(_FAST_PASS_PACKAGES)]
    preload = ["unseen.engine.pipeline", *fast_pass]
    if "unseen.cli.main" in sys.modules:
        preload.append("unseen.cli.main")
    context.set_forkserver_preload(preload)
    return context


def process_pool(workers: int) -> Executor:
    """A process pool whose workers start from a clean fork server, not a copy of us."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=_forkserver())


def start_process_pool() -> None:
    """Start the fork server now: its imports then overlap listing the evidence."""
    _forkserver()
    multiprocessing.forkserver.ensure_running()


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def enumerate_sources(case: Case, settings: Settings | None = None) -> int:
    """List every entry of every source not yet fully listed; returns entries added.

    ``settings`` carries the limits sources apply while listing (archive bombs,
    carving of disk images); the defaults when not given.
    """
    plugins.load()
    added = 0
    with case.engine.connect() as conn:
        specs = repo.source_specs(conn, only_unenumerated=True)
    for spec in specs:
        source = open_source(spec)
        source.settings = settings or Settings()
        entries = source.entries()
        while chunk := list(islice(entries, ENUMERATION_CHUNK)):
            with case.engine.begin() as conn:
                added += repo.insert_entries(conn, spec.id, chunk)
        with case.engine.begin() as conn:
            repo.mark_enumerated(conn, spec.id)
        log.info("listed source %s (%s)", spec.label, spec.path)
    return added


def process_case(
    case: Case,
    workers: int | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    executor_factory: ExecutorFactory = process_pool,
    cluster: DaskCluster | None = None,
    path_map: tuple[tuple[str, str], ...] = (),
) -> RunSummary:
    """List and analyse everything pending in the case; safe to rerun after a kill.

    With ``cluster`` the fast pass runs on its Dask workers, which see the case's
    paths through ``path_map`` ((prefix here, prefix there) pairs).
    """
    task_errors: tuple[type[BaseException], ...] = ()
    if cluster is not None:
        workers, executor_factory = cluster.workers(), cluster.executor
        task_errors = cluster.task_errors
    workers = default_workers() if workers is None else workers
    if workers and executor_factory is process_pool:
        start_process_pool()  # first, so its imports overlap ours and the listing
    plugins.load()
    settings = settings or Settings()
    progress = progress or _Silent()
    run_id = repo.start_run(
        case, workers, versions(ordered()), settings, case.info.get("examiner") or current_user()
    )
    summary = RunSummary(run_id)
    remove_partial(case.thumbs_dir)  # left by a run killed mid-write
    summary.listed = enumerate_sources(case, settings)
    config = WorkerConfig(
        settings,
        str(case.thumbs_dir),
        plugin_modules=worker_plugin_modules(),
        path_map=path_map,
        remote=cluster is not None,
    )
    limits = Limits.from_settings(settings)  # one expansion budget per source
    with case.engine.connect() as conn:
        specs = {spec.id: spec for spec in repo.source_specs(conn)}
    # Items can add items (archive members): go round until nothing is pending.
    while True:
        with case.engine.connect() as conn:
            files, size = repo.pending_totals(conn)
        if not files:
            break
        progress.start(files, size)
        with case.engine.connect() as reader:
            batches = batched(repo.pending_tasks(reader, specs, 1000), settings.batch_size)
            if workers == 0:
                for batch in batches:
                    _store(
                        case,
                        run_id,
                        process_batch(batch, config),
                        summary=summary,
                        progress=progress,
                        limits=limits,
                    )
            else:
                fan_out(
                    executor_factory,
                    workers,
                    partial(process_batch, config=config),
                    batches,
                    partial(
                        _store, case, run_id, summary=summary, progress=progress, limits=limits
                    ),
                    partial(_crashed, summary=summary),
                    task_errors,
                    partial(_failed, summary=summary),
                )
    close_sources()
    for stage in ordered_stages():
        if stage.NAME in settings.skip:
            summary.stages[stage.NAME] = "skipped"
            continue
        summary.stages[stage.NAME] = stage().run(case, settings, workers)
        log.info("stage %s: %s", stage.NAME, summary.stages[stage.NAME])
    repo.finish_run(case, run_id)
    log.info("run %d: %d items, %d errors", run_id, summary.processed, summary.errors)
    return summary


def _store(
    case: Case,
    run_id: int,
    records: list[FileRecord],
    *,
    summary: RunSummary,
    progress: Progress,
    limits: Limits,
) -> None:
    with case.engine.begin() as conn:
        charge(conn, records, limits)
        repo.write_records(conn, run_id, records)
        found_inside = any(r.children for r in records)
        pending = repo.pending_totals(conn) if found_inside else None
    done = sum(r.size or 0 for r in records)
    summary.processed += len(records)
    summary.bytes += done
    summary.errors += sum(1 for r in records if r.errors)
    progress.advance(len(records), done)
    if pending is not None:  # members of an archive or disk: the totals grow, now
        progress.start(*pending)


def _crashed(task: ItemTask, summary: RunSummary) -> FileRecord:
    log.error("worker died on %s (item %d)", task.path, task.item_id)
    summary.crashed.append(task.path)
    record = FileRecord(item_id=task.item_id)
    record.error("engine", CRASHED)
    return record


def _failed(task: ItemTask, error: BaseException, summary: RunSummary) -> FileRecord:
    """An item no worker of a cluster could finish: quarantined, with the reason."""
    if isinstance(error, SourceUnreachable):
        message = f"no worker could read this item's source: {error}"
    else:
        message = f"{CRASHED}; quarantined after it ended every worker that tried it"
        summary.crashed.append(task.path)
    log.error("item %d (%s) failed on the cluster: %s", task.item_id, task.path, error)
    record = FileRecord(item_id=task.item_id)
    record.error("engine", message)
    return record
