"""The groupings' clusters, staged in the database as they are made, not held.

A million items' clusters held as objects, with each item's list of them for the
ranking, took about a gigabyte beside the facts. Here each cluster goes to temporary
tables of the correlation run's own connection as a grouping yields it (a temporary
table takes no lock on the case: reviewers go on writing meanwhile), and only what
ranking reads of a cluster is kept (``Group``: its kind, label, unknown members and
anchors, not its members). The store copies the staged rows into the case in its
transaction; ranking reads each item's clusters back in item order and each
cluster's members in cluster order.

Temporary tables live in the database's own temporary storage (SQLite's temporary
files, removed as they are opened; PostgreSQL's session tables) and go with the
connection or at ``drop``.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    text,
)

from unseen.correlation.association import Anchor
from unseen.correlation.base import Cluster, Member
from unseen.correlation.facts import STREAM, ItemFacts, in_step
from unseen.correlation.scoring import Group
from unseen.store import schema as s

ROWS = 10_000  # staged rows per insert

_tables = MetaData()
staged_clusters = Table(
    "staged_clusters",
    _tables,
    *(Column(c.name, c.type, primary_key=c.primary_key) for c in s.clusters.columns),
    prefixes=["TEMPORARY"],
)
staged_members = Table(
    "staged_members",
    _tables,
    Column("cluster_id", Integer, primary_key=True),
    Column("item_id", Integer, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("score", Float, nullable=False),
    prefixes=["TEMPORARY"],
)
# The clusters' leads before this run by (kind, key): cluster ids change with every run.
staged_previous = Table(
    "staged_previous",
    _tables,
    Column("old_id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("key", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("reasons", Text, nullable=False),
    prefixes=["TEMPORARY"],
)
# Made once the rows are in (faster than kept up row by row); not declared on the
# tables, which would make them with the tables.
_BY_ITEM = text("CREATE INDEX ix_staged_members_item ON staged_members (item_id, cluster_id)")
_BY_KEY = text("CREATE INDEX ix_staged_previous_key ON staged_previous (kind, key)")


class Staging:
    """The run's clusters in temporary tables of ``conn``, numbered 1, 2, ... as added
    (a rerun, or another database engine, gives every cluster the same id)."""

    def __init__(self, conn: Connection, matched: Container[int], known: Mapping[int, Anchor]):
        self.conn, self.matched, self.known = conn, matched, known
        self.groups: list[Group] = []
        self._clusters: list[dict[str, object]] = []
        self._members: list[dict[str, object]] = []
        self.drop()  # a pooled connection may hold an earlier run's (one that failed)
        _tables.create_all(conn)

    def add(self, c: Cluster) -> None:
        cluster_id = len(self.groups) + 1
        self._clusters.append(_cluster_row(cluster_id, c))
        self.groups.append(Group.of(c, self.matched, self.known))
        for m in c.members:
            self._members.append(_member_row(cluster_id, m))
            if len(self._members) >= ROWS:
                self._flush()

    def close(self) -> None:
        """Write what is buffered and index the members by item, for ``by_item``."""
        self._flush()
        self.conn.execute(_BY_ITEM)

    def _flush(self) -> None:
        for table, rows in ((staged_clusters, self._clusters), (staged_members, self._members)):
            if rows:
                self.conn.execute(insert(table), rows)
                rows.clear()

    def save_previous(self) -> None:
        """Keep the case's cluster leads (before the store replaces them) by cluster."""
        c, lead = s.clusters, s.leads
        query = select(c.c.id, c.c.kind, c.c.key, lead.c.score, lead.c.reasons).join_from(
            lead, c, (lead.c.target_kind == "cluster") & (lead.c.target_id == c.c.id)
        )
        columns = ["old_id", "kind", "key", "score", "reasons"]
        self.conn.execute(insert(staged_previous).from_select(columns, query))
        self.conn.execute(_BY_KEY)

    def previous(self, first: int, last: int) -> Iterator[tuple[int, float, str]]:
        """(cluster id, score, reasons) of the saved leads of the clusters ``first`` to
        ``last`` by kind and key; the last-stored one where a key repeats."""
        c, p = staged_clusters, staged_previous
        query = (
            select(c.c.id, p.c.score, p.c.reasons)
            .join_from(c, p, (p.c.kind == c.c.kind) & (p.c.key == c.c.key))
            .where(c.c.id.between(first, last))
            .order_by(c.c.id, p.c.old_id)
        )
        for cluster_id, score, reasons in self.conn.execute(query):
            yield int(cluster_id), float(score), str(reasons)

    def copy(self) -> None:
        """The staged clusters and members into the case (in the caller's transaction,
        the case's own rows deleted)."""
        for table, staged in ((s.clusters, staged_clusters), (s.cluster_members, staged_members)):
            names = [c.name for c in staged.columns]
            self.conn.execute(insert(table).from_select(names, select(*staged.columns)))

    def by_item(self, facts: Iterable[ItemFacts]) -> Iterator[tuple[ItemFacts, list[Group]]]:
        """Each of ``facts`` (in id order) with its item's groups, in cluster order."""
        m = staged_members
        query = select(m.c.item_id, m.c.cluster_id).order_by(m.c.item_id, m.c.cluster_id)
        groups = self.groups
        with self.conn.execute(query.execution_options(yield_per=STREAM)) as result:
            for f, rows in in_step(facts, attrgetter("id"), result):
                yield f, [groups[cluster_id - 1] for _, cluster_id in rows]

    def by_cluster(self) -> Iterator[tuple[int, Sequence[int]]]:
        """Every cluster with members, in id order, with its members' item ids."""
        m = staged_members
        query = select(m.c.cluster_id, m.c.item_id).order_by(m.c.cluster_id, m.c.item_id)
        with self.conn.execute(query.execution_options(yield_per=STREAM)) as result:
            for cluster_id, rows in groupby(result, key=itemgetter(0)):
                yield int(cluster_id), array("q", (int(r[1]) for r in rows))

    def drop(self) -> None:
        for table in reversed(_tables.sorted_tables):
            table.drop(self.conn, checkfirst=True)


def _cluster_row(cluster_id: int, c: Cluster) -> dict[str, Any]:
    return {
        "id": cluster_id,
        "kind": c.kind,
        "key": c.key,
        "label": c.label,
        "confidence": c.confidence,
        "size": len(c.members),
        "details": json.dumps(c.details, sort_keys=True),
    }


def _member_row(cluster_id: int, m: Member) -> dict[str, object]:
    return {"cluster_id": cluster_id, "item_id": m.item_id, "reason": m.reason, "score": m.score}
