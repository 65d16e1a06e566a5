"""Each big group's best undecided pictures, kept so that the leads page's strips read
a few rows a group instead of ranking every member of a camera of 100,000 pictures.

A group of more than ``KEEP`` members keeps its ``KEEP`` best undecided members with
a lead (score, then item id: the strips' order) and its floor, the last kept one.
The promise: every undecided member with a lead that ranks at or above the floor is
kept. Correlation builds it (``keep``); a lead that rises, or an undo that makes a
picture undecided again, admits the item to each of its groups whose floor it now
reaches (``admit``, in the same transaction). A kept member whose score fell stays
kept and is ranked by its current score, so a group's best ``per`` undecided kept
members are its best ``per`` of all when the last of them is at or above the floor.
When not (reviewers decided most of the kept ones, or a decision lowered them all),
the group is ranked member by member: after a re-scoring (``settle``), or by the
page, which hands it to the server to keep its best again (``refill``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import Connection, TextClause, bindparam, delete, func, insert, select, text

from unseen.core.batches import batched, id_lists
from unseen.store import schema as s

KEEP = 64  # members kept a group: about 58 decisions in it before the page ranks it again
STRIP = 6  # pictures the leads page shows a group

Strips = dict[int, list[int]]  # cluster id -> item ids, best first


def keep(
    conn: Connection, groups: Iterable[tuple[int, Sequence[int]]], score: Callable[[int], float]
) -> None:
    """Keep the best of each group of more than ``KEEP`` members (cluster id, member
    ids), by ``score`` (NaN: decided or without a lead). Call after the clusters,
    members and leads are written, with the candidates of earlier runs deleted."""
    kept: list[dict[str, object]] = []
    floors: list[dict[str, object]] = []
    for cluster_id, ids in groups:
        if len(ids) <= KEEP:
            continue
        eligible = [(-x, i) for i in ids if not math.isnan(x := score(i))]
        best = heapq.nsmallest(KEEP, eligible)
        kept += [{"cluster_id": cluster_id, "item_id": i} for _, i in best]
        last = best[-1] if len(eligible) > KEEP else None
        floors.append(_floor_row(cluster_id, None if last is None else (last[1], -last[0])))
    for table, rows in ((s.strip_candidates, kept), (s.strip_floors, floors)):
        for batch in batched(rows, 10_000):
            conn.execute(insert(table), batch)


def _floor_row(cluster_id: int, last: tuple[int, float] | None) -> dict[str, object]:
    item_id, score = last if last is not None else (None, None)
    return {"cluster_id": cluster_id, "score": score, "item_id": item_id}


# Members at or above their group's floor (NULL: all), not kept yet, read from the
# items outwards (CROSS JOIN: SQLite's order). The SELECT keeps a WHERE so SQLite
# parses ON CONFLICT as the insert's (another process admitting the same item at once
# on PostgreSQL is not an error).
_ADMIT = text(
    "INSERT INTO strip_candidates (cluster_id, item_id) "
    "SELECT m.cluster_id, m.item_id FROM cluster_members m "
    "CROSS JOIN strip_floors f CROSS JOIN leads l "
    "WHERE m.item_id IN :items AND f.cluster_id = m.cluster_id "
    "AND l.target_kind = 'item' AND l.target_id = m.item_id "
    "AND (f.score IS NULL OR l.score > f.score "
    "OR (l.score = f.score AND m.item_id <= f.item_id)) "
    "AND NOT EXISTS (SELECT 1 FROM strip_candidates k "
    "WHERE k.cluster_id = m.cluster_id AND k.item_id = m.item_id) "
    "ON CONFLICT DO NOTHING"
).bindparams(bindparam("items", expanding=True))


def admit(conn: Connection, items: Iterable[int]) -> None:
    """Keep these items in each of their groups whose floor their lead now reaches:
    after their leads moved, or they became undecided again."""
    for chunk in id_lists(items):
        conn.execute(_ADMIT, {"items": chunk})


def _best_of(source: str) -> TextClause:
    """Each group's best ``per`` undecided members with a lead, from ``source``
    (cluster_members or strip_candidates), best first."""
    # CROSS JOIN keeps the groups' rows as the outer loop in SQLite: led by the leads
    # (best first, by their index) it read every lead of the case (39 s at 1 M).
    return text(
        "SELECT cluster_id, item_id, score FROM (SELECT m.cluster_id, m.item_id, l.score, "
        "ROW_NUMBER() OVER (PARTITION BY m.cluster_id ORDER BY l.score DESC, m.item_id) n "
        f"FROM {source} m CROSS JOIN leads l "
        "WHERE l.target_kind = 'item' AND l.target_id = m.item_id AND m.cluster_id IN :clusters "
        "AND NOT EXISTS (SELECT 1 FROM review_state r WHERE r.item_id = m.item_id)) b "
        "WHERE n <= :per ORDER BY cluster_id, n"
    ).bindparams(bindparam("clusters", expanding=True))


_BEST_MEMBERS = _best_of("cluster_members")
_BEST_KEPT = _best_of("strip_candidates")


def best(conn: Connection, cluster_ids: Sequence[int], per: int) -> tuple[Strips, list[int]]:
    """Each group's best ``per`` undecided members with a lead: small groups ranked
    member by member, big ones from their kept members. Also the big groups whose
    kept members cannot tell (none kept, or too many decided): ``ranked`` ranks them."""
    c, f = s.clusters, s.strip_floors
    heads = conn.execute(
        select(c.c.id, c.c.size, f.c.cluster_id, f.c.score, f.c.item_id)
        .select_from(c.outerjoin(f, f.c.cluster_id == c.c.id))
        .where(c.c.id.in_(list(cluster_ids)))
    ).all()
    small = [int(h.id) for h in heads if h.size <= KEEP]
    floors = {int(h.id): (h.score, h.item_id) for h in heads if h.cluster_id is not None}
    unkept = [int(h.id) for h in heads if h.size > KEEP and h.cluster_id is None]
    found = _read(conn, _BEST_MEMBERS, small, per)
    kept = _read(conn, _BEST_KEPT, sorted(floors), per)
    short = unkept
    for cluster_id, (score, item_id) in sorted(floors.items()):
        strip = kept.get(cluster_id, [])
        if score is None or (len(strip) == per and _reaches(strip[-1], score, item_id)):
            if strip:
                found[cluster_id] = strip
        else:
            short.append(cluster_id)
    return {i: [item for item, _ in strip] for i, strip in found.items()}, sorted(short)


def _reaches(member: tuple[int, float], score: float, item_id: int) -> bool:
    """Whether a member (item id, score) ranks at or above a floor."""
    return member[1] > score or (member[1] == score and member[0] <= item_id)


def _read(
    conn: Connection, query: TextClause, cluster_ids: list[int], per: int
) -> dict[int, list[tuple[int, float]]]:
    found: dict[int, list[tuple[int, float]]] = {}
    if cluster_ids:
        for cluster_id, item_id, score in conn.execute(
            query, {"clusters": cluster_ids, "per": per}
        ):
            found.setdefault(int(cluster_id), []).append((int(item_id), float(score)))
    return found


# One group's best, not ``_BEST_MEMBERS`` for one group: with a LIMIT SQLite keeps
# only ``per`` rows while it reads a big group's members (0.07 s for 100,000), where
# the window numbers all of them (0.18 s). CROSS JOIN keeps the members as the outer
# loop: led by the leads, it probed every lead against every group.
_RANK = text(
    "SELECT m.item_id, l.score FROM cluster_members m CROSS JOIN leads l "
    "WHERE m.cluster_id = :cluster AND l.target_kind = 'item' AND l.target_id = m.item_id "
    "AND NOT EXISTS (SELECT 1 FROM review_state r WHERE r.item_id = m.item_id) "
    "ORDER BY l.score DESC, m.item_id LIMIT :per"
)


def ranked(conn: Connection, cluster_id: int, per: int) -> list[tuple[int, float]]:
    """A group's best ``per`` undecided members with a lead (item id, score), ranking
    every member: SQLite keeps only ``per`` while it reads them (0.07 s for a camera
    of 100,000 members at a million items)."""
    rows = conn.execute(_RANK, {"cluster": cluster_id, "per": per})
    return [(int(i), float(x)) for i, x in rows]


def settle(conn: Connection, items: Iterable[int]) -> None:
    """After these items were decided or their leads moved: each group keeping any of
    them is kept again (ranked now) where its best ``STRIP`` kept no longer reach its
    floor (a picture marked "not indecent" lowers its whole burst below the floor it
    set), or where admitting risen pictures made it keep over twice ``KEEP`` (a
    camera's first anchor lifts all its pictures past its floor)."""
    k = s.strip_candidates
    groups: set[int] = set()
    for chunk in id_lists(items):
        query = select(k.c.cluster_id).where(k.c.item_id.in_(chunk)).distinct()
        groups.update(int(i) for i in conn.execute(query).scalars())
    unsettled: set[int] = set()
    for chunk in id_lists(groups):
        counts = (
            select(k.c.cluster_id)
            .where(k.c.cluster_id.in_(chunk))
            .group_by(k.c.cluster_id)
            .having(func.count() > 2 * KEEP)
        )
        grown = {int(i) for i in conn.execute(counts).scalars()}
        unsettled |= grown | set(best(conn, [i for i in chunk if i not in grown], STRIP)[1])
    refill(conn, sorted(unsettled))


def refill(conn: Connection, cluster_ids: Iterable[int]) -> None:
    """Keep each of these big groups' best members again, ranked now: call in a write
    transaction, so no decision or re-scoring comes between the ranking and the rows."""
    k, f, c = s.strip_candidates, s.strip_floors, s.clusters
    big: list[int] = []
    for chunk in id_lists(cluster_ids):
        query = select(c.c.id).where(c.c.id.in_(chunk), c.c.size > KEEP)
        big += [int(i) for i in conn.execute(query).scalars()]
    for cluster_id in big:
        best = ranked(conn, cluster_id, KEEP)
        conn.execute(delete(k).where(k.c.cluster_id == cluster_id))
        conn.execute(delete(f).where(f.c.cluster_id == cluster_id))
        if best:
            rows = [{"cluster_id": cluster_id, "item_id": i} for i, _ in best]
            conn.execute(insert(k), rows)
        last = best[-1] if len(best) == KEEP else None
        conn.execute(insert(f), [_floor_row(cluster_id, last)])
