"""Reviewer decisions: categorise (one item or many), undo, and the effective category.

``reviews`` is append-only. Categorising adds one row per item, all sharing a
``batch_id``; undo adds rows whose ``undoes`` names the reverted ones. An item's
effective reviewer category is its latest review that is neither an undo nor undone;
``review_state`` holds it, recomputed from ``reviews`` in the same transaction.
Every decision is written to the audit log in that transaction too. Call these in a
write transaction that holds the lock from its start (the server's immediate engine).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, func, insert, select

from unseen.core.batches import IN_LIST, batched, id_lists
from unseen.core.schemes import Scheme
from unseen.core.timeconv import utc_now
from unseen.correlation import candidates, feedback
from unseen.store import audit
from unseen.store import schema as s

# SQLite allows 32 766 bound parameters per statement; stay well below it.


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action did: its batch, the reviews written, each item's new category."""

    batch_id: str | None
    reviews: list[int]
    categories: dict[int, str | None]


def categorise(
    conn: Connection, scheme: Scheme, user: str, item_ids: Sequence[int], code: str
) -> Outcome:
    """Record ``code`` for each item (unknown items are skipped); one batch, one entry."""
    scheme.get(code)  # unknown codes are refused, never guessed
    ids = sorted(set(existing_items(conn, item_ids)))
    if not ids:
        return Outcome(None, [], {})
    batch, now = new_batch_id(), utc_now()
    for chunk in batched(ids, IN_LIST):
        conn.execute(
            insert(s.reviews),
            [
                {"item_id": i, "scheme": scheme.name, "category": code, "user": user}
                | {"at": now, "batch_id": batch}
                for i in chunk
            ],
        )
    review_ids = _batch_reviews(conn, batch)
    details = {"scheme": scheme.name, "code": code, "batch": batch, "items": ids}
    audit.append(conn, user, "categorise", _target(ids), details | {"reviews": review_ids})
    was = _decided(conn, ids)
    outcome = Outcome(batch, review_ids, refresh_state(conn, ids))
    cause = f"{user} categorised {_target(ids)} {code} (batch {batch})"
    feedback.rescore_or_queue(conn, ids, cause, settled=_settled(was, outcome.categories))
    return outcome


def _decided(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Which of these items have a reviewer decision now."""
    found: set[int] = set()
    for chunk in batched(ids, IN_LIST):
        rs = s.review_state.c
        found.update(conn.execute(select(rs.item_id).where(rs.item_id.in_(chunk))).scalars())
    return found


def _settled(was: set[int], now: dict[int, str | None]) -> bool:
    """No item entered or left the decided part of the leads queue."""
    return all((i in was) == (code is not None) for i, code in now.items())


def _batch_reviews(conn: Connection, batch: str) -> list[int]:
    query = select(s.reviews.c.id).where(s.reviews.c.batch_id == batch).order_by(s.reviews.c.id)
    return [int(i) for i in conn.execute(query).scalars()]


def undo_last(conn: Connection, user: str) -> Outcome:
    """Revert the user's latest batch that is not reverted yet (nothing: empty outcome)."""
    r = s.reviews
    undone = select(r.c.undoes).where(r.c.undoes.is_not(None))
    latest = conn.execute(
        select(r.c.batch_id)
        .where(r.c.user == user, r.c.undoes.is_(None), r.c.id.not_in(undone))
        .order_by(r.c.id.desc())
        .limit(1)
    ).scalar()
    if latest is None:
        return Outcome(None, [], {})
    targets = conn.execute(
        select(r.c.id, r.c.item_id, r.c.scheme).where(
            r.c.batch_id == latest, r.c.id.not_in(undone)
        )
    ).all()
    scheme_of = {t.id: t.scheme for t in targets}
    batch, now = new_batch_id(), utc_now()
    conn.execute(
        insert(s.reviews),
        [
            {"item_id": t.item_id, "scheme": scheme_of[t.id], "category": None, "user": user}
            | {"at": now, "batch_id": batch, "undoes": t.id}
            for t in targets
        ],
    )
    review_ids = _batch_reviews(conn, batch)
    ids = sorted({t.item_id for t in targets})
    details = {"batch": batch, "undoes_batch": latest, "items": ids, "reviews": review_ids}
    audit.append(conn, user, "undo", _target(ids), details)
    was = _decided(conn, ids)
    outcome = Outcome(batch, review_ids, refresh_state(conn, ids))
    cause = f"{user} undid batch {latest} on {_target(ids)} (batch {batch})"
    feedback.rescore_or_queue(conn, ids, cause, settled=_settled(was, outcome.categories))
    return outcome


def refresh_state(conn: Connection, item_ids: Sequence[int]) -> dict[int, str | None]:
    """Recompute ``review_state`` for these items from ``reviews``; returns their codes."""
    r = s.reviews
    undone = select(r.c.undoes).where(r.c.undoes.is_not(None))
    result: dict[int, str | None] = {}
    for chunk in id_lists(item_ids):
        live = (
            select(r.c.item_id, func.max(r.c.id).label("rid"))
            .where(r.c.item_id.in_(chunk), r.c.undoes.is_(None), r.c.id.not_in(undone))
            .group_by(r.c.item_id)
            .subquery()
        )
        rows = conn.execute(
            select(r.c.id, r.c.item_id, r.c.category, r.c.user, r.c.at).select_from(
                r.join(live, and_(live.c.rid == r.c.id))
            )
        ).all()
        conn.execute(delete(s.review_state).where(s.review_state.c.item_id.in_(chunk)))
        if rows:
            conn.execute(
                insert(s.review_state),
                [
                    {"item_id": x.item_id, "review_id": x.id, "category": x.category}
                    | {"user": x.user, "at": x.at}
                    for x in rows
                ],
            )
        result.update(dict.fromkeys(chunk))
        result.update({x.item_id: x.category for x in rows})
    # Undecided again: back among their groups' best kept pictures (the leads page).
    candidates.admit(conn, [i for i, code in result.items() if code is None])
    return result


def existing_items(conn: Connection, item_ids: Iterable[int]) -> list[int]:
    """The ids among ``item_ids`` that are items of the case."""
    found: list[int] = []
    for chunk in id_lists(item_ids):
        found.extend(conn.execute(select(s.items.c.id).where(s.items.c.id.in_(chunk))).scalars())
    return found


def history(conn: Connection, item_id: int) -> list[dict[str, object]]:
    """Every review of one item, oldest first, with whether it was undone."""
    r = s.reviews
    undone = set(
        conn.execute(
            select(r.c.undoes).where(r.c.item_id == item_id, r.c.undoes.is_not(None))
        ).scalars()
    )
    rows = conn.execute(select(r).where(r.c.item_id == item_id).order_by(r.c.id)).all()
    return [{**dict(x._mapping), "undone": x.id in undone} for x in rows]


def new_batch_id() -> str:
    """A random id shared by the reviews of one action."""
    return secrets.token_hex(8)


def _target(ids: Sequence[int]) -> str:
    return f"item {ids[0]}" if len(ids) == 1 else f"{len(ids)} items"
