"""``unseen process``: list every source, analyse every pending item (the fast pass),
then run every registered job in dependency order.

The fast pass's batches go through the one driver (``engine.driver``) to a process
pool or any ``concurrent.futures`` executor (a Dask client's) and come back to this
process, the only writer of the case database; a worker that dies costs only the item
that killed it. Each stored batch records its analysers in the ledger, and items an
analyser did in another version are sent back to the fast pass first, so a version
bump redoes exactly what it touched. The jobs after the fast pass (parsers, deep
analysers, matching, correlation, plugins' jobs) run where the fast pass ran.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Connection

from unseen import plugins
from unseen.analysis.base import ordered, versions
from unseen.analysis.thumbnail import remove_partial
from unseen.core.jobs import CASE_WIDE, CaseJob, ItemJob, JobProgress, Workers
from unseen.core.models import FileRecord, ItemTask
from unseen.core.settings import Settings
from unseen.engine.driver import (
    CRASHED,
    ExecutorFactory,
    default_workers,
    dependents,
    drive,
    ordered_jobs,
    process_pool,
    run_item_job,
    start_process_pool,
)
from unseen.engine.pipeline import (
    WorkerConfig,
    process_batch,
    worker_plugin_modules,
)
from unseen.engine.remote import SourceUnreachable, TaskLost
from unseen.sources.base import close_sources, open_source
from unseen.sources.budget import charge
from unseen.sources.containers import Limits
from unseen.store import done, repo
from unseen.store.case import Case, current_user

if TYPE_CHECKING:
    from unseen.engine.distributed import DaskCluster

log = logging.getLogger(__name__)
ENUMERATION_CHUNK = 1000


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
    with case.engine.begin() as conn:
        reopen_stale(conn, settings)
    pool = Workers(workers, executor_factory, task_errors)
    ledger = FastLedger.now()
    # Items can add items (archive members): go round until nothing is pending.
    while True:
        with case.engine.connect() as conn:
            files, size = repo.pending_totals(conn)
        if not files:
            break
        progress.start(files, size)
        with case.engine.connect() as reader:
            drive(
                partial(process_batch, config=config),
                repo.pending_tasks(reader, specs, 1000),
                partial(
                    _store,
                    case,
                    run_id,
                    summary=summary,
                    progress=progress,
                    limits=limits,
                    ledger=ledger,
                ),
                partial(_crashed, summary=summary),
                pool,
                settings.batch_size,
                partial(_failed, summary=summary),
            )
    close_sources()
    # The jobs after the fast pass run where it ran; on a cluster their tasks' sources
    # are mapped for the workers by the driver (the fast pass maps its own).
    jobs_pool = Workers(workers, executor_factory, task_errors, path_map, cluster is not None)
    for job in ordered_jobs():
        if job.NAME in settings.skip:
            summary.stages[job.NAME] = "skipped"
            continue
        pool = dataclasses.replace(jobs_pool, progress=_job_progress(progress), job=job.NAME)
        summary.stages[job.NAME] = _run_job(case, job, settings, pool)
        log.info("job %s: %s", job.NAME, summary.stages[job.NAME])
    remove_partial(case.thumbs_dir)  # left by a worker killed mid-write in this run
    repo.finish_run(case, run_id)
    log.info("run %d: %d items, %d errors", run_id, summary.processed, summary.errors)
    return summary


def _job_progress(progress: Progress) -> JobProgress | None:
    """The fast pass's progress as a job progress too, where it is one."""
    return progress if isinstance(progress, JobProgress) else None


def _run_job(case: Case, cls: type, settings: Settings, workers: Workers) -> str:
    """Run one whole-case or per-item job after the fast pass, recording it in the ledger."""
    job = cls()
    reason = job.unavailable()
    if reason:
        return f"unavailable: {reason}"
    if isinstance(job, ItemJob):
        return run_item_job(case, job, settings, workers)
    assert isinstance(job, CaseJob)
    summary = job.run(case, settings, workers)
    with case.engine.begin() as conn:
        done.mark(conn, job.NAME, job.version(settings), [CASE_WIDE])
    return summary


def reopen_stale(conn: Connection, settings: Settings) -> int:
    """Send back to the fast pass every item a fast-pass analyser did in another version
    than its current one, and the jobs that depend on that analyser with them; returns
    how many items."""
    reopened: set[int] = set()
    for cls in ordered():
        ids = done.stale_ids(conn, cls.NAME, cls.version(settings))
        if ids:
            done.forget(conn, dependents(cls.NAME), ids)
            reopened.update(ids)
    repo.reopen(conn, sorted(reopened))
    return len(reopened)


def _store(
    case: Case,
    run_id: int,
    records: list[FileRecord],
    *,
    summary: RunSummary,
    progress: Progress,
    limits: Limits,
    ledger: FastLedger,
) -> None:
    with case.engine.begin() as conn:
        charge(conn, records, limits)
        repo.write_records(conn, run_id, records)
        repo.tally_workers(conn, run_id, records)
        ledger.mark(conn, records)
        found_inside = any(r.children for r in records)
        pending = repo.pending_totals(conn) if found_inside else None
    done = sum(r.size or 0 for r in records)
    summary.processed += len(records)
    summary.bytes += done
    summary.errors += sum(1 for r in records if r.errors)
    progress.advance(len(records), done)
    if pending is not None:  # members of an archive or disk: the totals grow, now
        progress.start(*pending)


@dataclass(frozen=True, slots=True)
class FastLedger:
    """What the fast pass's ledger writes need, worked out once per run."""

    analysers: tuple[str, ...]  # every fast-pass analyser
    later: frozenset[str]  # the jobs that depend on any of them

    @classmethod
    def now(cls) -> FastLedger:
        names = tuple(c.NAME for c in ordered())
        return cls(names, frozenset(dependents(*names)))

    def mark(self, conn: Connection, records: list[FileRecord]) -> None:
        """The ledger entries of a stored batch: each analyser that looked at each item,
        in the version it ran (entries of analysers that no longer apply go); the jobs
        that depend on them do these items again. Three statements per batch."""
        ids = [r.item_id for r in records]
        done.forget(conn, self.analysers, ids)
        done.add(conn, [(n, r.item_id, v) for r in records for n, v in r.analysers.items()])
        done.forget(conn, self.later, ids)


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
    elif isinstance(error, TaskLost):
        message = f"the cluster lost this item's task: {error}"
    else:
        message = f"{CRASHED}; quarantined after it ended every worker that tried it"
        summary.crashed.append(task.path)
    log.error("item %d (%s) failed on the cluster: %s", task.item_id, task.path, error)
    record = FileRecord(item_id=task.item_id)
    record.error("engine", message)
    return record
