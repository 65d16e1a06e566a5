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

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from unseen.core.batches import id_lists
from unseen.core.schemes import Scheme, load_scheme
from unseen.core.timeconv import utc_now
from unseen.correlation import ledger
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
# re-score, which a reviewer's click must not wait for.
INLINE_MAX = 20_000


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


def drain(write: Callable[[], AbstractContextManager[Connection]]) -> int:
    """Re-score the queued decisions in a ``write`` transaction, all those queued at
    once together (a reviewer grading several pictures of one camera in a row costs
    one re-scoring of it, not one each), until none is left; returns how many.

    Safe in several processes at once: entries are taken by deleting them in the
    transaction that re-scores them, and one that finds them gone leaves them.
    """
    done = 0
    q = s.rescore_queue
    while True:
        try:
            with write() as conn:
                rows = conn.execute(select(q).order_by(q.c.id)).all()
                if not rows:
                    return done
                # By range, not an id list: a long-stopped server's queue may hold more
                # entries than one statement takes parameters.
                taken = conn.execute(delete(q).where(q.c.id <= rows[-1].id)).rowcount
                if taken != len(rows):
                    raise _Taken
                decided = sorted({i for r in rows for i in json.loads(r.items)})
                cause = "; ".join(r.cause for r in rows)
                rescore(conn, decided, cause, settled=all(r.settled for r in rows))
                done += len(rows)
        except _Taken:
            continue  # rolled back: another process took some of them; look again


class _Taken(Exception):
    """Queued entries another process re-scores: this transaction leaves them."""


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
    weights = ledger.latest_weights(conn)
    if weights is None:  # never ranked: nothing to re-score
        return 0
    scheme = load_scheme(_case_scheme(conn))
    defaults = load_weights()
    for section, values in defaults.items():
        weights.setdefault(section, dict(values))
    hoods = _neighbourhoods(conn, _clusters_of(conn, decided) if clusters is None else clusters)
    members = {m for n in hoods.values() for m in n.members}
    before = ledger.current(conn, "item", members)
    affected = set(before)
    if not affected:
        return 0
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
    _write(conn, "item", before, after)
    clusters_before, clusters_after = _cluster_leads(conn, hoods, known, weights, after)
    _write(conn, "cluster", clusters_before, clusters_after)
    keyed_before = {("item", k): v for k, v in before.items()} | {
        ("cluster", k): v for k, v in clusters_before.items()
    }
    keyed_after = {("item", k): v for k, v in after.items()} | {
        ("cluster", k): v for k, v in clusters_after.items()
    }
    ledger.record_run(conn, cause, weights, keyed_before, keyed_after)
    return sum(1 for k, v in keyed_after.items() if keyed_before.get(k) != v)


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
    """Update changed leads, add new ones, delete those gone. The stored ``rank`` is a
    full correlation run's by-product that nothing reads (the order is computed where
    it is read): a lead added here gets 0."""
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
    if added:
        conn.execute(lead.insert(), added)
    changed = [
        {"k": kind, "t": target, "sc": new.score, "rs": as_json(new.reasons)}
        for target, new in after.items()
        if target in before and before[target] != new
    ]
    if changed:
        conn.execute(
            update(lead)
            .where(lead.c.target_kind == bindparam("k"), lead.c.target_id == bindparam("t"))
            .values(score=bindparam("sc"), reasons=bindparam("rs")),
            changed,
        )
    gone = [t for t in before if t not in after]
    for chunk in id_lists(gone):
        conn.execute(lead.delete().where(lead.c.target_kind == kind, lead.c.target_id.in_(chunk)))
