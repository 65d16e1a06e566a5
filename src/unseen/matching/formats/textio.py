"""Line-by-line text reading that survives hostile files.

Lines are read with a length limit, so a multi-gigabyte "line" never lands in memory:
it is skipped and remembered as over-long. Bytes that are not UTF-8 become U+FFFD (a
hash with such a byte then fails its check and is reported with its line number).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from unseen.matching.formats.base import BadFile, Rejected

MAX_LINE = 1 << 20  # bytes; longer lines are rejected, never read whole
_CHUNK = 1 << 16
DELIMITERS = ",;\t|"


class Lines:
    """Iterates over the decoded lines of a binary file; ``number`` is 1-based."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.number = 0
        self.overlong: set[int] = set()  # numbers of lines skipped for their length

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = self._stream.readline(MAX_LINE + 1)
        if not raw:
            raise StopIteration
        self.number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = self._stream.readline(_CHUNK)
            self.overlong.add(self.number)
            return "\n"
        text = raw.decode("utf-8", "replace")
        return text.removeprefix("\ufeff") if self.number == 1 else text


def head_text(head: bytes) -> str:
    """The first lines of a sniffed head as text (the last, maybe cut, line dropped)."""
    text = head.decode("utf-8", "replace").removeprefix("\ufeff")
    return text if len(head) < 512 else text.rsplit("\n", 1)[0]


def first_line(head: bytes) -> str:
    """The first non-blank line of a head."""
    for line in head_text(head).splitlines():
        if line.strip():
            return line.strip()
    return ""


def split_header(line: str) -> tuple[str, list[str]]:
    """The delimiter and cells of a header line: the delimiter that splits it most."""
    best = max(DELIMITERS, key=line.count)
    try:
        return best, next(csv.reader([line], delimiter=best))
    except csv.Error as exc:  # e.g. a stray carriage return inside it (found by fuzzing)
        raise BadFile("line 1", f"header is not CSV: {exc}") from exc


def normalise(name: str) -> str:
    """A column name compared loosely: lower case, no spaces, dashes or underscores."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


class CsvRows:
    """A CSV file row by row after its header: ``(ref, cells)`` or a Rejected row.

    Blank rows are skipped. A row with a different number of cells than the header,
    an over-long line and a CSV syntax error are each rejected with the line they
    start on.
    """

    def __init__(self, path: Path, delimiter: str) -> None:
        self.path = path
        self.delimiter = delimiter
        self.header: list[str] = []

    def read_header(self) -> list[str]:
        with self.path.open("rb") as stream:
            lines = Lines(stream)
            try:
                for row in csv.reader(lines, delimiter=self.delimiter):
                    if any(cell.strip() for cell in row):
                        self.header = [cell.strip() for cell in row]
                        return self.header
            except csv.Error as exc:  # found by fuzzing: a stray carriage return
                raise BadFile(f"line {lines.number}", f"header is not CSV: {exc}") from exc
        return []

    def rows(self) -> Iterator[tuple[str, list[str]] | Rejected]:
        with self.path.open("rb") as stream:
            lines = Lines(stream)
            reader = csv.reader(lines, delimiter=self.delimiter)
            seen_header = False
            while True:
                start = lines.number + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield Rejected(_span(start, lines.number), f"CSV error: {exc}")
                    continue
                if start in lines.overlong:
                    yield Rejected(f"line {start}", f"line longer than {MAX_LINE} bytes")
                    continue
                if not any(cell.strip() for cell in row):
                    continue
                if not seen_header:
                    seen_header = True
                    continue
                ref = _span(start, lines.number)
                if len(row) != len(self.header):
                    yield Rejected(ref, f"{len(row)} fields, the header has {len(self.header)}")
                    continue
                yield ref, row


def _span(start: int, end: int) -> str:
    return f"line {start}" if end <= start else f"line {start} (to {end})"


def cell_map(header: list[str], row: list[str]) -> dict[str, str]:
    """A row as {column name: cell}."""
    return dict(zip(header, row, strict=True))
