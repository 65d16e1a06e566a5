"""The ``match`` case stage: match the case against the hash-set library and store the
matches, each matched item's automatic category, and a record of the run.

It runs at the end of ``unseen process`` (default library) and on demand through
``unseen match``. A rerun replaces the case's matches and automatic categories in one
transaction, so readers see the old results or the new ones, never a mix.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert
from sqlalchemy.exc import SQLAlchemyError

from unseen.core.errors import UserError
from unseen.core.home import library_home
from unseen.core.jobs import Workers
from unseen.core.settings import Settings
from unseen.core.timeconv import utc_now
from unseen.engine.stages import STAGES, CaseStage
from unseen.matching.categorise import EXACT_KINDS, Decision, Evidence, decide
from unseen.matching.library import DB_FILE, HashSetInfo, Library
from unseen.matching.matcher import Hit, MatchConfig, Outcome, match_case
from unseen.matching.signals import Pdq, PdqDihedral, VideoPdq
from unseen.store import schema as s
from unseen.store.case import Case

log = logging.getLogger(__name__)
CHUNK = 10_000  # rows per insert statement


def transformations(config: MatchConfig) -> dict[str, list[str]]:
    """What the matcher finds and what it misses, stated with the thresholds used."""
    d, q = config.max_distance, config.min_quality
    return {
        "covered": [
            "byte-identical copies, whatever their name (MD5, SHA-1, SHA-256)",
            f"re-encoding, heavy recompression and format conversion (PDQ distance <= {d})",
            "resizing and scaling, thumbnails included (PDQ)",
            "mild changes of brightness, contrast, colour, blur, sharpening and noise (PDQ)",
            "rotation by 90, 180 or 270 degrees and mirroring (PDQ's eight dihedral hashes)",
            f"video frames, one by one, against PDQ entries (frames of quality >= {q})",
        ],
        "not_covered": [
            "cropping: a 1 % crop moves the PDQ hash by 8-26 bits and a 2 % crop by 16-56 "
            "(measured on synthetic pictures), so crops beyond about 1 % are mostly missed",
            "added borders, padding or letterbox bars",
            "rotation by other angles, perspective changes, mirroring of a part",
            "collages, overlays, captions or large added text",
            f"images whose PDQ quality is below {q} (near-featureless pictures): "
            "exact digests only; counted as not matchable by PDQ",
            "videos as a whole (no vPDQ or TMK): exact digests and single frames only",
            "files that could not be decoded as images: exact digests only",
        ],
    }


@dataclass(frozen=True, slots=True)
class MatchSummary:
    """What a matching run did, in numbers."""

    library: str
    sets: int
    matched: int
    exact: int
    near_duplicate: int
    video: int
    conflicts: int
    known_good: int
    pdq_images: int
    low_quality: int
    malformed: int

    def line(self) -> str:
        text = (
            f"{self.matched} items matched against {self.sets} hash sets ({self.exact} exact, "
            f"{self.near_duplicate} near-duplicate, {self.video} video; {self.conflicts} "
            f"conflicts, {self.known_good} known good); {self.low_quality} images not "
            "matchable by PDQ (low quality)"
        )
        return text + (f"; {self.malformed} malformed hashes" if self.malformed else "")


def run_match(
    case: Case, home: Path | None = None, config: MatchConfig | None = None
) -> MatchSummary:
    """Match the case against the library in ``home`` (default: the one the case names
    in its settings, else the user's library).

    Raises:
        UserError: there is no library there, or it cannot be read.
    """
    config = config or MatchConfig()
    folder = library_home(home, case.root).expanduser().resolve()  # else the case's library
    if not (folder / DB_FILE).is_file():
        raise UserError(f"no hash-set library in {folder} (import one: unseen hashset import)")
    library = Library.open(folder)
    try:
        with case.engine.connect() as conn:
            outcome = match_case(conn, library, config)
    except SQLAlchemyError as exc:
        raise UserError(f"cannot read the hash-set library in {folder}: {exc}") from exc
    finally:
        library.close()
    scheme = case.info.get("scheme") or "uk"
    decisions = _decisions(outcome, scheme)
    summary = _summary(str(folder), outcome, decisions)
    with case.engine.begin() as conn:
        conn.execute(delete(s.matches))
        conn.execute(delete(s.auto_categories))
        _insert(conn, s.matches, _match_rows(outcome))
        now = utc_now()
        rows = [
            {"item_id": i, **_decision_row(d), "decided_at": now} for i, d in decisions.items()
        ]
        _insert(conn, s.auto_categories, rows)
        conn.execute(insert(s.match_runs).values(**_run_row(outcome, config, summary)))
    return summary


def _evidence(hit: Hit, info: HashSetInfo, refs: dict[int, str]) -> Evidence:
    return Evidence(
        set_label=info.label,
        set_scheme=info.scheme,
        known_good=info.known_good,
        kind=hit.kind,
        distance=hit.distance,
        entry_ref=refs.get(hit.entry_id, f"id {hit.entry_id}"),
        category=hit.category,
        fraction=hit.fraction,
    )


def _decisions(outcome: Outcome, scheme: str) -> dict[int, Decision]:
    sets = {info.id: info for info in outcome.sets}
    by_item: dict[int, list[Evidence]] = defaultdict(list)
    for hit in outcome.hits:
        by_item[hit.item_id].append(_evidence(hit, sets[hit.set_id], outcome.refs))
    return {item: decide(found, scheme) for item, found in by_item.items()}


def _decision_row(decision: Decision) -> dict[str, Any]:
    return {
        "category": decision.category,
        "reason": decision.reason,
        "source": decision.source,
        "conflict": decision.conflict,
        "known_good": decision.known_good,
    }


def _match_rows(outcome: Outcome) -> list[dict[str, Any]]:
    sets = {info.id: info for info in outcome.sets}
    now = utc_now()
    return [
        {
            "item_id": hit.item_id,
            "set_id": hit.set_id,
            "set_name": sets[hit.set_id].name,
            "set_version": sets[hit.set_id].version,
            "entry_id": hit.entry_id,
            "entry_ref": outcome.refs.get(hit.entry_id, f"id {hit.entry_id}"),
            "kind": hit.kind,
            "distance": hit.distance,
            "category": hit.category,
            "set_scheme": sets[hit.set_id].scheme,
            "known_good": sets[hit.set_id].known_good,
            "frame_fraction": hit.fraction,
            "matched_at": now,
        }
        for hit in outcome.hits
    ]


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(table), rows[start : start + CHUNK])


def _summary(folder: str, outcome: Outcome, decisions: dict[int, Decision]) -> MatchSummary:
    kinds: dict[int, set[str]] = defaultdict(set)
    for hit in outcome.hits:
        kinds[hit.item_id].add(hit.kind)
    return MatchSummary(
        library=folder,
        sets=len(outcome.sets),
        matched=len(decisions),
        exact=sum(1 for k in kinds.values() if k & set(EXACT_KINDS)),
        near_duplicate=sum(1 for k in kinds.values() if k & {Pdq.NAME, PdqDihedral.NAME}),
        video=sum(1 for k in kinds.values() if VideoPdq.NAME in k),
        conflicts=sum(1 for d in decisions.values() if d.conflict),
        known_good=sum(1 for d in decisions.values() if d.known_good),
        pdq_images=outcome.pdq_images,
        low_quality=outcome.low_quality,
        malformed=outcome.malformed,
    )


def _run_row(outcome: Outcome, config: MatchConfig, summary: MatchSummary) -> dict[str, Any]:
    sets = [
        {**info.to_dict(), "pdq_index": outcome.index_origin.get(info.id)} for info in outcome.sets
    ]
    thresholds = {
        "max_distance": config.max_distance,
        "min_quality": config.min_quality,
        "dihedral": True,
        "video_frames": outcome.frames,
    }
    return {
        "at": utc_now(),
        "library": summary.library,
        "sets": json.dumps(sets, sort_keys=True),
        "thresholds": json.dumps(thresholds, sort_keys=True),
        "transformations": json.dumps(transformations(config)),
        "stats": json.dumps({**asdict(summary), "videos": outcome.videos}, sort_keys=True),
    }


class MatchStage(CaseStage):
    NAME = "match"
    VERSION = "1"
    DESCRIPTION = "exact (MD5, SHA-1, SHA-256) and PDQ matching against the hash-set library"

    def run(self, case: Case, settings: Settings, workers: int | Workers) -> str:
        try:
            config = MatchConfig(
                max_distance=settings.pdq_radius, threads=Workers.of(workers).count or None
            )
            home = Path(settings.library) if settings.library else None  # the case's library
            return run_match(case, home, config).line()
        except UserError as exc:
            log.warning("matching not run: %s", exc)
            return f"not run: {exc}"


STAGES.register(MatchStage)
