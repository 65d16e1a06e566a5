"""Relevance feedback: a reviewer's decision re-scores its neighbourhood at once.

Categorising a picture A raises the unknown pictures of its camera, session, scene
and face; marking a holiday burst "not indecent" lowers the rest of the burst. Only
the clusters of the decided items and the leads of their members are touched (no
re-correlation), with the same association function the whole-case ranking uses,
so a decision followed by a full run ranks exactly like the decision alone.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from unseen.core.batches import id_lists
from unseen.core.schemes import Scheme, load_scheme
from unseen.core.timeconv import utc_now
from unseen.correlation import candidates, ledger
from unseen.correlation.association import (
    Anchor,
    Associator,
    Neighbourhood,
    anchor_of,
    is_association,
)
from unseen.correlation.association import Weights as AssociationWeights
from unseen.correlation.facts import reviews
from unseen.correlation.reasons import Reason, total
from unseen.correlation.scoring import cluster_lead, load_weights
from unseen.store import schema as s

# A decision whose groups hold more members than this is re-scored after it, by
# ``drain``: at a million items the busiest camera's 311,000 members took 18 s to
# re-score, which a reviewer's click must not wait for. Inline re-scoring measured
# 10-36 us per member at a million items (once no decision renumbered every lead):
# 8,000 keeps a click under 0.3 s (0.24 s at 8,313 members, 0.27 s at 9,182).
INLINE_MAX = 8_000


def rescore_or_queue(
    conn: Connection, decided: Sequence[int], cause: str, *, settled: bool = False
) -> bool:
    """Re-score the leads around ``decided`` now, or, when their groups are big, queue
    that for ``drain``; returns whether it was queued. Call inside the decision's write
    transaction.

    Until the queued re-scoring is done, the leads around a big group keep their
    earlier scores (every page already leaves decided items out, and says the queue
    is being re-ranked); the end state is the same either way, as ``rescore`` reads
    the decisions as they are when it runs.
    """
    first = _clusters_of(conn, decided)
    members = _members(conn, first)
    if members <= INLINE_MAX:
        rescore(conn, decided, cause, settled=settled, clusters=first)
        return False
    conn.execute(
        insert(s.rescore_queue).values(
            items=json.dumps(sorted(set(decided))),
            cause=cause,
            settled=int(settled),
            members=members,
            at=utc_now(),
        )
    )
    return True


def last_review(conn: Connection) -> int:
    """The newest review row's id (0: none): read before a whole ranking reads the
    decisions, so ``catch_up`` knows which came after."""
    return int(conn.execute(select(func.max(s.reviews.c.id))).scalar() or 0)


def catch_up(conn: Connection, after: int) -> None:
    """Re-score (or queue) around the decisions and undos made after review ``after``:
    a whole ranking computed from the decisions as they were when it began replaces
    the leads they re-scored meanwhile, and its queue."""
    r = s.reviews
    items = conn.execute(select(r.c.item_id).where(r.c.id > after).distinct()).scalars()
    decided = sorted(int(i) for i in items)
    if decided:
        cause = f"{len(decided)} pictures decided or undone while correlation ran"
        rescore_or_queue(conn, decided, cause)


BATCH = 2_000  # leads or change rows per write transaction of a drain

Write = Callable[[], AbstractContextManager[Connection]]


def drain(
    write: Write,
    read: Write | None = None,
    *,
    batch: int = BATCH,
    between: Callable[[], None] | None = None,
) -> int:
    """Re-score the queued decisions, all those queued at once together (a reviewer
    grading several pictures of one camera in a row costs one re-scoring of it, not
    one each), until none is left; returns how many.

    The re-scoring is computed in ``read`` (WAL: it blocks no writer) and written in
    ``write`` transactions of ``batch`` rows each, so a decision made meanwhile waits
    for one batch at most (at a million items the busiest camera took 18 s in one
    write transaction). A decision, undo or correlation run in between changes the
    stamp taken before computing: the entries then stay queued and the next pass
    computes again from the leads as they are (the association part of every reason
    is computed from scratch, so a pass over partly written leads ends the same).
    Safe in several processes at once: each writes the same values, and the entries
    go in the transaction of a last batch that finds the stamp unchanged.
    ``between``: called between write batches (tests make a decision there).
    """
    done = 0
    q = s.rescore_queue
    while True:
        with (read or write)() as conn:
            rows = conn.execute(select(q).order_by(q.c.id)).all()
            if not rows:
                return done
            stamp = _stamp(conn)
            decided = sorted({i for r in rows for i in json.loads(r.items)})
            cause = "; ".join(r.cause for r in rows)
            plan = _plan(conn, decided, cause)
        if _write_in_batches(write, plan, stamp, rows[-1].id, batch, between):
            done += len(rows)


def _stamp(conn: Connection) -> tuple[int, int]:
    """What every decision, undo (each adds review rows) and correlation run changes."""
    r, run = s.reviews, s.lead_runs
    latest = select(func.max(r.c.id))
    runs = select(func.max(run.c.id)).where(run.c.cause == "correlation")
    return int(conn.execute(latest).scalar() or 0), int(conn.execute(runs).scalar() or 0)


def _write_in_batches(
    write: Write,
    plan: _Plan | None,
    stamp: tuple[int, int],
    last: int,
    batch: int,
    between: Callable[[], None] | None,
) -> bool:
    """Write ``plan`` in short transactions; the last one takes the queued entries up
    to ``last`` if nothing changed since ``stamp``. Returns whether it took them."""
    steps: list[Callable[[Connection], None]] = []
    if plan is not None:
        for kind, before, after in plan.kinds:
            steps += _write_steps(kind, before, after, batch)
        steps += [partial(candidates.settle, items=plan.moved()), *_run_steps(plan, batch)]
    for step in steps:
        with write() as conn:
            step(conn)
        if between is not None:
            between()
    q = s.rescore_queue
    with write() as conn:
        if _stamp(conn) != stamp:
            return False  # computed from leads that have moved since: compute again
        conn.execute(delete(q).where(q.c.id <= last))
    return True


def _run_steps(plan: _Plan, batch: int) -> list[Callable[[Connection], None]]:
    """The run's row, then its change rows, in batches."""
    changes = [] if not plan.before else ledger.changes(plan.before, plan.after)
    run: list[int] = []

    def start(conn: Connection) -> None:
        run.append(ledger.start_run(conn, plan.cause, plan.weights, len(changes)))

    def add(rows: list[dict[str, object]]) -> Callable[[Connection], None]:
        return lambda conn: ledger.add_changes(conn, run[0], rows)

    return [start] + [add(changes[i : i + batch]) for i in range(0, len(changes), batch)]


def waiting(conn: Connection) -> int:
    """Members of groups whose re-scoring is queued (0: the leads are up to date)."""
    q = s.rescore_queue
    return int(conn.execute(select(func.coalesce(func.sum(q.c.members), 0))).scalar() or 0)


def _members(conn: Connection, first: set[int]) -> int:
    """Members of the groups a re-scoring reads: the decided items' groups ``first``,
    and the other groups of those groups' members (counted by size; stops early once
    over ``INLINE_MAX``)."""
    counted = _sizes(conn, first)
    if counted > INLINE_MAX:
        return counted
    m = s.cluster_members
    members: set[int] = set()
    for chunk in id_lists(first):
        members.update(
            conn.execute(select(m.c.item_id).where(m.c.cluster_id.in_(chunk))).scalars()
        )
    return counted + _sizes(conn, _clusters_of(conn, members) - first)


def _sizes(conn: Connection, cluster_ids: Iterable[int]) -> int:
    c = s.clusters
    found = 0
    for chunk in id_lists(cluster_ids):
        found += int(
            conn.execute(select(func.sum(c.c.size)).where(c.c.id.in_(chunk))).scalar() or 0
        )
    return found


def rescore(
    conn: Connection,
    decided: Sequence[int],
    cause: str,
    *,
    settled: bool = False,
    clusters: set[int] | None = None,
) -> int:
    """Re-score the leads around ``decided`` items after a decision; returns how many
    leads changed. Call inside the decision's write transaction.

    ``settled``: no decided item entered or left the decided part of the queue (a
    picture re-categorised from one code to another). Nothing is renumbered either
    way: the queue's order is computed where it is read (``ledger.order``), as
    renumbering every lead of the case cost 7 s at a million items.
    ``clusters``: the decided items' groups, when the caller has read them already.
    """
    plan = _plan(conn, decided, cause, clusters)
    if plan is None:
        return 0
    for kind, before, after in plan.kinds:
        _write(conn, kind, before, after)
    candidates.settle(conn, plan.moved())
    ledger.record_run(conn, cause, plan.weights, plan.before, plan.after)
    return plan.changed


@dataclass(frozen=True, slots=True)
class _Plan:
    """A re-scoring computed and not yet written: per kind the leads before and after,
    and the same keyed by (kind, target) for the run's change rows."""

    cause: str
    decided: tuple[int, ...]
    weights: dict[str, dict[str, float]]
    kinds: tuple[tuple[str, dict[int, ledger.Lead], dict[int, ledger.Lead]], ...]
    before: dict[ledger.Key, ledger.Lead]
    after: dict[ledger.Key, ledger.Lead]

    @property
    def changed(self) -> int:
        return sum(1 for k, v in self.after.items() if self.before.get(k) != v)

    def moved(self) -> list[int]:
        """The decided items and those whose leads moved or went: what their groups
        keep as their best pictures may need keeping again (``candidates.settle``)."""
        _, old, new = self.kinds[0]
        moved = [t for t, lead in old.items() if t not in new or new[t].score != lead.score]
        return [*self.decided, *moved]


def _plan(
    conn: Connection, decided: Sequence[int], cause: str, clusters: set[int] | None = None
) -> _Plan | None:
    """Compute the re-scoring around ``decided`` (reads only); None: nothing to do."""
    weights = ledger.latest_weights(conn)
    if weights is None:  # never ranked: nothing to re-score
        return None
    scheme = load_scheme(_case_scheme(conn))
    defaults = load_weights()
    for section, values in defaults.items():
        weights.setdefault(section, dict(values))
    hoods = _neighbourhoods(conn, _clusters_of(conn, decided) if clusters is None else clusters)
    members = {m for n in hoods.values() for m in n.members}
    before = ledger.current(conn, "item", members)
    affected = set(before)
    if not affected:
        return None
    hoods.update(_neighbourhoods(conn, _clusters_of(conn, affected) - set(hoods)))
    known = _anchors(conn, scheme, {m for n in hoods.values() for m in n.members})
    # Each item's groups in cluster id order: the order the whole-case ranking lists
    # them (ids are numbered in its order), so the reasons come out in the same order.
    by_item: dict[int, list[Neighbourhood]] = defaultdict(list)
    for _, n in sorted(hoods.items()):
        for m in n.members:
            by_item[m].append(n)
    associator = Associator(known, AssociationWeights.from_file(weights))
    after: dict[int, ledger.Lead] = {}
    for item_id, old in before.items():
        base = [r for r in old.reasons if not is_association(r.signal)]
        reasons = base + associator.reasons(item_id, by_item[item_id])
        after[item_id] = ledger.Lead(total(reasons), tuple(reasons))
    clusters_before, clusters_after = _cluster_leads(conn, hoods, known, weights, after)
    keyed_before = {("item", k): v for k, v in before.items()} | {
        ("cluster", k): v for k, v in clusters_before.items()
    }
    keyed_after = {("item", k): v for k, v in after.items()} | {
        ("cluster", k): v for k, v in clusters_after.items()
    }
    kinds = (("item", before, after), ("cluster", clusters_before, clusters_after))
    return _Plan(cause, tuple(decided), weights, kinds, keyed_before, keyed_after)


def _case_scheme(conn: Connection) -> str:
    info = s.case_info
    found = conn.execute(select(info.c.value).where(info.c.key == "scheme")).scalar()
    return str(found or "uk")


def _clusters_of(conn: Connection, items: Iterable[int]) -> set[int]:
    m = s.cluster_members
    found: set[int] = set()
    for chunk in id_lists(items):
        found.update(conn.execute(select(m.c.cluster_id).where(m.c.item_id.in_(chunk))).scalars())
    return found


def _neighbourhoods(conn: Connection, cluster_ids: Iterable[int]) -> dict[int, Neighbourhood]:
    c, m = s.clusters, s.cluster_members
    found: dict[int, Neighbourhood] = {}
    for chunk in id_lists(cluster_ids):
        heads = conn.execute(
            select(c.c.id, c.c.kind, c.c.key, c.c.label, c.c.confidence).where(c.c.id.in_(chunk))
        ).all()
        members: dict[int, list[int]] = defaultdict(list)
        for cluster_id, item_id in conn.execute(
            select(m.c.cluster_id, m.c.item_id)
            .where(m.c.cluster_id.in_(chunk))
            .order_by(m.c.cluster_id, m.c.item_id)
        ):
            members[int(cluster_id)].append(int(item_id))
        for h in heads:
            found[int(h.id)] = Neighbourhood(
                h.kind, h.key, h.label, float(h.confidence), tuple(members[int(h.id)])
            )
    return found


def _anchors(conn: Connection, scheme: Scheme, items: set[int]) -> dict[int, Anchor]:
    a = s.auto_categories
    hashed: dict[int, tuple[str | None, bool, str | None]] = {}
    for chunk in id_lists(items):
        for item_id, category, known_good, source in conn.execute(
            select(a.c.item_id, a.c.category, a.c.known_good, a.c.source).where(
                a.c.item_id.in_(chunk)
            )
        ):
            hashed[int(item_id)] = (category, bool(known_good), source)
    reviewed: dict[int, tuple[str, str]] = {}
    for chunk in id_lists(items):
        reviewed.update(reviews(conn, chunk))
    found = {}
    for item_id in items:
        anchor = anchor_of(scheme, reviewed.get(item_id), hashed.get(item_id))
        if anchor is not None:
            found[item_id] = anchor
    return found


def _cluster_leads(
    conn: Connection,
    hoods: dict[int, Neighbourhood],
    known: dict[int, Anchor],
    weights: dict[str, dict[str, float]],
    rescored: dict[int, ledger.Lead],
) -> tuple[dict[int, ledger.Lead], dict[int, ledger.Lead]]:
    """The touched clusters' leads before and after, from their members' new scores."""
    members = {m for n in hoods.values() for m in n.members}
    scores = ledger.scores(conn, "item", members - set(rescored))
    scores.update({i: x.score for i, x in rescored.items()})
    for chunk in id_lists(scores):
        for item_id in reviews(conn, chunk):
            scores.pop(item_id, None)
    before = ledger.current(conn, "cluster", hoods)
    after = {}
    for cluster_id, n in hoods.items():
        lead = cluster_lead(cluster_id, n, scores, known, weights)
        if lead is not None:
            after[cluster_id] = ledger.Lead(lead.score, tuple(lead.reasons))
    return before, after


def _write(
    conn: Connection, kind: str, before: dict[int, ledger.Lead], after: dict[int, ledger.Lead]
) -> None:
    """Update changed leads, add new ones, delete those gone, in this transaction."""
    for step in _write_steps(kind, before, after, None):
        step(conn)


def _write_steps(
    kind: str, before: dict[int, ledger.Lead], after: dict[int, ledger.Lead], batch: int | None
) -> list[Callable[[Connection], None]]:
    """The writes from ``before`` to ``after`` in steps of ``batch`` rows (None: one
    step each), each step idempotent: a drain that repeats another's writes (several
    processes, or a pass again after a decision in between) leaves the same rows. The
    stored ``rank`` is a full correlation run's by-product that nothing reads (the
    order is computed where it is read): a lead added here gets 0."""
    lead = s.leads
    texts: dict[tuple[Reason, ...], str] = {}

    def as_json(reasons: tuple[Reason, ...]) -> str:
        """Neighbours gain the same reasons: each distinct list is written out once."""
        found = texts.get(reasons)
        if found is None:
            found = texts[reasons] = ledger.as_json(reasons)
        return found

    added = [
        {
            "target_kind": kind,
            "target_id": target,
            "score": new.score,
            "rank": 0,
            "reasons": as_json(new.reasons),
        }
        for target, new in after.items()
        if target not in before
    ]
    changed = [
        {"k": kind, "t": target, "sc": new.score, "rs": as_json(new.reasons)}
        for target, new in after.items()
        if target in before and before[target] != new
    ]
    gone = [t for t in before if t not in after]
    # Only a lead that rose can pass a floor it was below.
    rose = {t for t, new in after.items() if t in before and new.score > before[t].score}

    def drop(targets: list[int]) -> Callable[[Connection], None]:
        def step(conn: Connection) -> None:
            for chunk in id_lists(targets):
                conn.execute(
                    lead.delete().where(lead.c.target_kind == kind, lead.c.target_id.in_(chunk))
                )

        return step

    def admitted(targets: list[int], conn: Connection) -> None:
        """Moved leads join the kept best of their groups, in the same transaction."""
        if kind == "item":
            candidates.admit(conn, targets)

    def add(rows: list[dict[str, object]]) -> Callable[[Connection], None]:
        targets = [int(str(r["target_id"])) for r in rows]

        def step(conn: Connection) -> None:
            # Another drain may have added them already: replaced, never doubled.
            for chunk in id_lists(targets):
                conn.execute(
                    lead.delete().where(lead.c.target_kind == kind, lead.c.target_id.in_(chunk))
                )
            conn.execute(lead.insert(), rows)
            admitted(targets, conn)

        return step

    def change(rows: list[dict[str, object]]) -> Callable[[Connection], None]:
        statement = (
            update(lead)
            .where(lead.c.target_kind == bindparam("k"), lead.c.target_id == bindparam("t"))
            .values(score=bindparam("sc"), reasons=bindparam("rs"))
        )

        def step(conn: Connection) -> None:
            conn.execute(statement, rows)
            admitted([t for r in rows if (t := int(str(r["t"]))) in rose], conn)

        return step

    steps: list[Callable[[Connection], None]] = []
    for rows, make in ((added, add), (changed, change)):
        size = batch or max(len(rows), 1)
        steps += [make(rows[i : i + size]) for i in range(0, len(rows), size)]
    size = batch or max(len(gone), 1)
    steps += [drop(gone[i : i + size]) for i in range(0, len(gone), size)]
    return steps
