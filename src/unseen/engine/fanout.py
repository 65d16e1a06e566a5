"""Bounded fan-out of per-item work to an executor, with crash isolation.

Batches go to the executor with a bounded number in flight; each result comes back
to the caller's ``store`` in this process (the single writer). If a worker dies (a
native decoder crashing on hostile input), every batch that was in flight is retried
one item at a time, alone in the pool, so the item that kills its worker is found
and handed to ``crashed`` while all others are still processed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def fan_out(
    executor_factory: Callable[[int], Executor],
    workers: int,
    work: Callable[[list[T]], list[R]],
    batches: Iterable[list[T]],
    store: Callable[[list[R]], None],
    crashed: Callable[[T], R],
    task_errors: tuple[type[BaseException], ...] = (),
    failed: Callable[[T, BaseException], R] | None = None,
) -> None:
    """Run ``work`` over ``batches`` on ``workers`` processes, storing every result.

    ``work`` must be picklable (a module-level function or a ``functools.partial`` of
    one). ``crashed(task)`` makes the result recorded for a task that killed its
    worker even when run alone. ``task_errors`` are failures of one task that leave
    the executor working (a distributed cluster's ``KilledWorker``): the batch is
    retried one item at a time and ``failed(task, error)`` records the item that
    fails alone.
    """
    pending: Iterator[list[T]] = iter(batches)
    suspects: deque[T] = deque()  # tasks to retry alone after the pool broke
    in_flight: dict[Future[list[R]], list[T]] = {}
    alone: Future[list[R]] | None = None
    pool = executor_factory(workers)
    try:
        while True:
            broken = False
            try:
                if suspects and not in_flight:
                    # Alone in the pool: if it breaks now, this task is the cause.
                    alone = pool.submit(work, [suspects[0]])
                    in_flight[alone] = [suspects.popleft()]
                elif not suspects:
                    for batch in islice(pending, workers * 3 - len(in_flight)):
                        try:
                            in_flight[pool.submit(work, batch)] = batch
                        except BrokenProcessPool:
                            pending = chain([batch], pending)  # send it again later
                            raise
            except BrokenProcessPool:
                broken = True  # a worker died between two waits, outside any task
            if not broken:
                if not in_flight:
                    return
                broken = _collect(in_flight, alone, suspects, store, crashed, task_errors, failed)
            if broken:
                for batch in in_flight.values():
                    suspects.extend(batch)
                in_flight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = executor_factory(workers)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _collect(
    in_flight: dict[Future[list[R]], list[T]],
    alone: Future[list[R]] | None,
    suspects: deque[T],
    store: Callable[[list[R]], None],
    crashed: Callable[[T], R],
    task_errors: tuple[type[BaseException], ...],
    failed: Callable[[T, BaseException], R] | None,
) -> bool:
    """Store what finished; returns whether the pool broke (its victims become suspects)."""
    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
    broken = False
    for future in done:
        batch = in_flight.pop(future)
        try:
            results = future.result()
        except BrokenProcessPool:
            broken = True
            if future is not alone:
                suspects.extend(batch)
                continue
            results = [crashed(batch[0])]
        except task_errors as exc:
            if len(batch) > 1 or failed is None:
                suspects.extend(batch)
                continue
            results = [failed(batch[0], exc)]
        store(results)
    return broken
