"""The leads queue as a reviewer works it: strips of each group's most telling
pictures, "looked at" marks that survive a re-ranking, and categorising a whole group.

Groups are marked by kind and key (stable when correlation runs again), items by id.
A lead counts as new to a reviewer until they mark it, and again when its score has
risen since they did.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, select

from unseen.core.timeconv import utc_now
from unseen.store import audit
from unseen.store import schema as s

STRIP = 6  # pictures shown per group


def strips(conn: Connection, cluster_ids: Sequence[int], per: int = STRIP) -> dict[int, list[int]]:
    """Each group's undecided unknown members with the best lead scores, best first."""
    if not cluster_ids:
        return {}
    m, lead, rs = s.cluster_members, s.leads, s.review_state
    ranked = (
        select(
            m.c.cluster_id,
            m.c.item_id,
            func.row_number()
            .over(partition_by=m.c.cluster_id, order_by=(lead.c.score.desc(), m.c.item_id))
            .label("n"),
        )
        .join(lead, and_(lead.c.target_kind == "item", lead.c.target_id == m.c.item_id))
        .where(m.c.cluster_id.in_(list(cluster_ids)), m.c.item_id.not_in(select(rs.c.item_id)))
        .subquery()
    )
    found: dict[int, list[int]] = defaultdict(list)
    rows = conn.execute(
        select(ranked.c.cluster_id, ranked.c.item_id)
        .where(ranked.c.n <= per)
        .order_by(ranked.c.cluster_id, ranked.c.n)
    )
    for cluster_id, item_id in rows:
        found[int(cluster_id)].append(int(item_id))
    return dict(found)


def looked(conn: Connection, user: str, kind: str, leads: list[dict[str, Any]]) -> None:
    """Add ``looked`` (the latest mark: when, at which score) and ``new`` to each lead."""
    keys = _keys(conn, kind, [x["target_id"] for x in leads])
    v = s.lead_views
    marks: dict[str, tuple[str, float]] = {}
    rows = conn.execute(
        select(v.c.target_key, v.c.at, v.c.score)
        .where(v.c.user == user, v.c.target_kind == kind, v.c.target_key.in_(keys.values()))
        .order_by(v.c.id)
    )
    for key, at, score in rows:
        marks[str(key)] = (str(at), float(score))
    for x in leads:
        mark = marks.get(keys.get(x["target_id"], ""))
        x["looked"] = {"at": mark[0], "score": mark[1]} if mark else None
        x["new"] = mark is None or x["score"] > mark[1]


def _keys(conn: Connection, kind: str, targets: list[int]) -> dict[int, str]:
    """The stable keys of many lead targets, in one query."""
    if kind == "item":
        return {t: str(t) for t in targets}
    c = s.clusters
    rows = conn.execute(select(c.c.id, c.c.kind, c.c.key).where(c.c.id.in_(targets)))
    return {int(i): f"{k}|{key}" for i, k, key in rows}


def mark_looked(conn: Connection, user: str, kind: str, target: int) -> bool:
    """Record that ``user`` looked at a lead (audited); False when there is no such lead."""
    key = _keys(conn, kind, [target]).get(target)
    lead = s.leads
    score = conn.execute(
        select(lead.c.score).where(lead.c.target_kind == kind, lead.c.target_id == target)
    ).scalar()
    if key is None or score is None:
        return False
    audit.append(conn, user, "lead_looked_at", f"{kind} {target}", {"key": key, "score": score})
    conn.execute(
        s.lead_views.insert().values(
            user=user, target_kind=kind, target_key=key, score=float(score), at=utc_now()
        )
    )
    return True


def undecided_unknown(conn: Connection, cluster_id: int) -> list[int]:
    """A group's members that are neither hash-set known nor reviewer-decided: what
    categorising the group from the leads page decides."""
    query = select(s.cluster_members.c.item_id).where(*_undecided(cluster_id))
    return [int(i) for i in conn.execute(query.order_by(s.cluster_members.c.item_id)).scalars()]


def undecided_counts(conn: Connection, cluster_ids: Sequence[int]) -> dict[int, int]:
    """How many undecided unknown members each group has, in one query."""
    m = s.cluster_members
    rows = conn.execute(
        select(m.c.cluster_id, func.count())
        .where(*_undecided(None), m.c.cluster_id.in_(list(cluster_ids)))
        .group_by(m.c.cluster_id)
    )
    return {int(c): int(n) for c, n in rows}


def _undecided(cluster_id: int | None) -> list[Any]:
    m, a, rs = s.cluster_members, s.auto_categories, s.review_state
    conds = [m.c.item_id.not_in(select(a.c.item_id)), m.c.item_id.not_in(select(rs.c.item_id))]
    return conds if cluster_id is None else [m.c.cluster_id == cluster_id, *conds]
