"""INTERPOL ICSE CSV, as IPED imports it (anchors.md section 3.3).

Semicolon-separated, header ``MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim
identified;Offender identified;Series name;Number of submissions;File Available;Media
Type;Baseline``. ICSE carries no grade: entries have no category unless ``--category``
gives one for the whole set. PhotoDNA and the flags are kept in ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterator

from unseen.matching.formats.base import (
    FORMATS,
    BadFile,
    BadRecord,
    HashSetFormat,
    RawEntry,
    Rejected,
    keep_value,
    make_entry,
)
from unseen.matching.formats.textio import CsvRows, first_line, normalise

COLUMNS = (
    "MD5", "SHA1", "PhotoDNA", "Image ID", "Is distributed", "Victim identified",
    "Offender identified", "Series name", "Number of submissions", "File Available",
    "Media Type", "Baseline",
)  # fmt: skip
_HEADER_START = ";".join(COLUMNS[:4]).lower()


class IcseFormat(HashSetFormat):
    NAME = "icse"
    DESCRIPTION = "INTERPOL ICSE CSV export (semicolon-separated)"

    @staticmethod
    def sniff(head: bytes) -> bool:
        return first_line(head).lower().startswith(_HEADER_START)

    def records(self) -> Iterator[RawEntry | Rejected]:
        rows = CsvRows(self.path, ";")
        header = rows.read_header()
        names = [normalise(h) for h in header]
        if "md5" not in names or "sha1" not in names:
            raise BadFile("line 1", "not an ICSE header (needs MD5 and SHA1 columns)")
        for item in rows.rows():
            if isinstance(item, Rejected):
                yield item
                continue
            ref, cells = item
            values = dict(zip(header, cells, strict=True))
            loose = dict(zip(names, cells, strict=True))
            extra = {
                name: keep_value(value.strip())
                for name, value in values.items()
                if normalise(name) not in ("md5", "sha1", "seriesname") and value.strip()
            }
            hashes: dict[str, object] = {"md5": loose["md5"], "sha1": loose["sha1"]}
            try:
                yield make_entry(ref, hashes, None, loose.get("seriesname"), extra)
            except BadRecord as exc:
                yield Rejected(ref, str(exc))


FORMATS.register(IcseFormat)
