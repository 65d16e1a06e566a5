"""Writing leads: rows, ranks, and the history of every score change.

A ranking is reproducible only with the weights that made it, so every run (a whole
correlation, or one reviewer decision re-scoring its neighbourhood) is recorded with
its weights, and every lead whose score moved gets a change row naming the reasons
it gained and lost: "raised: same capture session as a picture alice categorised A".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    case,
    exists,
    insert,
    literal,
    select,
    update,
)

from unseen.core.batches import id_lists
from unseen.core.timeconv import utc_now
from unseen.correlation.reasons import Reason
from unseen.store import schema as s

Key = tuple[str, int]  # (target kind, target id)


@dataclass(frozen=True, slots=True)
class Lead:
    score: float
    reasons: tuple[Reason, ...]


def as_json(reasons: Iterable[Reason]) -> str:
    return json.dumps([r.as_dict() for r in reasons])


def from_json(raw: str) -> tuple[Reason, ...]:
    return tuple(Reason.from_dict(r) for r in json.loads(raw) if isinstance(r, dict))


def current(conn: Connection, kind: str, ids: Iterable[int] | None = None) -> dict[int, Lead]:
    """The stored leads of one kind (all, or those with ``ids``)."""
    if ids is None:
        return stored(conn, kind)
    found: dict[int, Lead] = {}
    for chunk in id_lists(ids):
        found.update(stored(conn, kind, s.leads.c.target_id.in_(chunk)))
    return found


def stored(conn: Connection, kind: str, *where: ColumnElement[bool]) -> dict[int, Lead]:
    """The stored leads of one kind that meet ``where`` by target id."""
    lead = s.leads
    query = select(lead.c.target_id, lead.c.score, lead.c.reasons).where(
        lead.c.target_kind == kind, *where
    )
    found: dict[int, Lead] = {}
    # Neighbours share their reasons word for word (a camera's pictures: a quarter of
    # the texts at 100k items), so each text is parsed once.
    parsed: dict[str, tuple[Reason, ...]] = {}
    for target, score, reasons in conn.execute(query):
        known = parsed.get(reasons)
        if known is None:
            known = parsed[reasons] = from_json(reasons)
        found[int(target)] = Lead(float(score), known)
    return found


def scores(conn: Connection, kind: str, ids: Iterable[int]) -> dict[int, float]:
    """The stored scores of leads of one kind with ``ids``, their reasons left unread."""
    lead = s.leads
    query = select(lead.c.target_id, lead.c.score).where(lead.c.target_kind == kind)
    found: dict[int, float] = {}
    for chunk in id_lists(ids):
        for target, score in conn.execute(query.where(lead.c.target_id.in_(chunk))):
            found[int(target)] = float(score)
    return found


def record_run(
    conn: Connection,
    cause: str,
    weights: Mapping[str, Mapping[str, float]],
    before: Mapping[Key, Lead],
    after: Mapping[Key, Lead],
) -> int:
    """Store the run and a change row per lead whose score moved, appeared or went.

    A first ranking (nothing before) records no per-lead rows: every reason is in
    the leads themselves.
    """
    rows = [] if not before else changes(before, after)
    run_id = start_run(conn, cause, weights, len(rows))
    add_changes(conn, run_id, rows)
    return run_id


def start_run(
    conn: Connection, cause: str, weights: Mapping[str, Mapping[str, float]], changed: int
) -> int:
    """Store a run's row (its change rows follow, perhaps in later transactions)."""
    run_id = conn.execute(
        insert(s.lead_runs).values(
            at=utc_now(),
            cause=cause,
            weights=json.dumps(weights, sort_keys=True),
            changed=changed,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    return int(run_id)


def add_changes(conn: Connection, run_id: int, rows: list[dict[str, object]]) -> None:
    """Store ``changes`` rows for the run ``run_id``."""
    if rows:
        conn.execute(insert(s.lead_changes), [c | {"run_id": run_id} for c in rows])


def finish_run(conn: Connection, run_id: int, changed: int) -> None:
    """Record how many leads a run changed, once its change rows are all written."""
    runs = s.lead_runs
    conn.execute(update(runs).where(runs.c.id == run_id).values(changed=changed))


def changes(before: Mapping[Key, Lead], after: Mapping[Key, Lead]) -> list[dict[str, object]]:
    """A change row per lead whose score moved, appeared or went (without its run)."""
    rows: list[dict[str, object]] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and old.score == new.score:
            continue
        old_set = set(old.reasons) if old else set()
        new_set = set(new.reasons) if new else set()
        gained = [r for r in (new.reasons if new and old else ()) if r not in old_set]
        lost = [r for r in (old.reasons if old and new else ()) if r not in new_set]
        rows.append(
            {
                "target_kind": key[0],
                "target_id": key[1],
                "old_score": old.score if old else None,
                "new_score": new.score if new else None,
                "gained": as_json(gained),
                "lost": as_json(lost),
            }
        )
    return rows


def latest_weights(conn: Connection) -> dict[str, dict[str, float]] | None:
    """The weights of the case's latest ranking (None before any)."""
    raw = conn.execute(
        select(s.lead_runs.c.weights).order_by(s.lead_runs.c.id.desc()).limit(1)
    ).scalar()
    return json.loads(raw) if raw else None


def decided(kind: str, target: ColumnElement[int]) -> ColumnElement[bool]:
    """Whether a lead's target is decided: categorised items are no longer unseen and
    come after every undecided lead (they keep their lead: an undo brings them back)."""
    if kind != "item":
        return literal(False)
    return exists().where(s.review_state.c.item_id == target)


def order(kind: str, lead: Table = s.leads) -> list[ColumnElement[Any]]:
    """The queue's order of one kind's leads: undecided first, best score first, then
    target id. It is computed where it is read (nothing stored renumbers every lead
    of the case after each decision); ``ROW_NUMBER`` over it gives the shown rank."""
    return [case((decided(kind, lead.c.target_id), 1), else_=0), *best_first(lead)]


def best_first(lead: Table = s.leads) -> list[ColumnElement[Any]]:
    """The order among undecided leads (``ix_leads_score`` holds it): where decided
    items are left out, a lead's place in it is its rank."""
    return [lead.c.score.desc(), lead.c.target_id]


def ranks(conn: Connection, kind: str) -> Iterator[tuple[int, int]]:
    """Every lead of one kind as (target id, rank), best first: rank 1 is looked at first."""
    lead = s.leads
    rows = conn.execute(
        select(lead.c.target_id).where(lead.c.target_kind == kind).order_by(*order(kind))
    )
    for n, (target,) in enumerate(rows, 1):
        yield int(target), n
