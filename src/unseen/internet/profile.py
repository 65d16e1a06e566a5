"""The internet-usage profile as plain data, ready for a template: sections of tables,
each line tied to a group of provenance rows, plus the activity heat-map and coverage.

Nothing here words a conclusion: lines state counts, times and values as recorded;
the report template adds the advisory wording. Search terms are shown verbatim and
flagged for review, never classified.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from unseen.store import schema as s

MAX_PROVENANCE_ROWS = 25
PAGE = 5000


@dataclass
class Line:
    """One table line: its cells as text, its provenance group and a review flag."""

    cells: list[str]
    ref: str | None = None
    review: bool = False


@dataclass
class Table:
    title: str
    headers: list[str]
    lines: list[Line] = field(default_factory=list)
    note: str | None = None
    more: int = 0  # lines not shown (see the JSONL export)


@dataclass
class Section:
    key: str
    title: str
    facts: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)


@dataclass
class ProvenanceRow:
    artefact_id: int
    type: str
    source: str
    item_path: str
    deleted: bool
    record_ref: str
    parser: str
    ts_raw: str | None
    ts_epoch: str | None
    ts_utc: str | None


@dataclass
class ProvenanceGroup:
    id: str
    title: str
    ids: list[int]
    total: int
    rows: list[ProvenanceRow] = field(default_factory=list)


@dataclass
class Heatmap:
    """Activity counts by weekday (Monday first) and hour, in UTC."""

    counts: list[list[int]]
    types: list[str]
    total: int
    peak: int


@dataclass
class Profile:
    case_name: str
    generated_at: str
    sources: list[dict[str, str]]
    sections: list[Section]
    heatmap: Heatmap
    provenance: list[ProvenanceGroup]
    totals: dict[str, int]


class Groups:
    """Provenance groups: each report line names one, the appendix lists its rows."""

    def __init__(self) -> None:
        self.groups: list[ProvenanceGroup] = []

    def add(self, title: str, ids: Sequence[int], total: int | None = None) -> str:
        group_id = f"p{len(self.groups) + 1}"
        kept = sorted(ids)[:MAX_PROVENANCE_ROWS]
        self.groups.append(ProvenanceGroup(group_id, title, kept, total or len(ids)))
        return group_id

    def fill(self, conn: Connection) -> list[ProvenanceGroup]:
        """Load the provenance rows every group refers to."""
        wanted = sorted({i for g in self.groups for i in g.ids})
        rows: dict[int, ProvenanceRow] = {}
        a, it, src = s.artefacts, s.items, s.sources
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = (
                select(
                    a.c.id,
                    a.c.type,
                    src.c.label,
                    it.c.path,
                    it.c.deleted,
                    a.c.record_ref,
                    a.c.parser,
                    a.c.parser_version,
                    a.c.ts_raw,
                    a.c.ts_epoch,
                    a.c.ts_utc,
                )
                .select_from(
                    a.join(it, it.c.id == a.c.item_id).join(src, src.c.id == it.c.source_id)
                )
                .where(a.c.id.in_(chunk))
            )
            for r in conn.execute(query):
                rows[r.id] = ProvenanceRow(
                    r.id,
                    r.type,
                    r.label,
                    r.path,
                    bool(r.deleted),
                    r.record_ref,
                    f"{r.parser} v{r.parser_version}",
                    r.ts_raw,
                    r.ts_epoch,
                    r.ts_utc,
                )
        for group in self.groups:
            group.rows = [rows[i] for i in group.ids if i in rows]
        return self.groups


@dataclass(frozen=True, slots=True)
class Record:
    """An artefact as the profile reads it."""

    id: int
    type: str
    item_id: int
    ts_utc: str | None
    data: dict[str, Any]
    source: str
    item_path: str


def records(conn: Connection, types: Sequence[str]) -> Iterator[Record]:
    """Artefacts of the given types, in id order, read page by page."""
    a, it, src = s.artefacts, s.items, s.sources
    query = (
        select(a.c.id, a.c.type, a.c.item_id, a.c.ts_utc, a.c.data, src.c.label, it.c.path)
        .select_from(a.join(it, it.c.id == a.c.item_id).join(src, src.c.id == it.c.source_id))
        .where(a.c.type.in_(list(types)))
        .order_by(a.c.id)
    )
    after = 0
    while True:
        page = conn.execute(query.where(a.c.id > after).limit(PAGE)).all()
        if not page:
            return
        for r in page:
            yield Record(r.id, r.type, r.item_id, r.ts_utc, json.loads(r.data), r.label, r.path)
        after = page[-1].id


@dataclass
class Tally:
    """Count, first and last time, and provenance ids of one aggregated line."""

    count: int = 0
    first: str | None = None
    last: str | None = None
    ids: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, record: Record) -> None:
        self.count += 1
        if len(self.ids) < MAX_PROVENANCE_ROWS:
            self.ids.append(record.id)
        ts = record.ts_utc
        if ts:
            self.first = ts if self.first is None or ts < self.first else self.first
            self.last = ts if self.last is None or ts > self.last else self.last


def when(ts: str | None) -> str:
    """``2024-03-01T10:00:00.250000Z`` as ``2024-03-01 10:00:00Z`` (seconds kept)."""
    if not ts:
        return "–"
    return ts[:10] + " " + ts[11:19] + "Z"


def size(value: object) -> str:
    """A byte count with its binary-unit reading: ``1,234,567 (1.2 MiB)``."""
    if not isinstance(value, int):
        return "–"
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= scale:
            return f"{value:,} ({value / scale:.1f} {unit})"
    return f"{value:,} B"


def text(value: object) -> str:
    """A value as table text, ``–`` when absent."""
    return "–" if value is None or value == "" else str(value)
