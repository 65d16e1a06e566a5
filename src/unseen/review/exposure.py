"""Exposure metering: how many items each reviewer revealed, and for how long.

One row per reveal (a held thumbnail or an opened full-size medium), per session.
Once a session has revealed ``break_after_reveals`` items or ``break_after_seconds``
of media since its last break, the page offers a gentle break prompt; taking (or
dismissing) it moves the session's ``break_mark`` to the latest reveal.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from unseen.core.timeconv import utc_now
from unseen.review.config import ReviewConfig
from unseen.store import schema as s

KINDS = ("thumb", "full")
# A reveal is a deliberate hold, so clamp obviously wrong client timings (ms).
MAX_REVEAL_MS = 10 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Totals:
    """Reveals and revealed time (ms) in a session: all of it and since the last break."""

    reveals: int
    ms: int
    reveals_since_break: int
    ms_since_break: int

    def needs_break(self, config: ReviewConfig) -> bool:
        return (
            self.reveals_since_break >= config.break_after_reveals
            or self.ms_since_break >= config.break_after_seconds * 1000
        )


def record(
    conn: Connection, session_id: int, user: str, item_id: int | None, kind: str, ms: int
) -> None:
    """Store one reveal of ``ms`` milliseconds (clamped to 0 .. 10 minutes)."""
    conn.execute(
        insert(s.exposure).values(
            session_id=session_id,
            user=user,
            item_id=item_id,
            kind=kind,
            at=utc_now(),
            duration_ms=max(0, min(ms, MAX_REVEAL_MS)),
        )
    )


def totals(conn: Connection, session_id: int) -> Totals:
    """The session's reveals and revealed time, in all and since its last break."""
    e = s.exposure
    mark = conn.execute(
        select(s.review_sessions.c.break_mark).where(s.review_sessions.c.id == session_id)
    ).scalar()
    count, total = func.count(), func.coalesce(func.sum(e.c.duration_ms), 0)
    everything = conn.execute(select(count, total).where(e.c.session_id == session_id)).one()
    since = conn.execute(
        select(count, total).where(e.c.session_id == session_id, e.c.id > (mark or 0))
    ).one()
    return Totals(int(everything[0]), int(everything[1]), int(since[0]), int(since[1]))


def take_break(conn: Connection, session_id: int) -> None:
    """Start counting afresh from the latest reveal of the session."""
    latest = conn.execute(
        select(func.coalesce(func.max(s.exposure.c.id), 0)).where(
            s.exposure.c.session_id == session_id
        )
    ).scalar()
    conn.execute(
        update(s.review_sessions)
        .where(s.review_sessions.c.id == session_id)
        .values(break_mark=int(latest or 0))
    )


def by_user(conn: Connection) -> list[dict[str, object]]:
    """Per user: sessions, reveals and revealed minutes, for the supervisor's page."""
    e = s.exposure
    rows = conn.execute(
        select(
            e.c.user,
            func.count(func.distinct(e.c.session_id)),
            func.count(),
            func.coalesce(func.sum(e.c.duration_ms), 0),
        )
        .group_by(e.c.user)
        .order_by(e.c.user)
    ).all()
    return [
        {"user": r[0], "sessions": int(r[1]), "reveals": int(r[2]), "minutes": r[3] / 60000}
        for r in rows
    ]
