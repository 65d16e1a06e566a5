"""Reads and writes of the case database. The writer is the only code that changes it.

All writes of one batch happen in one transaction, so a kill at any moment leaves the
case as it was after the last committed batch; items without a committed result are
still ``pending`` and the next run processes them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

import unseen
from unseen.core.errors import UserError
from unseen.core.models import Entry, FileRecord, ItemTask, SourceSpec
from unseen.core.settings import Settings
from unseen.core.timeconv import utc_now
from unseen.store import schema as s
from unseen.store.case import Case

LISTING = "listing"


def add_source(case: Case, kind: str, path: str, label: str, added_by: str) -> SourceSpec:
    """Register an evidence source; labels are unique within a case."""
    with case.engine.begin() as conn:
        if conn.execute(select(s.sources.c.id).where(s.sources.c.label == label)).first():
            raise UserError(f"the case already has a source labelled {label!r}")
        source_id = conn.execute(
            insert(s.sources).values(
                label=label,
                kind=kind,
                path=path,
                added_by=added_by,
                added_at=utc_now(),
                enumerated=False,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    return SourceSpec(int(source_id), kind, path, label)


def list_sources(conn: Connection) -> list[dict[str, Any]]:
    """All sources as dicts, in the order they were added."""
    return [dict(r._mapping) for r in conn.execute(select(s.sources).order_by(s.sources.c.id))]


def source_specs(conn: Connection, only_unenumerated: bool = False) -> list[SourceSpec]:
    src = s.sources
    query = select(src.c.id, src.c.kind, src.c.path, src.c.label, src.c.volume_keys)
    if only_unenumerated:
        query = query.where(s.sources.c.enumerated.is_(False))
    return [
        SourceSpec(r.id, r.kind, r.path, r.label, volume_keys(r.volume_keys))
        for r in conn.execute(query.order_by("id"))
    ]


def volume_keys(stored: str | None) -> tuple[tuple[str, str], ...]:
    """The ``(volume, key)`` pairs stored for a source's encrypted volumes."""
    return tuple(sorted(json.loads(stored).items())) if stored else ()


def insert_entries(
    conn: Connection, source_id: int, entries: Sequence[Entry], parent_id: int | None = None
) -> int:
    """Add newly listed entries (those already in the case are skipped); returns how many.

    Regular files start ``pending``; everything else (links, devices, unreadable
    folders) has no content to analyse and is ``done`` at once, with its errors.
    """
    locators = [e.locator for e in entries]
    known = set(
        conn.execute(
            select(s.items.c.locator).where(
                and_(s.items.c.source_id == source_id, s.items.c.locator.in_(locators))
            )
        ).scalars()
    )
    fresh = [e for e in entries if e.locator not in known]
    if not fresh:
        return 0
    conn.execute(
        insert(s.items),
        [
            {
                "source_id": source_id,
                "parent_id": parent_id,
                "path": e.path,
                "locator": e.locator,
                "kind": e.kind,
                "size": e.size,
                "mtime": e.mtime,
                "atime": e.atime,
                "ctime": e.ctime,
                "link_target": e.link_target,
                "deleted": e.deleted,
                "carved": e.carved,
                "offset": e.offset,
                "volume": e.volume,
                "snapshot": e.snapshot,
                "status": "pending" if e.kind == "file" else "done",
            }
            for e in fresh
        ],
    )
    with_errors = {e.locator: e.errors for e in fresh if e.errors}
    if with_errors:
        rows = conn.execute(
            select(s.items.c.id, s.items.c.locator).where(
                and_(s.items.c.source_id == source_id, s.items.c.locator.in_(list(with_errors)))
            )
        )
        conn.execute(
            insert(s.item_errors),
            [
                {"item_id": r.id, "analyser": LISTING, "message": msg}
                for r in rows
                for msg in with_errors[r.locator]
            ],
        )
    return len(fresh)


def mark_enumerated(conn: Connection, source_id: int) -> None:
    conn.execute(update(s.sources).where(s.sources.c.id == source_id).values(enumerated=True))


def start_run(
    case: Case, workers: int, analysers: dict[str, str], settings: Settings, examiner: str
) -> int:
    """Record a processing run with the analyser versions and settings it uses."""
    with case.engine.begin() as conn:
        run_id = conn.execute(
            insert(s.runs).values(
                started_at=utc_now(),
                tool_version=unseen.__version__,
                examiner=examiner,
                workers=workers,
                analysers=json.dumps(analysers, sort_keys=True),
                settings=json.dumps(settings.to_dict(), sort_keys=True),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    return int(run_id)


def finish_run(case: Case, run_id: int) -> None:
    with case.engine.begin() as conn:
        conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(finished_at=utc_now()))


def tally_workers(conn: Connection, run_id: int, records: Sequence[FileRecord]) -> None:
    """Add a stored batch to its workers' progress for the run."""
    now = time.time()
    batch: dict[str, list[int]] = {}
    for r in records:
        tally = batch.setdefault(r.worker or "main", [0, 0, 0])
        tally[0] += 1
        tally[1] += r.size or 0
        tally[2] += 1 if r.errors else 0
    w = s.run_workers
    for worker, (items, size, errors) in batch.items():
        mine = and_(w.c.run_id == run_id, w.c.worker == worker)
        changed = conn.execute(
            update(w)
            .where(mine)
            .values(
                items=w.c["items"] + items,
                bytes=w.c.bytes + size,
                errors=w.c.errors + errors,
                last_at=now,
            )
        ).rowcount
        if not changed:
            conn.execute(
                insert(w).values(
                    run_id=run_id,
                    worker=worker,
                    items=items,
                    bytes=size,
                    errors=errors,
                    first_at=now,
                    last_at=now,
                )
            )


def run_workers(conn: Connection) -> list[dict[str, Any]]:
    """The latest run's workers: items, bytes and errors so far, first and last delivery."""
    w = s.run_workers
    latest = select(func.max(s.runs.c.id)).scalar_subquery()
    rows = conn.execute(select(w).where(w.c.run_id == latest).order_by(w.c.worker))
    return [dict(r._mapping) for r in rows]


def reopen(conn: Connection, item_ids: list[int]) -> None:
    """Make done items pending again, so the fast pass analyses them anew."""
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start : start + 500]
        conn.execute(update(s.items).where(s.items.c.id.in_(chunk)).values(status="pending"))


def pending_totals(conn: Connection) -> tuple[int, int]:
    """Number and total stated size of items still to process."""
    row = conn.execute(
        select(func.count(), func.coalesce(func.sum(s.items.c.size), 0)).where(
            s.items.c.status == "pending"
        )
    ).one()
    return int(row[0]), int(row[1])


def pending_tasks(
    conn: Connection, specs: dict[int, SourceSpec], batch: int
) -> Iterator[ItemTask]:
    """Pending items in id order, read in pages so memory stays flat."""
    after = 0
    while True:
        rows = conn.execute(
            select(
                s.items.c.id,
                s.items.c.source_id,
                s.items.c.path,
                s.items.c.locator,
                s.items.c.size,
            )
            .where(and_(s.items.c.status == "pending", s.items.c.id > after))
            .order_by(s.items.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for r in rows:
            yield ItemTask(r.id, specs[r.source_id], r.path, bytes(r.locator), r.size)
        after = rows[-1].id


def write_records(conn: Connection, run_id: int, records: Iterable[FileRecord]) -> None:
    """Store results and mark their items done, in the caller's transaction."""
    records = list(records)
    if not records:
        return
    ids = [r.item_id for r in records]
    for table in (s.images, s.exif, s.videos, s.video_frames):
        conn.execute(delete(table).where(table.c.item_id.in_(ids)))
    conn.execute(
        delete(s.item_errors).where(
            and_(s.item_errors.c.item_id.in_(ids), s.item_errors.c.analyser != LISTING)
        )
    )
    _update_items(conn, run_id, records)
    images = [
        {
            **asdict(r.image),
            "item_id": r.item_id,
            "pdq_dihedral": ",".join(r.image.pdq_dihedral) if r.image.pdq_dihedral else None,
        }
        for r in records
        if r.image
    ]
    if images:
        conn.execute(insert(s.images), images)
    exifs = [{**asdict(r.exif), "item_id": r.item_id} for r in records if r.exif]
    if exifs:
        conn.execute(insert(s.exif), exifs)
    _insert_videos(conn, records)
    errors = [
        {"item_id": r.item_id, "analyser": a, "message": m} for r in records for a, m in r.errors
    ]
    if errors:
        conn.execute(insert(s.item_errors), errors)
    source_of = dict(
        conn.execute(select(s.items.c.id, s.items.c.source_id).where(s.items.c.id.in_(ids))).all()
    )
    for r in records:
        if r.children:
            insert_entries(conn, source_of[r.item_id], r.children, parent_id=r.item_id)


def _insert_videos(conn: Connection, records: list[FileRecord]) -> None:
    videos = [(r.item_id, r.video) for r in records if r.video]
    if not videos:
        return
    rows = [
        {**{k: v for k, v in asdict(v).items() if k != "frame_hashes"}, "item_id": item_id}
        for item_id, v in videos
    ]
    conn.execute(insert(s.videos), rows)
    frames = [
        {"item_id": item_id, "frame_index": i, "timestamp": t, "pdq": h, "quality": q}
        for item_id, v in videos
        for i, t, h, q in v.frame_hashes
    ]
    if frames:
        conn.execute(insert(s.video_frames), frames)


def _update_items(conn: Connection, run_id: int, records: list[FileRecord]) -> None:
    stmt = (
        update(s.items)
        .where(s.items.c.id == bindparam("b_id"))
        .values(
            status="done",
            run_id=run_id,
            analysers=bindparam("b_analysers"),
            # The size actually read wins; the listed size stays when nothing could be read.
            size=func.coalesce(bindparam("b_size"), s.items.c.size),
            md5=bindparam("b_md5"),
            sha1=bindparam("b_sha1"),
            sha256=bindparam("b_sha256"),
            mime=bindparam("b_mime"),
            extension_mismatch=bindparam("b_mismatch"),
        )
    )
    conn.execute(
        stmt,
        [
            {
                "b_id": r.item_id,
                "b_analysers": ",".join(r.analysers),
                "b_size": r.size,
                "b_md5": r.md5,
                "b_sha1": r.sha1,
                "b_sha256": r.sha256,
                "b_mime": r.mime,
                "b_mismatch": r.extension_mismatch,
            }
            for r in records
        ],
    )
