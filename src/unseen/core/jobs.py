"""The job model: every piece of work unseen does to a case is a job.

A job has a stable ``NAME``, a ``VERSION`` and the jobs it ``DEPENDS_ON``. What it
produced for an item is recorded in one ledger, ``done(item, job, version)``
(``store.done``): a job re-runs exactly the items whose ledger entry carries another
version than the job's current one, and every job that depends on it re-runs those
items too. A job's version is its ``VERSION`` plus the values of the ``Settings``
fields that change its results (``SETTINGS``) where they differ from the defaults,
so changing such a setting re-runs it as a version bump would.

Two shapes:

- ``ItemJob``: per-item work. ``select`` names the items it applies to, ``work`` is a
  pure function of a batch of tasks (run by any ``concurrent.futures`` executor: this
  process, a process pool, a Dask client) and ``store`` writes the results, in the
  single writer's transaction, to the tables the job owns (``TABLES``). The default
  ``store`` replaces the job's rows for each item with the ``Outcome`` rows.
- ``CaseJob``: whole-case work (matching, correlation, reports of a case): ``run``
  reads the case and rewrites what it owns; its ledger entry is item 0.

The driver (``engine.driver``) does fan-out, crash isolation, batching, progress and
error records for every job alike.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from sqlalchemy import insert

from unseen.core.registry import Registry
from unseen.core.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

CASE_WIDE = 0  # the ledger's item id for whole-case jobs


@runtime_checkable
class JobProgress(Protocol):
    """Told how a job's per-item work goes; the CLI draws a bar per job."""

    def job_begin(self, job: str, total: int) -> None: ...

    def job_advance(self, job: str, done: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Workers:
    """Where per-item work runs: here (``count`` 0), a local process pool (no
    ``factory``), or a cluster's executor.

    ``task_errors`` are a cluster's failures of one task that leave it working (Dask's
    ``KilledWorker``): such a batch is retried an item at a time. On a ``remote``
    cluster every task's evidence sources are rewritten through ``path_map`` ((prefix
    here, prefix there) pairs) before a worker reads them. ``progress`` hears, under
    ``job``, how many tasks there are and how many are done.
    """

    count: int
    factory: Callable[[int], Executor] | None = None
    task_errors: tuple[type[BaseException], ...] = ()
    path_map: tuple[tuple[str, str], ...] = ()
    remote: bool = False
    # Who hears how the work goes, and under which job's name.
    progress: JobProgress | None = None
    job: str = ""

    @classmethod
    def of(cls, workers: int | Workers) -> Workers:
        return workers if isinstance(workers, Workers) else cls(workers)


class Task(Protocol):
    """What a per-item job works on: anything that names its item."""

    @property
    def item_id(self) -> int: ...


@dataclass
class Outcome:
    """What a per-item job found for one item: rows for its own tables and errors.

    ``rows`` are ``(table name, column values)``; ``item_id`` is added on storing.
    ``errors`` are messages recorded against the item under the job's name.
    """

    item_id: int
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Job(ABC):
    """What every job declares; see the module docstring."""

    NAME: ClassVar[str]
    VERSION: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    DEPENDS_ON: ClassVar[tuple[str, ...]] = ()
    # Settings fields whose values change this job's results: part of its version.
    SETTINGS: ClassVar[tuple[str, ...]] = ()
    # Tables this job owns and writes (created with the case schema; rows for an item
    # are replaced whenever the job re-runs that item).
    TABLES: ClassVar[tuple[Table, ...]] = ()

    @classmethod
    def version(cls, settings: Settings) -> str:
        """``VERSION``, plus a short digest of those result-changing settings that
        differ from their defaults (so declaring a setting, or a case on defaults,
        changes nothing)."""
        default = Settings()
        values = {
            name: getattr(settings, name)
            for name in cls.SETTINGS
            if getattr(settings, name) != getattr(default, name)
        }
        if not values:
            return cls.VERSION
        digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode())
        return f"{cls.VERSION}+{digest.hexdigest()[:8]}"

    def unavailable(self) -> str | None:
        """Why this job cannot run here (a missing optional extra), or None."""
        return None


T = TypeVar("T", bound=Task)
R = TypeVar("R")


class ItemJob(Job, Generic[T, R]):
    """Per-item work; see the module docstring."""

    # Tasks handed to a worker at once.
    BATCH: ClassVar[int] = 8

    @abstractmethod
    def select(self, conn: Connection, settings: Settings) -> Iterable[T]:
        """Every item this job applies to, as tasks (done or not: the driver skips
        those the ledger says are done in the current version)."""

    @abstractmethod
    def work(self, tasks: list[T], settings: Settings) -> list[R]:
        """The results for a batch of tasks. Pure: reads evidence, never the case
        database; runs in any process. Failures of one item are recorded in its
        result, never raised."""

    def crashed(self, task: T, message: str) -> R:
        """The result recorded for a task that killed every worker that tried it."""
        return Outcome(task.item_id, errors=[message])  # type: ignore[return-value]

    def item_of(self, result: R) -> int:
        return result.item_id  # type: ignore[attr-defined, no-any-return]

    def errors_of(self, result: R) -> list[str]:
        """Messages to record against the result's item under the job's name."""
        return list(getattr(result, "errors", ()))

    def store(self, conn: Connection, results: list[R]) -> None:
        """Write a batch of results to the job's own tables; the driver has already
        removed these items' old rows and records errors and the ledger itself.
        The default stores ``Outcome`` rows, one insert per table."""
        tables = {table.name: table for table in self.TABLES}
        rows: dict[str, list[dict[str, Any]]] = {}
        for result in results:
            for name, values in getattr(result, "rows", ()):
                rows.setdefault(name, []).append({"item_id": self.item_of(result), **values})
        for name, batch in rows.items():
            conn.execute(insert(tables[name]), batch)


class CaseJob(Job):
    """Whole-case work; see the module docstring."""

    # ``case`` is a ``store.case.Case``, typed loosely here because the core must not
    # depend on the store, not even for a type.
    @abstractmethod
    def run(self, case: Any, settings: Settings, workers: int | Workers) -> str:
        """Do the work on the case; return a one-line summary for the user. Per-item
        work goes through the driver (``engine.driver.drive``) with ``workers``.

        Must be rerunnable: a second run after a kill gives the same case."""


JOBS: Registry[type[Job]] = Registry("jobs")
