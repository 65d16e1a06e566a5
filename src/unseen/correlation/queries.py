"""Reading leads back for the CLI, the review UI and reports."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, inspect, select

from unseen.store import schema as s


def top_leads(conn: Connection, kind: str = "item", limit: int = 20) -> list[dict[str, Any]]:
    """The best-ranked leads of one kind (``item`` or ``cluster``) with their reasons."""
    if not inspect(conn).has_table("leads"):
        return []
    lead = s.leads
    table = s.items if kind == "item" else s.clusters
    label = table.c.path if kind == "item" else table.c.label
    rows = conn.execute(
        select(lead.c.rank, lead.c.score, lead.c.reasons, label.label("label"), table.c.id)
        .select_from(lead.join(table, table.c.id == lead.c.target_id))
        .where(lead.c.target_kind == kind)
        .order_by(lead.c.rank)
        .limit(limit)
    )
    return [
        {
            "rank": r.rank,
            "score": r.score,
            kind: r.label,
            "id": r.id,
            "reasons": json.loads(r.reasons),
        }
        for r in rows
    ]
