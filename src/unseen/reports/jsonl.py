"""JSON Lines export: one object per item (keys in ``reports.records``)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from typing import IO, Any

from unseen.core.errors import UserError
from unseen.internet.export import iter_artefact_records
from unseen.reports.records import iter_records
from unseen.reports.registry import EXPORTERS, Exporter
from unseen.store.case import Case


class JsonlExporter(Exporter):
    NAME = "jsonl"
    DESCRIPTION = "one JSON object per item (or per internet artefact), stable keys"
    WHAT = ("items", "artefacts")

    def export(self, case: Case, out: IO[str], what: str, options: dict[str, str]) -> int:
        if what not in self.WHAT:
            raise UserError(f"jsonl export of {what!r} is not available")
        with case.engine.connect() as conn:
            records = iter_artefact_records(conn) if what == "artefacts" else iter_records(conn)
            return write_jsonl(records, out)

    def export_items(
        self, case: Case, out: IO[str], items: Collection[int], options: dict[str, str]
    ) -> int:
        with case.engine.connect() as conn:
            return write_jsonl(iter_records(conn, items), out)


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """Records as JSON Lines; returns how many."""
    count = 0
    for line in jsonl_lines(records):
        out.write(line)
        count += 1
    return count


def jsonl_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One JSON line per record, for a stream that is sent as it is made."""
    for record in records:
        yield json.dumps(record, ensure_ascii=False) + "\n"


EXPORTERS.register(JsonlExporter)
