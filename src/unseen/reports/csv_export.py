"""CSV export: one row per item, the JSON Lines record flattened, with a header row.

Nested objects (``exif``, ``video``, ...) become ``exif.make``-style columns, named
after the first record that has them filled or, failing that, the known key lists;
lists and deeper values are written as JSON text. Booleans are ``true``/``false`` and
null is the empty cell.

Evidence file names are hostile: a cell starting with ``= + - @`` (or a tab or
carriage return) that is not a number is prefixed with ``'`` so that spreadsheet
programs show it instead of running it as a formula (``--option excel_safe=false``
writes the raw text).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterator
from itertools import chain, islice
from typing import IO, Any

from unseen.core.errors import UserError
from unseen.reports.records import EXIF_KEYS, VIDEO_KEYS, iter_records
from unseen.reports.registry import EXPORTERS, Exporter
from unseen.store.case import Case

# Sub-keys of nested record objects that may be null in the first record.
NESTED = {
    "exif": (*EXIF_KEYS, "thumbnail"),
    "video": (*VIDEO_KEYS, "hashed_frames"),
    "category_foreign": ("scheme", "code"),
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def columns(record: dict[str, Any]) -> list[str]:
    """The CSV columns of a record: top-level keys, nested objects expanded."""
    names: list[str] = []
    for key, value in record.items():
        if isinstance(value, dict):
            names.extend(f"{key}.{sub}" for sub in value)
        elif value is None and key in NESTED:
            names.extend(f"{key}.{sub}" for sub in NESTED[key])
        else:
            names.append(key)
    return names


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """A record as {column: value}, nested objects expanded one level."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                flat[f"{key}.{sub}"] = inner
        else:
            flat[key] = value
    return flat


def cell(value: Any, excel_safe: bool = True) -> str:
    """The text of one CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if excel_safe and text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class CsvExporter(Exporter):
    NAME = "csv"
    DESCRIPTION = "one CSV row per item (the JSONL record flattened), header row first"

    def export(self, case: Case, out: IO[str], what: str, options: dict[str, str]) -> int:
        if what != "items":
            raise UserError(f"csv export of {what!r} is not available")
        return self.export_items(case, out, None, options)

    def export_items(
        self, case: Case, out: IO[str], items: Collection[int] | None, options: dict[str, str]
    ) -> int:
        """The CSV of ``items`` (None: every item of the case)."""
        unknown = set(options) - {"excel_safe"}
        if unknown:
            raise UserError(f"csv export has no option {sorted(unknown)[0]!r}")
        excel_safe = options.get("excel_safe", "true").lower() not in ("false", "0", "no")
        with case.engine.connect() as conn:
            return write_csv(iter_records(conn, items), out, excel_safe)


def write_csv(records: Iterator[dict[str, Any]], out: IO[str], excel_safe: bool = True) -> int:
    """Item records as CSV rows under one header row; returns how many rows."""
    lines = csv_lines(records, excel_safe)
    out.writelines(islice(lines, 1))  # the header
    count = 0
    for line in lines:
        out.write(line)
        count += 1
    return count


def csv_lines(records: Iterator[dict[str, Any]], excel_safe: bool = True) -> Iterator[str]:
    """The header row (from the first record's keys), then one row per record, as
    text lines: for a stream that is sent as it is made."""
    first = next(records, None)
    if first is None:
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = columns(first)
    rows: Iterator[list[Any]] = (
        [cell(flatten(record).get(name), excel_safe) for name in header]
        for record in chain([first], records)
    )
    for row in chain([header], rows):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


EXPORTERS.register(CsvExporter)
