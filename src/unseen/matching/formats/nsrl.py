"""NIST NSRL RDSv3: a SQLite database whose ``FILE`` table lists known software files.

We read ``FILE(sha256, sha1, md5, file_name, file_size, package_id)`` row by row
(RDSv3 also holds PKG, OS, MFG, VERSION and METADATA tables we do not need). The set
is known-good (matches mark items ignorable) and has no categories. The database is
opened read-only and immutable: nothing is ever written beside it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing

from unseen.matching.formats.base import (
    FORMATS,
    BadFile,
    BadRecord,
    FileHeader,
    HashSetFormat,
    RawEntry,
    Rejected,
    keep_value,
    make_entry,
)

SQLITE_MAGIC = b"SQLite format 3\x00"
HASHES = ("sha256", "sha1", "md5")
EXTRAS = ("file_name", "file_size", "package_id")


class NsrlFormat(HashSetFormat):
    NAME = "nsrl"
    DESCRIPTION = "NIST NSRL RDSv3 SQLite database (known-good files)"
    KNOWN_GOOD = True
    DUPLICATES_EXPECTED = True

    @staticmethod
    def sniff(head: bytes) -> bool:
        return head.startswith(SQLITE_MAGIC)

    def _connect(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri() + "?mode=ro&immutable=1"
        return sqlite3.connect(uri, uri=True)

    def _columns(self, conn: sqlite3.Connection) -> list[str]:
        try:
            rows = conn.execute("PRAGMA table_info(FILE)").fetchall()
        # UnicodeDecodeError: SQLite's message quoted a corrupt schema's non-UTF-8 bytes.
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise BadFile("database", f"not a readable SQLite database: {exc}") from exc
        columns = [str(row[1]).lower() for row in rows]
        if not set(HASHES) <= set(columns):
            raise BadFile("database", "not an NSRL RDSv3 database (no FILE(sha256, sha1, md5))")
        return columns

    def header(self) -> FileHeader:
        with closing(self._connect()) as conn:
            self._columns(conn)
        return FileHeader()

    def records(self) -> Iterator[RawEntry | Rejected]:
        with closing(self._connect()) as conn:
            extras = [c for c in EXTRAS if c in self._columns(conn)]
            query = f"SELECT rowid, {', '.join((*HASHES, *extras))} FROM FILE ORDER BY rowid"
            rowid = 0
            try:
                for row in conn.execute(query):
                    rowid = row[0]
                    yield _entry(
                        f"FILE row {rowid}", row[1:4], dict(zip(extras, row[4:], strict=True))
                    )
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                raise BadFile(f"FILE row {rowid}", f"database unreadable after it: {exc}") from exc


def _entry(ref: str, hashes: tuple[object, ...], extra: dict[str, object]) -> RawEntry | Rejected:
    try:
        return make_entry(
            ref,
            dict(zip(HASHES, hashes, strict=True)),
            extra={k: keep_value(v) for k, v in extra.items() if v is not None},
        )
    except BadRecord as exc:
        return Rejected(ref, str(exc))


FORMATS.register(NsrlFormat)
