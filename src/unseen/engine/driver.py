"""The one driver of per-item work: fan-out, crash isolation, batching and the ledger.

Every per-item job (the fast pass, artefact and message parsers, deep analysers,
plugin jobs) hands its tasks here. Work runs in this process (``workers=0``), a
local process pool, or any ``concurrent.futures`` executor (a Dask client's), and
comes back to this process, the single writer of the case database. A task that
kills every worker that tries it is recorded with ``CRASHED`` instead of stopping
the run.

``run_item_job`` runs an ``ItemJob`` from start to end: it asks the ledger which
items are still to do in the job's current version, and stores each batch of results
together with its ledger entries in one transaction (so a kill loses at most the
batches in flight, and a rerun continues exactly there).
"""

from __future__ import annotations

import atexit
import contextlib
import graphlib
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
from collections.abc import Callable, Iterable, Sized
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, delete, insert

from unseen import plugins
from unseen.core.batches import batched
from unseen.core.jobs import JOBS, CaseJob, ItemJob, Job, Workers
from unseen.core.settings import Settings
from unseen.engine.fanout import fan_out
from unseen.engine.remote import remote_batch
from unseen.store import done
from unseen.store import schema as s
from unseen.store.case import Case

log = logging.getLogger(__name__)
CRASHED = "worker process died while analysing this item (a decoder crashed or ran out of memory)"
ExecutorFactory = Callable[[int], Executor]
T = TypeVar("T")
R = TypeVar("R")

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
    atexit.unregister(_stop_fork_server)  # once, however many runs this process makes
    atexit.register(_stop_fork_server)


def _stop_fork_server() -> None:
    """End the fork server at exit instead of letting it notice ours: left alone it
    tears down its own interpreter (everything it preloaded, about 0.15 s) after we
    are gone, holding the output open that a calling script waits on. It only forks
    workers, and every pool has been shut down by the time exit handlers run."""
    pid = getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def drive(
    work: Callable[[list[T]], list[R]],
    tasks: Iterable[T],
    store: Callable[[list[R]], None],
    crashed: Callable[[T], R],
    workers: int | Workers,
    batch: int,
    failed: Callable[[T, BaseException], R] | None = None,
) -> None:
    """Run ``work`` over ``tasks`` in batches of ``batch`` and ``store`` every result.

    ``work`` must be picklable (a module-level function or a ``functools.partial`` of
    one) unless ``workers`` is 0. ``crashed(task)`` is the result of a task that kills
    its worker even alone; ``failed(task, error)`` that of a task a cluster gave up on.
    """
    pool = Workers.of(workers)
    store = _reporting(pool, tasks, store)
    batches = batched(tasks, batch)
    if pool.count == 0:
        for chunk in batches:
            store(work(chunk))
        return
    if pool.remote:
        work = partial(remote_batch, work, pool.path_map)
    fan_out(
        pool.factory or process_pool,
        pool.count,
        work,
        batches,
        store,
        crashed,
        pool.task_errors,
        failed or (lambda task, _error: crashed(task)),
    )


def _reporting(
    pool: Workers, tasks: Iterable[T], store: Callable[[list[R]], None]
) -> Callable[[list[R]], None]:
    """``store``, also telling the pool's progress how far the job has got."""
    progress, job = pool.progress, pool.job
    if progress is None:
        return store
    progress.job_begin(job, len(tasks) if isinstance(tasks, Sized) else 0)

    def reported(results: list[R]) -> None:
        store(results)
        progress.job_advance(job, len(results))

    return reported


def dependents(*names: str) -> set[str]:
    """Every registered job that depends on any of ``names``, directly or through
    others (not ``names`` themselves). Callers work it out once per run: the registry
    is walked whole."""
    found: set[str] = set()
    frontier = set(names)
    while frontier:
        frontier = {j.NAME for j in JOBS if set(j.DEPENDS_ON) & frontier} - found
        found |= frontier
    return found - set(names)


def ordered_jobs(kinds: tuple[type[Job], ...] = (ItemJob, CaseJob)) -> list[type[Job]]:
    """The registered jobs of the given kinds, dependencies first (ties by name)."""
    chosen = {j.NAME: j for j in JOBS if issubclass(j, kinds)}
    graph = {name: set(j.DEPENDS_ON) & set(chosen) for name, j in chosen.items()}
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    order: list[type[Job]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(chosen[name] for name in ready)
        sorter.done(*ready)
    return order


def run_item_job(
    case: Case, job: ItemJob[Any, Any], settings: Settings, workers: int | Workers
) -> str:
    """Run ``job`` over every item it applies to that the ledger says is still to do."""
    version = job.version(settings)
    with case.engine.connect() as conn:
        finished = done.done_ids(conn, job.NAME, version)
        tasks = [t for t in job.select(conn, settings) if t.item_id not in finished]
    ensure_tables(case, job)
    counts = [0, 0]
    later = dependents(job.NAME)

    def store(results: list[Any]) -> None:
        with case.engine.begin() as conn:
            counts[1] += store_results(conn, job, version, results, later)
        counts[0] += len(results)

    drive(
        partial(work_batch, job.NAME, settings),
        tasks,
        store,
        lambda task: job.crashed(task, CRASHED),
        workers,
        job.BATCH,
        lambda task, exc: job.crashed(task, f"{CRASHED}; quarantined: {exc}"),
    )
    return f"{counts[0]} items, {counts[1]} errors"


def work_batch(name: str, settings: Settings, tasks: list[Any]) -> list[Any]:
    """A job's ``work`` in any process: the job is found by name in the registry."""
    plugins.load()  # a fresh worker registers the plugins once
    job = JOBS.get(name)()
    assert isinstance(job, ItemJob)
    return job.work(tasks, settings)


def store_results(
    conn: Connection, job: ItemJob[Any, Any], version: str, results: list[Any], later: set[str]
) -> int:
    """Replace what ``job`` stored for these items, in the caller's transaction: its
    rows, its errors, its ledger entries; and send its dependents back to do them
    again. Returns how many errors were recorded."""
    ids = [job.item_of(r) for r in results]
    forget_output(conn, job, ids)
    job.store(conn, results)
    errors = [
        {"item_id": job.item_of(r), "analyser": job.NAME, "message": m}
        for r in results
        for m in job.errors_of(r)
    ]
    if errors:
        conn.execute(insert(s.item_errors), errors)
    done.mark(conn, job.NAME, version, ids)
    done.forget(conn, later, ids)
    return len(errors)


def forget_output(conn: Connection, job: Job, item_ids: list[int]) -> None:
    """Remove the rows and errors ``job`` stored for these items."""
    for start in range(0, len(item_ids), done.CHUNK):
        chunk = item_ids[start : start + done.CHUNK]
        for table in job.TABLES:
            conn.execute(delete(table).where(table.c.item_id.in_(chunk)))
        e = s.item_errors
        conn.execute(delete(e).where(and_(e.c.item_id.in_(chunk), e.c.analyser == job.NAME)))


def ensure_tables(case: Case, job: Job) -> None:
    """Create the tables a job owns where the case lacks them (a plugin installed after
    the case was made): the migration machinery's ``create where missing``."""
    if job.TABLES:
        with case.engine.begin() as conn:
            for table in job.TABLES:
                table.create(conn, checkfirst=True)
