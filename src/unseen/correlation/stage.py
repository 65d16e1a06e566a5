"""The correlation stage: run every grouping, store clusters, score and rank leads.

Runs after matching (so "unknown" means what the hash sets did not know) and again
after the deep pass adds faces, sensor noise, scenes and text. A rerun replaces all
of its rows in one transaction.
"""

from __future__ import annotations

import json
import math

from sqlalchemy import Connection, delete, insert

from unseen.core.settings import Settings
from unseen.correlation.base import GROUPINGS, Cluster
from unseen.correlation.facts import ItemFacts, load_facts
from unseen.correlation.scoring import Ranked, Reason, load_weights, rank_items
from unseen.engine.stages import STAGES, CaseStage
from unseen.store import schema as s
from unseen.store.case import Case

# Cluster kinds that make a lead of their own (a camera, a place, a session...).
LEAD_KINDS = ("camera", "place", "session", "scene", "identity", "sensor", "device")


class CorrelationStage(CaseStage):
    NAME = "correlate"
    VERSION = "1"
    DESCRIPTION = "group the case (camera, place, time, scene, faces) and rank the unknown"
    DEPENDS_ON = ("match",)

    def run(self, case: Case, settings: Settings, workers: int) -> str:
        with case.engine.connect() as conn:
            facts = load_facts(conn)
            clusters = [c for cls in GROUPINGS for c in cls().group(facts, conn)]
        first_gen, leads = rank_items(facts, clusters, load_weights(case.root))
        cluster_leads = rank_clusters(clusters, leads, facts)
        with case.engine.begin() as conn:
            store(conn, clusters, first_gen, leads, cluster_leads)
        return f"{len(clusters)} clusters, {len(leads)} unknown images ranked"


def rank_clusters(
    clusters: list[Cluster], leads: list[Ranked], facts: list[ItemFacts]
) -> list[tuple[int, Ranked]]:
    """Leads for clusters with unknown members: (cluster index, ranking)."""
    score_of = {r.item_id: r.score for r in leads}
    ranked: list[tuple[int, Ranked]] = []
    for index, c in enumerate(clusters):
        scores = sorted(
            (score_of[m.item_id] for m in c.members if m.item_id in score_of), reverse=True
        )
        if c.kind not in LEAD_KINDS or not scores:
            continue
        bonus = round(math.log2(1 + len(scores)), 3)
        reasons = [
            Reason("strongest_member", scores[0], f"best unknown picture scores {scores[0]:g}"),
            Reason("size", bonus, f"{len(scores)} unknown pictures: {c.label}"),
        ]
        ranked.append((index, Ranked(index, round(scores[0] + bonus, 3), reasons)))
    ranked.sort(key=lambda pair: (-pair[1].score, pair[0]))
    return ranked


def store(
    conn: Connection,
    clusters: list[Cluster],
    first_gen: dict[int, list[Reason]],
    leads: list[Ranked],
    cluster_leads: list[tuple[int, Ranked]],
) -> None:
    """Replace the correlation tables' contents (in the caller's transaction)."""
    for table in (s.leads, s.first_generation, s.cluster_members, s.clusters):
        conn.execute(delete(table))
    ids: list[int] = []
    for c in clusters:
        cluster_id = conn.execute(
            insert(s.clusters).values(
                kind=c.kind,
                key=c.key,
                label=c.label,
                confidence=c.confidence,
                size=len(c.members),
                details=json.dumps(c.details, sort_keys=True),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        ids.append(int(cluster_id))
        conn.execute(
            insert(s.cluster_members),
            [
                {
                    "cluster_id": cluster_id,
                    "item_id": m.item_id,
                    "reason": m.reason,
                    "score": m.score,
                }
                for m in c.members
            ],
        )
    if first_gen:
        conn.execute(
            insert(s.first_generation),
            [
                {
                    "item_id": item_id,
                    "score": round(sum(r.weight for r in reasons), 3),
                    "reasons": _json(reasons),
                }
                for item_id, reasons in first_gen.items()
            ],
        )
    rows = [
        {
            "target_kind": "item",
            "target_id": r.item_id,
            "score": r.score,
            "rank": rank,
            "reasons": _json(r.reasons),
        }
        for rank, r in enumerate(leads, 1)
    ] + [
        {
            "target_kind": "cluster",
            "target_id": ids[index],
            "score": r.score,
            "rank": rank,
            "reasons": _json(r.reasons),
        }
        for rank, (index, r) in enumerate(cluster_leads, 1)
    ]
    if rows:
        conn.execute(insert(s.leads), rows)


def _json(reasons: list[Reason]) -> str:
    return json.dumps([r.as_dict() for r in reasons])


STAGES.register(CorrelationStage)
