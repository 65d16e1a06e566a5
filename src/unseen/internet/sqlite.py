"""SQLite evidence, read the way the application would see it, without touching it.

The database and its ``-wal`` / ``-journal`` siblings are copied, under fixed names, to
a private scratch folder and the copy is opened (read-write, so SQLite can replay the
write-ahead log or roll back a hot journal as the application would on its next start;
``query_only`` forbids changes through statements). Evidence is never opened in place.
"""

from __future__ import annotations

import sqlite3
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from unseen.core.errors import EvidenceError, WrongFormat
from unseen.internet.base import ArtefactParser, ParseContext
from unseen.internet.records import Artefact

SIBLING_SUFFIXES = ("-wal", "-journal")
MAGIC = b"SQLite format 3\x00"
COPY_NAME = "evidence.sqlite"


class WalWithoutDatabase(EvidenceError):
    """A write-ahead log whose database is not in the evidence: it cannot be replayed."""


class SqliteParser(ArtefactParser):
    """A parser of one SQLite database schema.

    Subclasses declare ``REQUIRED_TABLES`` (schema detection: a database without them
    is "not mine" and a recorded error) and their SQL in ``QUERIES``, and implement
    ``parse_db``.
    """

    REQUIRED_TABLES: ClassVar[tuple[str, ...]]
    QUERIES: ClassVar[dict[str, str]] = {}

    @classmethod
    def sibling_paths(cls, path: str) -> tuple[str, ...]:
        return tuple(path + suffix for suffix in SIBLING_SUFFIXES)

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        if ctx.task.path.casefold().endswith("-wal"):
            raise WalWithoutDatabase(
                "SQLite write-ahead log without its database: its records cannot be "
                "replayed (the database may have been deleted or not acquired)"
            )
        with open_copy(ctx, self.MAX_BYTES) as conn:
            missing = [t for t in self.REQUIRED_TABLES if t not in tables(conn)]
            if missing:
                raise WrongFormat(f"not the expected schema: no table {', '.join(missing)}")
            yield from self.parse_db(ctx, conn)

    @abstractmethod
    def parse_db(self, ctx: ParseContext, conn: sqlite3.Connection) -> Iterator[Artefact]:
        """Yield records from the opened copy."""


@contextmanager
def open_copy(ctx: ParseContext, limit: int) -> Iterator[sqlite3.Connection]:
    """Copy the item and its WAL/journal siblings to scratch and open the copy.

    Raises:
        WrongFormat: the item is not an SQLite database.
        TooLarge: the database or a sibling is bigger than ``limit``.
        sqlite3.DatabaseError: the copy is corrupt or encrypted (also when SQLite's
            message about it is not valid UTF-8).
    """
    folder = ctx.temp_dir()
    target = folder / COPY_NAME
    ctx.copy_to(target, limit)
    with target.open("rb") as head:
        if head.read(len(MAGIC)) != MAGIC:
            raise WrongFormat("not an SQLite 3 database (bad header)")
    for suffix in SIBLING_SUFFIXES:
        sibling = ctx.sibling(ctx.task.path + suffix)
        if sibling is not None:
            ctx.copy_to(folder / (COPY_NAME + suffix), limit, sibling)
    conn = sqlite3.connect(target.as_uri(), uri=True)
    # Evidence text need not be valid UTF-8; keep undecodable bytes visible as \xNN.
    conn.text_factory = _decode_text
    try:
        conn.execute("PRAGMA query_only = ON")
        # A hostile schema must not run application-defined functions from views.
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        yield conn
    except UnicodeDecodeError as exc:
        # SQLite's error message quoted bytes of a corrupt schema that are not UTF-8,
        # and Python could not build the DatabaseError it meant (found by fuzzing).
        raise sqlite3.DatabaseError(f"corrupt database: {exc}") from exc
    finally:
        conn.close()


def _decode_text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def tables(conn: sqlite3.Connection) -> set[str]:
    """Names of the tables in the database."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(r[0]) for r in rows}


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """Column names of ``table`` (empty when it does not exist)."""
    if not table.replace("_", "").isalnum():
        raise ValueError(f"unexpected table name {table!r}")
    return {str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")}


def pick(available: set[str], *names: str, alias: str | None = None) -> str:
    """The first of ``names`` present in ``available`` as a select expression, else NULL.

    Application schemas change between versions (Chrome's ``downloads.full_path`` became
    ``target_path``); queries name every variant and take what this database has.
    """
    chosen = next((n for n in names if n in available), None)
    label = alias or names[0]
    return f"{chosen} AS {label}" if chosen else f"NULL AS {label}"
