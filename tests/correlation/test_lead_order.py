"""The queue's order is computed where it is read, and the export's lead ranks are
exactly the dense ranks the decisions used to store by renumbering every lead."""

from __future__ import annotations

from sqlalchemy import Connection, func, select, text

from unseen.core.schemes import load_scheme
from unseen.correlation import ledger
from unseen.correlation.export import correlation_fields
from unseen.review import decisions
from unseen.store import schema as s
from unseen.store.case import Case

from .test_feedback_order import case  # noqa: F401 (the fixture)

# The renumbering a decision ran before ranks were computed where read, verbatim.
OLD_RERANK = (
    "UPDATE leads SET rank = o.n FROM (SELECT l.id, ROW_NUMBER() OVER ("
    "ORDER BY CASE WHEN {decided} THEN 1 ELSE 0 END, l.score DESC, l.target_id"
    ") AS n FROM leads l WHERE l.target_kind = :kind) o WHERE leads.id = o.id"
)


def old_rerank(conn: Connection, kind: str) -> None:
    decided = (
        "EXISTS (SELECT 1 FROM review_state r WHERE r.item_id = l.target_id)"
        if kind == "item"
        else "0 = 1"
    )
    conn.execute(text(OLD_RERANK.format(decided=decided)), {"kind": kind})


def last_id(conn: Connection) -> int:
    return int(conn.execute(select(func.max(s.items.c.id))).scalar() or 0)


def test_export_ranks_equal_the_old_stored_ranks_after_decisions(case: Case) -> None:  # noqa: F811
    scheme = load_scheme("uk")
    with case.engine.begin() as conn:
        items = conn.execute(
            select(s.items.c.id).where(s.items.c.path.like("DCIM/100CANON/IMG_003%"))
        ).scalars()
        ids = sorted(items)
        decisions.categorise(conn, scheme, "rob", ids[:2], "A")
        decisions.categorise(conn, scheme, "amy", ids[2:3], "NI")
        exported = correlation_fields(conn, 1, last_id(conn))
        shown = {i: r["lead"]["rank"] for i, r in exported.items() if r["lead"] is not None}
        old_rerank(conn, "item")
        old_rerank(conn, "cluster")
        lead = s.leads
        stored = dict(
            conn.execute(
                select(lead.c.target_id, lead.c.rank).where(lead.c.target_kind == "item")
            ).all()
        )
        assert len(shown) > 20
        assert shown == stored
        for kind in ("item", "cluster"):
            computed = dict(ledger.ranks(conn, kind))
            kept = conn.execute(
                select(lead.c.target_id, lead.c.rank).where(lead.c.target_kind == kind)
            )
            assert computed == dict(kept.all())
    case.close()


def test_a_decision_is_seen_by_the_next_export_on_the_same_connection(case: Case) -> None:  # noqa: F811
    with case.engine.begin() as conn:
        first = correlation_fields(conn, 1, last_id(conn))
        best = min((r["lead"]["rank"], i) for i, r in first.items() if r["lead"] is not None)[1]
        decisions.categorise(conn, load_scheme("uk"), "rob", [best], "A")
        again = correlation_fields(conn, 1, last_id(conn))
        ranked = sum(1 for r in again.values() if r["lead"] is not None)
        assert first[best]["lead"]["rank"] == 1
        assert again[best]["lead"]["rank"] == ranked  # decided: after every undecided one
    case.close()
