"""The one ledger of work done: ``done(item, job, version)``.

Every job records here which items it has processed in which version (whole-case
jobs under item 0). Resuming after a kill and re-running after a version bump both
read it: what is missing or carries another version than the job's current one is
to do. Writes happen in the caller's transaction, together with the job's results,
so a kill never leaves results without their entry or an entry without results.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping, Sequence

from sqlalchemy import Connection, and_, delete, func, insert, select

from unseen.store import schema as s

# Rows per IN (...) list: under the parameter limits of SQLite and PostgreSQL.
CHUNK = 500


def versions(conn: Connection, job: str) -> dict[int, str]:
    """Item id -> version, for every item ``job`` has done."""
    d = s.job_done
    rows = conn.execute(select(d.c.item_id, d.c.version).where(d.c.job == job))
    return {item_id: version for item_id, version in rows}


def pairs(conn: Connection, jobs: Collection[str]) -> dict[tuple[int, str], str]:
    """(item id, job) -> version, for every item any of ``jobs`` has done."""
    d = s.job_done
    rows = conn.execute(select(d.c.item_id, d.c.job, d.c.version).where(d.c.job.in_(list(jobs))))
    return {(item_id, job): version for item_id, job, version in rows}


def done_ids(conn: Connection, job: str, version: str) -> set[int]:
    """The items ``job`` has done in ``version``."""
    d = s.job_done
    rows = conn.execute(select(d.c.item_id).where(and_(d.c.job == job, d.c.version == version)))
    return set(rows.scalars())


def stale_ids(conn: Connection, job: str, version: str) -> list[int]:
    """The items ``job`` has done in another version than ``version``, in id order."""
    d = s.job_done
    rows = conn.execute(
        select(d.c.item_id)
        .where(and_(d.c.job == job, d.c.version != version))
        .order_by(d.c.item_id)
    )
    return list(rows.scalars())


def mark(conn: Connection, job: str, version: str, item_ids: Iterable[int]) -> None:
    """Record that ``job`` has done these items in ``version`` (replacing older entries)."""
    ids = sorted(set(item_ids))
    forget(conn, (job,), ids)
    add(conn, [(job, i, version) for i in ids])


def add(conn: Connection, entries: Sequence[tuple[str, int, str]]) -> None:
    """Insert ``(job, item, version)`` entries the caller has cleared: one statement for a
    whole batch of items and jobs (the fast pass stores several per item)."""
    if entries:
        now = time.time()
        rows = [{"job": j, "item_id": i, "version": v, "at": now} for j, i, v in entries]
        conn.execute(insert(s.job_done), rows)


def forget(conn: Connection, jobs: Collection[str], item_ids: Iterable[int]) -> None:
    """Drop the entries of ``jobs`` for these items, so the jobs do them again."""
    if not jobs:
        return
    ids = sorted(set(item_ids))
    d = s.job_done
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        conn.execute(delete(d).where(and_(d.c.job.in_(list(jobs)), d.c.item_id.in_(chunk))))


def recent(conn: Connection, jobs: Collection[str], since: float) -> int:
    """Items any of ``jobs`` has done since ``since`` (Unix seconds)."""
    d = s.job_done
    query = select(func.count(func.distinct(d.c.item_id))).where(
        and_(d.c.job.in_(list(jobs)), d.c.at >= since)
    )
    return int(conn.execute(query).scalar() or 0)


def items_done(conn: Connection, jobs: Collection[str]) -> int:
    """Items any of ``jobs`` has done, in whatever version."""
    d = s.job_done
    query = select(func.count(func.distinct(d.c.item_id))).where(d.c.job.in_(list(jobs)))
    return int(conn.execute(query).scalar() or 0)


def stale(conn: Connection, current: Mapping[str, str]) -> dict[str, int]:
    """For each job of ``current`` (name -> current version), how many of its entries
    carry another version: what the next run will redo. Jobs with none are left out."""
    d = s.job_done
    rows = conn.execute(
        select(d.c.job, d.c.version, func.count())
        .where(d.c.job.in_(list(current)))
        .group_by(d.c.job, d.c.version)
    )
    counts: dict[str, int] = {}
    for job, version, n in rows:
        if version != current[job]:
            counts[job] = counts.get(job, 0) + n
    return counts
