"""The leads queue as a reviewer works it: strips of each group's most telling
pictures, "looked at" marks that survive a re-ranking, and categorising a whole group.

Groups are marked by kind and key (stable when correlation runs again), items by id.
A lead counts as new to a reviewer until they mark it, and again when its score has
risen since they did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text

from unseen.core.timeconv import utc_now
from unseen.correlation import candidates
from unseen.store import audit
from unseen.store import schema as s


def strips(
    conn: Connection, cluster_ids: Sequence[int], per: int = candidates.STRIP
) -> tuple[dict[int, list[int]], list[int]]:
    """Each group's undecided members with the best lead scores, best first; and the
    big groups that were ranked member by member (the server keeps their best again:
    ``Rescorer.keep_again``, so the next page reads what is kept).

    Ranking every member of a group costs its size, and a camera group can hold a
    third of the case: big groups' best pictures are kept at correlation time
    (``correlation.candidates``); small ones are ranked whole.
    """
    if not cluster_ids:
        return {}, []
    found, short = candidates.best(conn, cluster_ids, per)
    for cluster_id in short:
        strip = [item_id for item_id, _ in candidates.ranked(conn, cluster_id, per)]
        if strip:
            found[cluster_id] = strip
    return found, short


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
    """How many undecided unknown members each group has.

    Counting the members costs every member of the groups (a third of the case for a
    camera); when fewer items are known or decided than that, each group's size less
    its known or decided members costs only those items.
    """
    c = s.clusters
    ids = list(cluster_ids)
    sizes = {
        int(i): int(n) for i, n in conn.execute(select(c.c.id, c.c.size).where(c.c.id.in_(ids)))
    }
    members = sum(sizes.values())
    settled = sum(
        _at_most(conn, t.c.item_id, members) for t in (s.auto_categories, s.review_state)
    )
    if settled < members:
        return _undecided_by_settled(conn, sizes)
    return _undecided_by_members(conn, ids)


def _at_most(conn: Connection, column: Any, cap: int) -> int:
    """How many rows a table has, counting no further than ``cap``."""
    capped = select(column).limit(cap).subquery()
    return int(conn.execute(select(func.count()).select_from(capped)).scalar() or 0)


def _undecided_by_settled(conn: Connection, sizes: dict[int, int]) -> dict[int, int]:
    """Each group's size less its known or decided members (read from those items)."""
    # CROSS JOIN keeps the known and decided items as the outer loop in SQLite; "+ 0"
    # keeps it probing members by item instead of every member of every group.
    settled = text(
        "SELECT m.cluster_id, count(*) FROM (SELECT item_id FROM auto_categories "
        "UNION SELECT item_id FROM review_state) k CROSS JOIN cluster_members m "
        "WHERE m.item_id = k.item_id AND m.cluster_id + 0 IN :clusters GROUP BY m.cluster_id"
    ).bindparams(bindparam("clusters", expanding=True))
    taken = {int(i): int(n) for i, n in conn.execute(settled, {"clusters": sorted(sizes)})}
    left = {i: n - taken.get(i, 0) for i, n in sizes.items()}
    return {i: n for i, n in left.items() if n > 0}


def _undecided_by_members(conn: Connection, cluster_ids: Sequence[int]) -> dict[int, int]:
    """How many undecided unknown members each group has, counted member by member."""
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
