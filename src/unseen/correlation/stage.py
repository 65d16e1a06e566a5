"""The correlation stage: run every grouping, store clusters, score and rank leads.

Runs after matching (so "unknown" means what the hash sets did not know) and again
after the deep pass adds faces, sensor noise, scenes and text. A rerun replaces all
of its rows in one transaction, the images' rankings written as they are computed;
the weights it used and every lead whose score moved are recorded (``ledger``).
"""

from __future__ import annotations

import hashlib
import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import repeat

from sqlalchemy import Connection, Table, delete, insert, select

from unseen.core.batches import batched
from unseen.core.jobs import Workers
from unseen.core.schemes import load_scheme
from unseen.core.settings import Settings
from unseen.correlation import candidates, feedback, ledger
from unseen.correlation.association import Anchor, anchors
from unseen.correlation.base import GROUPINGS, ITEM_SIGNALS
from unseen.correlation.facts import DECISIONS, Facts, StoredFacts
from unseen.correlation.reasons import Reason, total
from unseen.correlation.scoring import (
    Ranked,
    Scored,
    Weights,
    group_lead,
    load_weights,
    rank_items,
)
from unseen.correlation.staging import Staging
from unseen.engine.stages import STAGES, CaseStage
from unseen.store import schema as s
from unseen.store.case import Case, begin_writing

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
            seen = feedback.last_review(conn)
            facts = StoredFacts(conn)
            known = anchors(facts.scan(*DECISIONS), scheme)
            signals = item_signals(facts, conn, weights, settings)
            try:
                staged = _stage(conn, facts, known, settings)
                with conn.begin():
                    begin_writing(conn)
                    scored = rank_items(staged.by_item(iter(facts)), weights, known, signals)
                    ranked = store(conn, staged, scored, weights)
                    feedback.catch_up(conn, seen)  # reviewers went on deciding meanwhile
            except BaseException:
                conn.invalidate()  # closed, not pooled: its temporary tables go with it
                raise
            staged.drop()
            conn.commit()
        return f"{len(staged.groups)} clusters, {ranked} unknown images ranked"


def _stage(
    conn: Connection, facts: Facts, known: Mapping[int, Anchor], settings: Settings
) -> Staging:
    """Every grouping's clusters, staged on ``conn`` and committed there (the staged
    rows stay with the connection; the read transaction they began ends)."""
    matched = {f.id for f in facts.scan("matched") if f.matched}
    staged = Staging(conn, matched, known)
    for cls in GROUPINGS:
        for cluster in cls(settings).group(facts, conn):
            staged.add(cluster)
    staged.close()
    conn.commit()
    return staged


def item_signals(
    facts: Facts, conn: Connection, weights: Weights, settings: Settings | None = None
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


class Scores(Mapping[int, float]):
    """The lead scores of undecided unknown images by item id, in an array indexed by
    id (8 bytes an id; a dict held about 100 bytes an item)."""

    def __init__(self) -> None:
        self._by_id = array("d")

    def __setitem__(self, item_id: int, score: float) -> None:
        missing = item_id + 1 - len(self._by_id)
        if missing > 0:
            self._by_id.extend(repeat(math.nan, missing))
        self._by_id[item_id] = score

    def __getitem__(self, item_id: int) -> float:
        score = self.value(item_id)
        if math.isnan(score):
            raise KeyError(item_id)
        return score

    def value(self, item_id: int) -> float:
        """The score, NaN where there is none (no exception raised and caught)."""
        return self._by_id[item_id] if 0 <= item_id < len(self._by_id) else math.nan

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, int) and not math.isnan(self.value(item_id))

    def __iter__(self) -> Iterator[int]:
        return (i for i, score in enumerate(self._by_id) if not math.isnan(score))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def store(conn: Connection, staged: Staging, scored: Iterable[Scored], weights: Weights) -> int:
    """Replace the correlation tables' contents with the ``staged`` clusters and their
    leads (in the caller's transaction), each image's ranking written as it comes;
    returns how many unknown images were ranked.

    Every score that moved is recorded with the reasons it gained and lost (none on
    a case's first ranking: every reason is in the leads themselves).
    """
    recording = conn.execute(select(s.leads.c.id).limit(1)).first() is not None
    if recording:
        staged.save_previous()
    # A whole ranking supersedes re-scorings still queued after decisions. Item leads
    # are replaced range by range below, each compared with the one it replaces.
    for table in (
        s.first_generation,
        s.strip_candidates,
        s.strip_floors,
        s.cluster_members,
        s.clusters,
        s.rescore_queue,
    ):
        conn.execute(delete(table))
    conn.execute(delete(s.leads).where(s.leads.c.target_kind == "cluster"))
    staged.copy()
    run_id = ledger.start_run(conn, "correlation", weights, 0)
    writer = _ItemWriter(conn, run_id if recording else None)
    for batch in batched(scored, LEAD_BATCH):
        writer.write(batch)
    writer.write([])  # the leads past the last image's id: all gone
    for groups in batched(staged.by_cluster(), LEAD_BATCH):
        candidates.keep(conn, groups, writer.scores.value)
        _write_cluster_leads(conn, staged, groups, writer, weights)
    ledger.finish_run(conn, run_id, writer.changed)
    return writer.ranked


def _write_cluster_leads(
    conn: Connection,
    staged: Staging,
    groups: list[tuple[int, Sequence[int]]],
    writer: _ItemWriter,
    weights: Weights,
) -> None:
    """The leads of ``groups`` (cluster id, member ids) from their members' scores, and
    the change of each against the lead of the same kind and key before this run."""
    leads: list[Ranked] = []
    for cluster_id, ids in groups:
        group = staged.groups[cluster_id - 1]
        scores = [x for i in ids if not math.isnan(x := writer.scores.value(i))]
        held = group.hood.anchors
        assert held is not None  # counted as it was staged
        best = max(scores, default=0.0)
        lead = group_lead(cluster_id, group.hood, best, len(scores), held, weights)
        if lead is not None:
            leads.append(lead)
    _insert(conn, s.leads, (_lead_row("cluster", r.item_id, r) for r in leads))
    after = {("cluster", r.item_id): ledger.Lead(r.score, tuple(r.reasons)) for r in leads}
    if writer.run_id is not None and groups:
        before = {
            ("cluster", target): ledger.Lead(score, ledger.from_json(reasons))
            for target, score, reasons in staged.previous(groups[0][0], groups[-1][0])
            if ("cluster", target) in after
        }
        writer.record(before, after)


class _ItemWriter:
    """Writes images' first-generation rows and leads batch by batch, each batch
    replacing the stored item leads of its id range (after the previous batch's last
    id, up to its own), which are read first to record what changed."""

    def __init__(self, conn: Connection, run_id: int | None) -> None:
        self.conn, self.run_id = conn, run_id
        self.after = 0  # ids up to this one are written
        self.scores = Scores()
        self.ranked = self.changed = 0

    def record(
        self, before: Mapping[ledger.Key, ledger.Lead], after: Mapping[ledger.Key, ledger.Lead]
    ) -> None:
        """A change row per lead whose score moved, appeared or went."""
        if self.run_id is not None:
            rows = ledger.changes(before, after)
            ledger.add_changes(self.conn, self.run_id, rows)
            self.changed += len(rows)

    def write(self, batch: list[Scored]) -> None:
        lead = s.leads
        span = [lead.c.target_kind == "item", lead.c.target_id > self.after]
        if batch:
            span.append(lead.c.target_id <= batch[-1].item_id)
        leads = [x.lead for x in batch if x.lead is not None]
        if self.run_id is not None:
            before = {("item", i): x for i, x in ledger.stored(self.conn, "item", *span).items()}
            after = {("item", r.item_id): ledger.Lead(r.score, tuple(r.reasons)) for r in leads}
            self.record(before, after)
        self.conn.execute(delete(lead).where(*span))
        first_gen = (_first_generation_row(x.item_id, x.first_generation) for x in batch)
        _insert(self.conn, s.first_generation, first_gen)
        _insert(self.conn, lead, (_lead_row("item", r.item_id, r) for r in leads))
        for r in leads:
            if not r.decided:
                self.scores[r.item_id] = r.score
        self.ranked += len(leads)
        if batch:
            self.after = batch[-1].item_id


def _insert(conn: Connection, table: Table, rows: Iterable[dict[str, object]]) -> None:
    """In batches: a million rows with their reasons text at once held about 0.5 GB."""
    for batch in batched(rows, LEAD_BATCH):
        conn.execute(insert(table), batch)


def _first_generation_row(item_id: int, reasons: list[Reason]) -> dict[str, object]:
    return {"item_id": item_id, "score": total(reasons), "reasons": ledger.as_json(reasons)}


def _lead_row(kind: str, target: int, r: Ranked) -> dict[str, object]:
    return {
        "target_kind": kind,
        "target_id": target,
        "score": r.score,
        "rank": 0,  # unused: the order is read where it is shown (``ledger.order``)
        "reasons": ledger.as_json(r.reasons),
    }


STAGES.register(CorrelationStage)
