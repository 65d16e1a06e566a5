"""The message-parser interface and the ``MESSAGE_PARSERS`` registry.

A message parser reads one application database (or a device-identity file) chosen
by path and returns one ``Extract``. It sees the item only through the internet
stage's ``ParseContext`` (read-only access through the source spine, siblings such as
the ``-wal``, a scratch folder), so it works the same on a backup folder, a TAR or a
disk image, and never touches the case database.
"""

from __future__ import annotations

import sqlite3
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from unseen.core.errors import WrongFormat
from unseen.core.jobs import JOBS, Job
from unseen.core.registry import Registry
from unseen.internet.base import ParseContext
from unseen.internet.sqlite import SIBLING_SUFFIXES, open_copy, tables
from unseen.phones.model import Extract

Window = tuple[int | None, int | None]


class MessageParser(Job):
    """Turns one application's database into contacts, conversations and messages."""

    NAME: ClassVar[str]
    VERSION: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    APP: ClassVar[str]  # what the examiner reads: WhatsApp, iMessage/SMS, ...
    PATH_GLOBS: ClassVar[tuple[str, ...]]
    MAX_BYTES: ClassVar[int] = 4 * 1024 * 1024 * 1024
    # The part of the database to read, as a half-open range of message keys (None:
    # unbounded on that side), set by the worker when a large database is read in
    # chunks; None reads the whole database.
    window: Window | None = None
    # The integer message keys in reading order, for a parser that reads a ``window``:
    # the query that the chunk bounds are taken from (None: never read in chunks).
    CHUNK_KEYS: ClassVar[str | None] = None

    @classmethod
    def sibling_paths(cls, path: str) -> tuple[str, ...]:
        """Display paths of other items wanted beside ``path`` (default: its WAL)."""
        return tuple(path + suffix for suffix in SIBLING_SUFFIXES)

    @abstractmethod
    def parse(self, ctx: ParseContext) -> Extract:
        """Read the item; raise on what stops it, ``ctx.error`` for partial losses."""

    def chunk_bounds(self, ctx: ParseContext, every: int) -> list[int] | None:
        """Message keys that split the item into chunks of about ``every`` messages,
        for a parser that reads a ``window`` of its messages; None (the default): the
        item is read whole."""
        return None


MESSAGE_PARSERS: Registry[type[MessageParser]] = Registry("message parsers", also=JOBS)


class SqliteMessageParser(MessageParser):
    """A parser of one SQLite schema: required tables, and the query whose keys tell
    the rows present only in the write-ahead log (``WAL_KEYS``, one column)."""

    REQUIRED_TABLES: ClassVar[tuple[str, ...]]
    WAL_KEYS: ClassVar[str]
    CHUNK_TABLES: ClassVar[tuple[str, ...]] = ()  # needed, beside the required ones

    def chunk_bounds(self, ctx: ParseContext, every: int) -> list[int] | None:
        """Every ``every``-th key of ``CHUNK_KEYS`` after the first; None when the
        database is one chunk, or its keys are not all integers (a damaged or hostile
        table: then it is read whole, as any other)."""
        if self.CHUNK_KEYS is None:
            return None
        with open_copy(ctx, self.MAX_BYTES) as conn:
            found = tables(conn)
            if any(t not in found for t in (*self.REQUIRED_TABLES, *self.CHUNK_TABLES)):
                return None
            try:
                keys = conn.execute(self.CHUNK_KEYS)
                bounds: list[int] = []
                for n, (key,) in enumerate(keys):
                    if type(key) is not int:
                        return None
                    if n and n % every == 0 and (not bounds or key > bounds[-1]):
                        bounds.append(key)
            except sqlite3.DatabaseError:
                return None
        return bounds or None

    def wal_keys(self) -> tuple[str, tuple[object, ...]]:
        """The query of ``WAL_KEYS`` and its parameters (a windowed parser narrows it
        to its window, so a chunk never holds every key of the database)."""
        return self.WAL_KEYS, ()

    def parse(self, ctx: ParseContext) -> Extract:
        checkpointed = self._checkpointed_keys(ctx)
        with open_copy(ctx, self.MAX_BYTES) as conn:
            missing = [t for t in self.REQUIRED_TABLES if t not in tables(conn)]
            if missing:
                raise WrongFormat(f"not the expected schema: no table {', '.join(missing)}")
            return self.parse_db(ctx, conn, checkpointed)

    @abstractmethod
    def parse_db(
        self, ctx: ParseContext, conn: sqlite3.Connection, checkpointed: set[object] | None
    ) -> Extract:
        """Read the opened copy. ``checkpointed`` holds the ``WAL_KEYS`` present
        without the WAL (None when there is no WAL): a key outside it is WAL-only."""

    def _checkpointed_keys(self, ctx: ParseContext) -> set[object] | None:
        """Keys of the rows in the database file alone, read from a second copy
        made without its WAL; None when the item has no WAL or the read fails."""
        if ctx.sibling(ctx.task.path + "-wal") is None:
            return None
        folder = ctx.temp_dir() / "without-wal"
        folder.mkdir()
        target = folder / "main.sqlite"
        ctx.copy_to(target, self.MAX_BYTES)
        with _connect(target.as_uri()) as conn:
            try:
                return {row[0] for row in conn.execute(*self.wal_keys())}
            except sqlite3.DatabaseError:
                return set()  # the table itself lives only in the WAL


@contextmanager
def _connect(uri: str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA trusted_schema = OFF")
        yield conn
    finally:
        conn.close()


def from_wal(key: object, checkpointed: set[object] | None) -> bool:
    return checkpointed is not None and key not in checkpointed
