"""Bulk loading of one set version's entries inside the import transaction.

Memory stays flat: records are inserted in batches of ``BATCH`` rows, and duplicates
(same hashes and category within the set) are found afterwards by SQLite, whose
sorter spills to temporary files, instead of by a Python set of 30 million keys.

When the import is likely at least as large as the library, the entry indexes are
dropped first and rebuilt at the end (one sort instead of millions of random B-tree
inserts; measured in benchmarks/hashset_import.py). The drop happens inside the
transaction, so concurrent readers keep their indexes and a failure restores them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from unseen.matching.formats.base import BadFile, BadRecord, RawEntry, Rejected, keep_value
from unseen.matching.formats.categories import CategoryReader
from unseen.matching.library_schema import entries

log = logging.getLogger(__name__)
BATCH = 10_000  # rows per executemany
MAX_PROBLEMS = 1000  # problems listed in a result; the counts cover all of them
# A file of N bytes holds at most about N / 100 entries of the verbose formats and
# more of the terse ones; good enough to decide whether rebuilding indexes pays.
BYTES_PER_ENTRY = 100
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_INSERT = (
    "INSERT INTO entries (set_id, ref, md5, sha1, sha256, pdq, ed2k, category, series, extra)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_KEY = ("md5", "sha1", "sha256", "pdq", "ed2k", "category")  # what makes entries equal
# One sort finds the groups of equal entries (usually none); only then is the set
# scanned once more, probing the small group table, to name each duplicate. This is
# about three times faster than a window function over the whole set.
_FIND_GROUPS = f"""
CREATE TEMP TABLE import_groups AS
SELECT {", ".join(_KEY)}, min(id) AS keep_id, count(*) - 1 AS extra
FROM entries WHERE set_id = ? GROUP BY {", ".join(_KEY)} HAVING count(*) > 1
"""
_INDEX_GROUPS = f"CREATE INDEX temp.ix_import_groups ON import_groups ({', '.join(_KEY)})"
# CROSS JOIN keeps entries as the outer loop (SQLite never reorders it).
_FIND_DUPLICATES = f"""
CREATE TEMP TABLE import_duplicates AS
SELECT e.id AS id, e.ref AS ref, k.ref AS first_ref
FROM entries AS e CROSS JOIN import_groups AS g
    ON {" AND ".join(f"e.{c} IS g.{c}" for c in _KEY)}
JOIN entries AS k ON k.id = g.keep_id
WHERE e.set_id = ? AND e.id != g.keep_id
"""


@dataclass(frozen=True, slots=True)
class Problem:
    """A record not imported, and why (``ref`` names its line or record)."""

    ref: str
    reason: str


class Loader:
    """Writes one set version's entries; counts what it read, kept and skipped."""

    def __init__(
        self,
        conn: Connection,
        set_id: int,
        categories: CategoryReader,
        strict: bool,
        duplicates_expected: bool,
    ) -> None:
        self.conn = conn
        self.set_id = set_id
        self.categories = categories
        self.strict = strict
        self.duplicates_expected = duplicates_expected
        self.read = self.imported = self.duplicates = self.rejected = 0
        self.problems: list[Problem] = []
        self.rebuilt_indexes = False

    def prepare(self, file_size: int) -> None:
        """Drop the entry indexes when the import will likely dwarf the library."""
        existing = self.conn.scalar(select(func.coalesce(func.max(entries.c.id), 0))) or 0
        if existing <= file_size // BYTES_PER_ENTRY:
            for index in entries.indexes:
                index.drop(self.conn)
            self.rebuilt_indexes = True

    def load(
        self, records: Iterator[RawEntry | Rejected], progress: Callable[[int], None] | None
    ) -> Problem | None:
        """Insert every usable record; return the problem that fails the import, if any."""
        start = time.perf_counter()
        try:
            failure = self._insert_all(records, progress)
        finally:
            close = getattr(records, "close", None)
            if close is not None:
                close()
        inserted = time.perf_counter()
        log.info(
            "set %d: %d rows inserted in %.1f s", self.set_id, self.imported, inserted - start
        )
        if failure is None:
            failure = self._remove_duplicates()
        deduplicated = time.perf_counter()
        log.info("set %d: duplicates found in %.1f s", self.set_id, deduplicated - inserted)
        if failure is None and self.rebuilt_indexes:
            for index in entries.indexes:
                index.create(self.conn)
            log.info("indexes rebuilt in %.1f s", time.perf_counter() - deduplicated)
        return failure

    def _insert_all(
        self, records: Iterator[RawEntry | Rejected], progress: Callable[[int], None] | None
    ) -> Problem | None:
        batch: list[tuple[Any, ...]] = []
        try:
            for item in records:
                self.read += 1
                row_or_problem = self._row(item)
                if isinstance(row_or_problem, Problem):
                    self.rejected += 1
                    if self.strict:
                        return row_or_problem
                    self._note(row_or_problem)
                else:
                    batch.append(row_or_problem)
                    if len(batch) >= BATCH:
                        self._flush(batch)
                        if progress is not None:
                            progress(self.read)
        except BadFile as exc:
            return Problem(exc.ref, exc.reason)
        self._flush(batch)
        return None

    def _row(self, item: RawEntry | Rejected) -> tuple[Any, ...] | Problem:
        if isinstance(item, Rejected):
            return Problem(item.ref, item.reason)
        try:
            code = self.categories.read(item.category)
        except BadRecord as exc:
            return Problem(item.ref, str(exc))
        extra = None
        if item.extra:
            extra = _ENCODE(item.extra)
        series = keep_value(item.series)
        return (self.set_id, item.ref, item.md5, item.sha1, item.sha256, item.pdq, item.ed2k,
                code, series, extra)  # fmt: skip

    def _flush(self, batch: list[tuple[Any, ...]]) -> None:
        if batch:
            self.conn.exec_driver_sql(_INSERT, batch)
            self.imported += len(batch)
            batch.clear()

    def _note(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def _remove_duplicates(self) -> Problem | None:
        """Delete repeated entries (keeping the first); report them unless expected."""
        conn = self.conn
        conn.exec_driver_sql(_FIND_GROUPS, (self.set_id,))
        try:
            count = conn.exec_driver_sql("SELECT sum(extra) FROM import_groups").scalar() or 0
            if count:
                failure = self._report_and_delete(count)
                if failure is not None:
                    return failure
        finally:
            conn.exec_driver_sql("DROP TABLE import_groups")
        self.duplicates = count
        self.imported -= count
        return None

    def _report_and_delete(self, count: int) -> Problem | None:
        conn = self.conn
        conn.exec_driver_sql(_INDEX_GROUPS)
        conn.exec_driver_sql(_FIND_DUPLICATES, (self.set_id,))
        try:
            if not self.duplicates_expected:
                room = 1 if self.strict else max(0, MAX_PROBLEMS - len(self.problems))
                rows = conn.exec_driver_sql(
                    "SELECT ref, first_ref FROM import_duplicates ORDER BY id LIMIT ?", (room,)
                )
                found = [Problem(ref, f"duplicate of {first}") for ref, first in rows]
                if self.strict and found:
                    return found[0]
                self.problems.extend(found)
            conn.exec_driver_sql(
                "DELETE FROM entries WHERE id IN (SELECT id FROM import_duplicates)"
            )
        finally:
            conn.exec_driver_sql("DROP TABLE import_duplicates")
        return None
