"""JSON Lines export: one object per item (keys in ``reports.records``)."""

from __future__ import annotations

import json
from typing import IO

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
        records = iter_artefact_records if what == "artefacts" else iter_records
        count = 0
        with case.engine.connect() as conn:
            for record in records(conn):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        return count


EXPORTERS.register(JsonlExporter)
