"""Reading leads back for the CLI, the review UI and reports."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from unseen.correlation import ledger
from unseen.correlation.reasons import Reason, associated_with
from unseen.store import schema as s


def top_leads(conn: Connection, kind: str = "item", limit: int = 20) -> list[dict[str, Any]]:
    """The best-ranked leads of one kind (``item`` or ``cluster``) with their reasons and
    the known or decided material each is associated with. Items a reviewer has
    categorised are no longer unseen and are left out."""
    lead = s.leads
    table = s.items if kind == "item" else s.clusters
    label = table.c.path if kind == "item" else table.c.label
    query = (
        select(lead.c.score, lead.c.reasons, label.label("label"), table.c.id)
        .select_from(lead.join(table, table.c.id == lead.c.target_id))
        .where(lead.c.target_kind == kind)
    )
    if kind == "item":
        decided = select(s.review_state.c.item_id)
        query = query.where(lead.c.target_id.not_in(decided))
    rows = conn.execute(query.order_by(*ledger.best_first(lead)).limit(limit))
    found = []
    for rank, r in enumerate(rows, 1):
        reasons = json.loads(r.reasons)
        tied = associated_with([Reason.from_dict(x) for x in reasons])
        found.append(
            {
                "rank": rank,  # decided items are left out: the place is the rank
                "score": r.score,
                kind: r.label,
                "id": r.id,
                "associated_with": tied,
                "reasons": reasons,
            }
        )
    return found
