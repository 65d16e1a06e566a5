"""What correlation adds to each export record: clusters, first-generation and lead
scores with their reasons, faces, text read in the picture, and the place."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from unseen.correlation.search import faces_of, text_of
from unseen.store import schema as s

KEYS = ("clusters", "first_generation", "lead", "faces", "ocr_text", "place")


def empty() -> dict[str, Any]:
    """The correlation keys of an item correlation knows nothing about."""
    return {"clusters": {}, "first_generation": None, "lead": None, "faces": [],
            "ocr_text": None, "place": None}  # fmt: skip


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
    for item_id, score, rank, reasons in conn.execute(
        select(lead.c.target_id, lead.c.score, lead.c.rank, lead.c.reasons).where(
            lead.c.target_kind == "item", lead.c.target_id.between(first, last)
        )
    ):
        of(item_id)["lead"] = {"score": score, "rank": rank, "reasons": json.loads(reasons)}
    ids = range(first, last + 1)
    for item_id, faces in faces_of(conn, ids).items():
        of(item_id)["faces"] = faces
    for item_id, text in text_of(conn, ids).items():
        of(item_id)["ocr_text"] = text
    return found
