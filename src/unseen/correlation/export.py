"""What correlation adds to each export record: clusters, first-generation and lead
scores with their reasons, faces, text read in the picture, and the place."""

from __future__ import annotations

import json
from array import array
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, func, select

from unseen.correlation.ledger import ranks
from unseen.correlation.search import faces_of, text_of
from unseen.store import schema as s

KEYS = ("clusters", "first_generation", "lead", "faces", "ocr_text", "place")


def empty() -> dict[str, Any]:
    """The correlation keys of an item correlation knows nothing about."""
    return {"clusters": {}, "first_generation": None, "lead": None, "faces": [],
            "ocr_text": None, "place": None}  # fmt: skip


# Item lead ranks by item id, per connection, with the stamp of the case state they
# were read at: an export asks for them once per page of items, and ranking every lead
# of a million-item case costs seconds.
_RANKS: WeakKeyDictionary[Connection, tuple[tuple[int, ...], array[int]]] = WeakKeyDictionary()


def _item_ranks(conn: Connection) -> array[int]:
    """Every item lead's rank (index: item id; 0: no lead), read once per export.

    Ranks are not stored (a decision would renumber every lead of the case); they are
    the queue's order at export time. The stamp (latest scoring run, latest review,
    how many items are decided) changes with every decision, undo and correlation
    run, so a connection that outlives a change ranks again."""
    stamp = tuple(
        int(conn.execute(q).scalar() or 0)
        for q in (
            select(func.max(s.lead_runs.c.id)),
            select(func.max(s.reviews.c.id)),
            select(func.count()).select_from(s.review_state),
        )
    )
    known = _RANKS.get(conn)
    if known is not None and known[0] == stamp:
        return known[1]
    found = array("l")
    for target, rank in ranks(conn, "item"):
        if target >= len(found):
            found.extend([0] * (target + 1 - len(found)))
        found[target] = rank
    _RANKS[conn] = (stamp, found)
    return found


def correlation_fields(conn: Connection, first: int, last: int) -> dict[int, dict[str, Any]]:
    """Correlation keys for the items with ids in ``first..last``."""
    found: dict[int, dict[str, Any]] = {}

    def of(item_id: int) -> dict[str, Any]:
        return found.setdefault(item_id, empty())

    c, m = s.clusters, s.cluster_members
    rows = conn.execute(
        select(m.c.item_id, c.c.id, c.c.kind, c.c.details)
        .join(c, c.c.id == m.c.cluster_id)
        .where(m.c.item_id.between(first, last))
        .order_by(m.c.item_id, c.c.id)
    )
    for item_id, cluster_id, kind, details in rows:
        record = of(item_id)
        record["clusters"].setdefault(kind, cluster_id)
        if kind == "place" and record["place"] is None:
            d = json.loads(details)
            record["place"] = {k: d.get(k) for k in ("lat", "lon", "town", "region", "country")}
    fg = s.first_generation
    for item_id, score, reasons in conn.execute(
        select(fg.c.item_id, fg.c.score, fg.c.reasons).where(fg.c.item_id.between(first, last))
    ):
        of(item_id)["first_generation"] = {"score": score, "reasons": json.loads(reasons)}
    lead = s.leads
    rank_of = _item_ranks(conn)
    for item_id, score, reasons in conn.execute(
        select(lead.c.target_id, lead.c.score, lead.c.reasons).where(
            lead.c.target_kind == "item", lead.c.target_id.between(first, last)
        )
    ):
        rank = rank_of[item_id] if item_id < len(rank_of) else 0
        of(item_id)["lead"] = {"score": score, "rank": rank, "reasons": json.loads(reasons)}
    ids = range(first, last + 1)
    for item_id, faces in faces_of(conn, ids).items():
        of(item_id)["faces"] = faces
    for item_id, text in text_of(conn, ids).items():
        of(item_id)["ocr_text"] = text
    return found
