"""Dask distributed as the executor for per-item work: the machines a unit has.

``unseen process CASE --scheduler tcp://HOST:8786`` sends the fast pass to a Dask
cluster started with Dask's own commands (``dask scheduler``, ``dask worker``); the
case database stays in this process, the only writer, and results stream back as
they complete with a bounded number in flight (``engine.fanout``).

Faults are Dask's to handle first: a worker that dies has its tasks rerun on the
others. An item that kills every worker that touches it ends as Dask's
``KilledWorker`` after ``distributed.scheduler.allowed-failures`` tries; the fan-out
then retries its batch one item at a time and records the culprit as quarantined. A
worker that cannot reach a source (a missing mount) refuses the task, which Dask
retries (``RETRIES``, possibly elsewhere); an item no worker could read is recorded
with that reason, never dropped.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from concurrent.futures import CancelledError, Executor, Future
from typing import Any

from unseen.core.errors import UserError
from unseen.engine.remote import SourceUnreachable, TaskLost

RETRIES = 2  # further tries of a task whose worker could not reach a source


def _load_plugins(dask_worker: Any = None) -> None:
    """Run on every worker when we connect: unseen's plugins are imported once per
    worker, not once per task."""
    from unseen import plugins

    plugins.load()


async def _hand_over(task: Any, handed: Future[Any]) -> None:
    """Give a Dask task's outcome to its ``concurrent.futures`` future. Dask's own
    executor re-reads the task's status after the outcome and, when the status moved
    on meanwhile (a cancelled task of a worker that died), handed over a
    ``ValueError`` of its own: the fan-out took that for a bug and stopped the run."""
    try:
        # What Dask's own executor awaits (private, there is no public coroutine): the
        # task's error is raised here, with its traceback.
        result = await task._result()
    except CancelledError as exc:
        outcome: BaseException | None = TaskLost(f"the Dask cluster cancelled this task: {exc}")
    except BaseException as exc:  # the task's own error, for the fan-out to judge
        outcome = exc
    else:
        outcome = None
    if handed.done():
        return  # the run was cancelled meanwhile
    if outcome is None:
        handed.set_result(result)
    else:
        handed.set_exception(outcome)


class DaskExecutor(Executor):
    """A ``concurrent.futures`` executor over a Dask client, as the fan-out uses one."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._tasks: weakref.WeakSet[Any] = weakref.WeakSet()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        task = self._client.submit(fn, *args, pure=False, retries=RETRIES, **kwargs)
        self._tasks.add(task)
        handed: Future[Any] = Future()
        handed.set_running_or_notify_cancel()
        # The coroutine holds the task until it ends (a task nobody holds is released).
        self._client.loop.add_callback(_hand_over, task, handed)
        return handed

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        tasks = list(self._tasks)
        if wait and not cancel_futures:
            from distributed import wait as wait_for

            wait_for(tasks)  # type: ignore[no-untyped-call]
        else:
            self._client.cancel(tasks)


class DaskCluster:
    """A connection to a running Dask scheduler."""

    def __init__(self, address: str, timeout: float = 30.0) -> None:
        try:
            from distributed import Client, KilledWorker
        except ImportError as exc:
            raise UserError(
                "distributed processing needs the 'distributed' extra (pip install "
                "'unseen[distributed]')"
            ) from exc
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
        except OSError as exc:
            raise UserError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        self.client.run(_load_plugins)
        self.task_errors: tuple[type[BaseException], ...] = (
            KilledWorker,
            SourceUnreachable,
            TaskLost,
        )

    def workers(self) -> int:
        """Threads the cluster offers: how many batches to keep in flight (times 3)."""
        threads = sum(self.client.nthreads().values())  # type: ignore[no-untyped-call]
        if not threads:
            raise UserError("the Dask scheduler has no workers; start some with 'dask worker'")
        return int(threads)

    def executor(self, _workers: int) -> Executor:
        return DaskExecutor(self.client)

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]


def parse_path_map(pairs: list[str]) -> tuple[tuple[str, str], ...]:
    """``HERE=THERE`` options as (prefix here, prefix there), longest prefix first."""
    found = []
    for pair in pairs:
        here, sep, there = pair.partition("=")
        if not sep or not here.startswith("/") or not there.startswith("/"):
            raise UserError(f"--path-map takes HERE=THERE with absolute paths, not {pair!r}")
        found.append((here, there))
    return tuple(sorted(found, key=lambda p: -len(p[0])))
