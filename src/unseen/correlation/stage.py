"""The correlation stage: run every grouping, store clusters, score and rank leads.

Runs after matching (so "unknown" means what the hash sets did not know) and again
after the deep pass adds faces, sensor noise, scenes and text. A rerun replaces all
of its rows in one transaction; the weights it used and every lead whose score moved
are recorded (``ledger``).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import Connection, delete, insert, select

from unseen.core.batches import batched
from unseen.core.jobs import Workers
from unseen.core.schemes import load_scheme
from unseen.core.settings import Settings
from unseen.correlation import ledger
from unseen.correlation.association import Anchor, anchors
from unseen.correlation.base import GROUPINGS, ITEM_SIGNALS, Cluster, Member
from unseen.correlation.facts import ItemFacts, load_facts
from unseen.correlation.reasons import Reason, total
from unseen.correlation.scoring import (
    Ranked,
    Weights,
    cluster_lead,
    load_weights,
    neighbourhood,
    rank_items,
)
from unseen.engine.stages import STAGES, CaseStage
from unseen.store import schema as s
from unseen.store.case import Case

LEAD_BATCH = 10_000  # lead rows per insert


class CorrelationStage(CaseStage):
    NAME = "correlate"
    VERSION = "2"
    DESCRIPTION = "group the case (camera, place, time, scene, faces) and rank the unknown"
    # Its groupings read what these stages write: hash-set decisions, downloads and
    # P2P links, contacts and conversations.
    DEPENDS_ON = ("match", "internet", "phones")
    # What its groupings, item signals and ranking read from the run's settings.
    SETTINGS = (
        "pdq_radius",
        "identity_threshold",
        "identity_pair_max",
        "identity_max_neighbours",
        "identity_max_passes",
        "identity_exact_max",
        "scene_neighbours",
        "scene_lone_neighbours",
        "scene_min_cosine",
        "scene_max_verify",
        "scene_exact_limit",
        "scene_min_inliers",
        "scene_min_ncc",
        "scene_min_block_ncc",
        "sensor_pce_threshold",
        "session_gap_minutes",
        "window_gap_minutes",
        "lead_weights",
        "library",
    )

    @classmethod
    def version(cls, settings: Settings) -> str:
        """Its own version with every grouping's and item signal's: changing how one
        grouping works changes what the stage produces."""
        parts = ",".join(f"{g.NAME}={g.VERSION}" for g in (*GROUPINGS, *ITEM_SIGNALS))
        return f"{super().version(settings)}~{hashlib.sha256(parts.encode()).hexdigest()[:8]}"

    def run(self, case: Case, settings: Settings, workers: int | Workers) -> str:
        weights = load_weights(case.root, settings.lead_weights)
        scheme = load_scheme(case.info.get("scheme", "uk"))
        with case.engine.connect() as conn:
            facts = load_facts(conn)
            clusters = [c for cls in GROUPINGS for c in cls(settings).group(facts, conn)]
            signals = item_signals(facts, conn, weights, settings)
        first_gen, leads = rank_items(facts, clusters, weights, scheme, signals)
        cluster_leads = rank_clusters(clusters, leads, anchors(facts, scheme), weights)
        del facts, signals  # every picture's facts: not held while the rows are written
        with case.engine.begin() as conn:
            store(conn, clusters, first_gen, leads, cluster_leads, weights)
        return f"{len(clusters)} clusters, {len(leads)} unknown images ranked"


def item_signals(
    facts: list[ItemFacts], conn: Connection, weights: Weights, settings: Settings | None = None
) -> dict[int, list[Reason]]:
    """Reasons other stages add to single items (messages, intelligence, ...)."""
    found: dict[int, list[Reason]] = defaultdict(list)
    lead_w = weights["lead"]
    for cls in ITEM_SIGNALS:
        for sig in cls(settings).signals(facts, conn):
            weight = lead_w.get(sig.signal, cls.WEIGHTS.get(sig.signal, 0.0))
            reason = Reason(sig.signal, weight, sig.detail, sig.provenance, sig.about)
            found[sig.item_id].append(reason)
    return found


def rank_clusters(
    clusters: list[Cluster],
    leads: list[Ranked],
    known: Mapping[int, Anchor],
    weights: Weights,
) -> list[tuple[int, Ranked]]:
    """Leads for clusters with undecided unknown members: (cluster index, ranking)."""
    scores = {r.item_id: r.score for r in leads if not r.decided}
    ranked = []
    for index, c in enumerate(clusters):
        lead = cluster_lead(index, neighbourhood(c), scores, known, weights)
        if lead is not None:
            ranked.append((index, lead))
    ranked.sort(key=lambda pair: (-pair[1].score, pair[0]))
    return ranked


def store(
    conn: Connection,
    clusters: list[Cluster],
    first_gen: dict[int, list[Reason]],
    leads: list[Ranked],
    cluster_leads: list[tuple[int, Ranked]],
    weights: Mapping[str, Mapping[str, float]],
) -> None:
    """Replace the correlation tables' contents (in the caller's transaction)."""
    items_before, clusters_before = _previous(conn)
    # A whole ranking supersedes re-scorings still queued after decisions.
    for table in (s.leads, s.first_generation, s.cluster_members, s.clusters, s.rescore_queue):
        conn.execute(delete(table))
    # Ids are numbered here, not by the database: a rerun (or another database
    # engine, whose sequences never restart) gives every cluster the same id.
    ids = range(1, len(clusters) + 1)
    tables = (
        (s.clusters, (_cluster_row(n, c) for n, c in zip(ids, clusters, strict=True))),
        (
            s.cluster_members,
            (_member_row(n, m) for n, c in zip(ids, clusters, strict=True) for m in c.members),
        ),
        (
            s.first_generation,
            (
                {"item_id": item, "score": total(reasons), "reasons": ledger.as_json(reasons)}
                for item, reasons in first_gen.items()
            ),
        ),
        (s.leads, (_lead_row("item", r.item_id, rank, r) for rank, r in enumerate(leads, 1))),
        (
            s.leads,
            (
                _lead_row("cluster", ids[index], rank, r)
                for rank, (index, r) in enumerate(cluster_leads, 1)
            ),
        ),
    )
    # In batches: a million rows with their reasons text at once held about 0.5 GB.
    for table, rows in tables:
        for batch in batched(rows, LEAD_BATCH):
            conn.execute(insert(table), list(batch))
    before: dict[ledger.Key, ledger.Lead] = {("item", i): x for i, x in items_before.items()}
    after = {("item", r.item_id): ledger.Lead(r.score, tuple(r.reasons)) for r in leads}
    for index, r in cluster_leads:
        after[("cluster", ids[index])] = ledger.Lead(r.score, tuple(r.reasons))
        old = clusters_before.get(_cluster_key(clusters[index]))
        if old is not None:
            before[("cluster", ids[index])] = old
    ledger.record_run(conn, "correlation", weights, before, after)


def _previous(
    conn: Connection,
) -> tuple[dict[int, ledger.Lead], dict[tuple[str, str], ledger.Lead]]:
    """The leads before this run: items by id, clusters by (kind, key), as cluster ids
    change with every run."""
    c = s.clusters
    key_of = {
        int(i): (str(kind), str(key))
        for i, kind, key in conn.execute(select(c.c.id, c.c.kind, c.c.key))
    }
    clusters = {
        key_of[target]: lead
        for target, lead in ledger.current(conn, "cluster").items()
        if target in key_of
    }
    return ledger.current(conn, "item"), clusters


def _cluster_key(c: Cluster) -> tuple[str, str]:
    return (c.kind, c.key)


def _cluster_row(cluster_id: int, c: Cluster) -> dict[str, object]:
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


def _lead_row(kind: str, target: int, rank: int, r: Ranked) -> dict[str, object]:
    return {
        "target_kind": kind,
        "target_id": target,
        "score": r.score,
        "rank": rank,
        "reasons": ledger.as_json(r.reasons),
    }


STAGES.register(CorrelationStage)
