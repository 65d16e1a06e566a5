"""Plain CSV hash lists: a header row naming md5/sha1/sha256/pdq and category columns.

The delimiter is the one of ``, ; TAB |`` that splits the header most. Column names
are compared loosely (``SHA-1``, ``sha1``, ``MD5 hash``). Columns we do not know are
kept in ``extra``; categories are codes of the scheme given with ``--scheme``.
"""

from __future__ import annotations

from collections.abc import Iterator

from unseen.matching.formats.base import (
    FORMATS,
    HASH_KINDS,
    BadFile,
    BadRecord,
    FileHeader,
    HashSetFormat,
    RawEntry,
    Rejected,
    keep_value,
    make_entry,
)
from unseen.matching.formats.textio import CsvRows, first_line, normalise, split_header

# Loose column name -> what it holds.
COLUMNS = {
    "md5": "md5", "md5hash": "md5", "hashmd5": "md5",
    "sha1": "sha1", "sha1hash": "sha1", "hashsha1": "sha1",
    "sha256": "sha256", "sha256hash": "sha256", "hashsha256": "sha256",
    "pdq": "pdq", "pdqhash": "pdq",
    "ed2k": "ed2k",
    "category": "category", "cat": "category", "grade": "category",
    "series": "series", "seriesname": "series",
}  # fmt: skip


def _roles(header: list[str]) -> dict[str, str]:
    return {name: COLUMNS[normalise(name)] for name in header if normalise(name) in COLUMNS}


class PlainCsvFormat(HashSetFormat):
    NAME = "csv"
    DESCRIPTION = "CSV with a header row (md5, sha1, sha256, pdq, category columns)"

    @staticmethod
    def sniff(head: bytes) -> bool:
        line = first_line(head)
        if not line:
            return False
        _delimiter, cells = split_header(line)
        roles = set(_roles(cells).values())
        return len(cells) > 1 and bool(roles & set(HASH_KINDS))

    def _rows(self) -> CsvRows:
        with self.path.open("rb") as stream:
            line = stream.readline(1 << 16).decode("utf-8", "replace").removeprefix("\ufeff")
        delimiter, _cells = split_header(line)
        return CsvRows(self.path, delimiter)

    def header(self) -> FileHeader:
        rows = self._rows()
        header = rows.read_header()
        roles = _roles(header)
        if not set(roles.values()) & set(HASH_KINDS):
            raise BadFile("line 1", "no header naming a hash column (md5, sha1, sha256, pdq)")
        doubled = [r for r in set(roles.values()) if list(roles.values()).count(r) > 1]
        if doubled:
            raise BadFile("line 1", f"more than one {doubled[0]} column")
        return FileHeader(has_categories="category" in roles.values())

    def records(self) -> Iterator[RawEntry | Rejected]:
        rows = self._rows()
        header = rows.read_header()
        roles = _roles(header)
        for item in rows.rows():
            if isinstance(item, Rejected):
                yield item
                continue
            ref, cells = item
            hashes: dict[str, object] = {}
            fields: dict[str, str | None] = {"category": None, "series": None}
            extra = {}
            for name, cell in zip(header, cells, strict=True):
                role = roles.get(name)
                if role in HASH_KINDS:
                    hashes[role] = cell
                elif role is not None:
                    fields[role] = cell.strip() or None
                elif cell.strip():
                    extra[name] = keep_value(cell.strip())
            try:
                yield make_entry(ref, hashes, fields["category"], fields["series"], extra)
            except BadRecord as exc:
                yield Rejected(ref, str(exc))


FORMATS.register(PlainCsvFormat)
