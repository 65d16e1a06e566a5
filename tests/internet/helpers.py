"""Running one parser on a real file, the way the stage does, without a case."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unseen.core.models import SourceSpec
from unseen.internet.base import ARTEFACT_PARSERS, ParseTask, Sibling
from unseen.internet.records import ArtefactRow
from unseen.internet.worker import ParserOutcome, parse_item


@dataclass(frozen=True)
class Parsed:
    outcome: ParserOutcome

    @property
    def rows(self) -> tuple[ArtefactRow, ...]:
        return self.outcome.rows

    @property
    def errors(self) -> tuple[str, ...]:
        return self.outcome.errors

    def of_type(self, kind: str) -> list[ArtefactRow]:
        return [r for r in self.rows if r.type == kind]


def run(parser: str, root: Path, rel: str, siblings: bool = True) -> Parsed:
    """Run ``parser`` on ``root/rel`` (a folder source), with its siblings if present."""
    spec = SourceSpec(1, "folder", str(root), "EV-TEST")
    found = []
    if siblings:
        for i, path in enumerate(ARTEFACT_PARSERS.get(parser).sibling_paths(rel), 2):
            if (root / path).is_file():
                found.append(Sibling(i, path, path.encode(), (root / path).stat().st_size))
    size = (root / rel).stat().st_size
    task = ParseTask(1, spec, rel, rel.encode(), size, (parser,), tuple(found))
    (outcome,) = parse_item(task).outcomes
    return Parsed(outcome)


def row_dict(row: ArtefactRow) -> dict[str, Any]:
    """Every stored value of a row, its JSON data decoded."""
    return {
        "type": row.type,
        "parser": row.parser,
        "parser_version": row.parser_version,
        "ts_utc": row.ts_utc,
        "ts_raw": row.ts_raw,
        "ts_epoch": row.ts_epoch,
        "record_ref": row.record_ref,
        "data": json.loads(row.data),
        "signals": row.signals,
    }
