"""``unseen report CASE --kind summary``: the court-ready summary of what is known.

Per evidence source and per category: how many images and videos (all copies, and
distinct by SHA-256), and how each was categorised (hash set or reviewer); then the
hash sets, versions, file digests and thresholds used, what the matcher covers and
what it misses, the SHA-256 of the case database, the tool version, the validation
report the error rates rest on (its version line and SHA-256), the examiner and when
the report was made. Plain, printable, self-contained HTML; every value escaped.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, case, distinct, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import ColumnElement

import unseen
from unseen import plugins
from unseen.core.errors import UserError
from unseen.core.schemes import load_scheme
from unseen.core.timeconv import utc_now
from unseen.reports.internet import environment
from unseen.reports.registry import REPORTS, Report
from unseen.reports.status import changed_settings, error_counts, settings_line
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.audit import audit_head, signed_head
from unseen.store.case import Case, current_user

# Buckets beside the scheme's own codes (``~`` cannot start a scheme code).
CONFLICT, KNOWN_GOOD, NO_CATEGORY, UNKNOWN = "~conflict", "~known-good", "~matched", "~none"
TOTAL = "~total"
BUCKET_LABELS = {
    CONFLICT: "Conflict: hash sets disagree (needs review)",
    KNOWN_GOOD: "Known good (ignorable)",
    NO_CATEGORY: "Matched, no category in the case scheme",
    UNKNOWN: "Not matched, not reviewed",
}
MEDIA = ("image", "video")
# Written by ``unseen validate`` beside the package in a checkout (docs/validation.md).
VALIDATION = Path(unseen.__file__).parents[2] / "docs" / "validation.md"


def _bucket_columns() -> tuple[ColumnElement[Any], ColumnElement[Any], Any]:
    """SQL for each item's bucket and how it was categorised, and the joined tables."""
    i, a, r = s.items, s.auto_categories, s.review_state
    joined: Any = i.join(s.sources, s.sources.c.id == i.c.source_id)
    joined = joined.outerjoin(r, r.c.item_id == i.c.id).outerjoin(a, a.c.item_id == i.c.id)
    reviewed = r.c.category  # reviewer decisions win: people outrank hash sets
    bucket = case(
        (reviewed.is_not(None), reviewed),
        (a.c.conflict.is_(True), CONFLICT),
        (a.c.known_good.is_(True), KNOWN_GOOD),
        (a.c.category.is_not(None), a.c.category),
        (a.c.item_id.is_not(None), NO_CATEGORY),
        else_=UNKNOWN,
    )
    method = case(
        (reviewed.is_not(None), "reviewer"),
        (a.c.item_id.is_not(None), "hashset"),
        else_="none",
    )
    return bucket, method, joined


def category_counts(conn: Connection) -> dict[str, dict[str, dict[str, int]]]:
    """Counts by source label (``""``: all sources, distinct across them) and bucket:
    ``image``/``video`` totals, ``image_distinct``/``video_distinct`` by SHA-256, and
    how many were categorised by hash set (``hashset``) or by a reviewer."""
    i = s.items
    bucket, method, joined = _bucket_columns()
    media = case((i.c.mime.like("image/%"), "image"), else_="video")
    label = s.sources.c.label

    def grouped(*keys: Any) -> list[Any]:
        query = select(*keys, func.count(), func.count(distinct(i.c.sha256))).select_from(joined)
        query = query.where(i.c.mime.like("image/%") | i.c.mime.like("video/%"))
        return list(conn.execute(query.group_by(*keys)).all())

    found: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(_cell))
    for src, b, m, total, unique in grouped(label, bucket, media):
        found[src][b] |= {m: total, f"{m}_distinct": unique}
    for src, b, how, total, _ in grouped(label, bucket, method):
        found[src][b][how] = total
    for b, m, total, unique in grouped(bucket, media):
        found[""][b] |= {m: total, f"{m}_distinct": unique}
    for b, how, total, _ in grouped(bucket, method):
        found[""][b][how] = total
    for src, m, total, unique in grouped(label, media):
        found[src][TOTAL] |= {m: total, f"{m}_distinct": unique}
    for m, total, unique in grouped(media):
        found[""][TOTAL] |= {m: total, f"{m}_distinct": unique}
    return {src: dict(per) for src, per in found.items()}


def _cell() -> dict[str, int]:
    keys = ("image", "image_distinct", "video", "video_distinct", "hashset", "reviewer", "none")
    return dict.fromkeys(keys, 0)


def table(
    counts: dict[str, dict[str, int]], categories: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """One row per category (every category shown, zeros included), then the totals
    (distinct over the whole source: the same picture can sit in two categories)."""
    rows: list[dict[str, Any]] = [{**c, **counts.get(c["code"], _cell())} for c in categories]
    sums = {k: sum(int(r[k]) for r in rows) for k in ("hashset", "reviewer", "none")}
    total = counts.get(TOTAL, _cell()) | sums
    return [*rows, {"code": TOTAL, "label": "All images and videos", **total}]


def latest_run(conn: Connection) -> dict[str, Any] | None:
    """The last matching run: library, sets, thresholds, transformations and counts."""
    row = conn.execute(select(s.match_runs).order_by(s.match_runs.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    m = row._mapping
    matched: dict[int, int] = dict(
        conn.execute(
            select(s.matches.c.set_id, func.count(distinct(s.matches.c.item_id))).group_by(
                s.matches.c.set_id
            )
        ).all()
    )
    sets = [{**x, "items": matched.get(x["id"], 0)} for x in json.loads(m["sets"])]
    return {
        "at": m["at"],
        "library": m["library"],
        "sets": sets,
        "thresholds": json.loads(m["thresholds"]),
        "transformations": json.loads(m["transformations"]),
        "stats": json.loads(m["stats"]),
    }


def database_digest(case_: Case) -> dict[str, str]:
    """The SHA-256 of the SQLite case database, after folding its WAL into the file."""
    path = case_.db_path
    if path is None:
        url = make_url(case_.engine.url).render_as_string(hide_password=True)
        return {"where": url, "sha256": "none", "note": "a database server, not a file"}
    with case_.engine.connect() as conn:
        busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    note = "the write-ahead log was folded into the file first"
    if busy:
        note = "another program had the case open: recent changes may still be in its log"
    return {"where": str(path), "sha256": digest, "note": note}


def _categories(scheme_name: str, buckets: set[str]) -> list[dict[str, str]]:
    """The rows of the category tables: the scheme's codes, then the special buckets."""
    try:
        scheme = [(c.code, c.label) for c in load_scheme(scheme_name).categories]
    except UserError:  # a custom scheme known by name only: show its codes as found
        scheme = [(b, b) for b in sorted(buckets) if not b.startswith("~")]
    known = {code for code, _ in scheme}
    extra = [(b, f"{b} (not in scheme {scheme_name})") for b in sorted(buckets - known)]
    rows = scheme + [x for x in extra if not x[0].startswith("~")]
    rows += list(BUCKET_LABELS.items())
    return [{"code": code, "label": label} for code, label in rows]


def validation_report(path: Path = VALIDATION) -> dict[str, Any] | None:
    """The published validation report this tool's error rates rest on: where it is,
    its SHA-256, its version line (tool version and thresholds measured) and whether it
    was made for this version; None when it is not beside this installation."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    lines = data.decode("utf-8", "replace").splitlines()
    line = next((x[2:] for x in lines if x.startswith("- unseen ")), "no version line")
    return {
        "path": str(path),
        "sha256": hashlib.sha256(data).hexdigest(),
        "line": line,
        "current": line.startswith(f"unseen {unseen.__version__};"),
    }


def summary_data(case_: Case) -> dict[str, Any]:
    """Everything the summary shows, as plain data (tests read it too)."""
    digest = database_digest(case_)
    with case_.engine.connect() as conn:
        counts = category_counts(conn)
        run = latest_run(conn)
        sources = repo.list_sources(conn)
        problems = error_counts(conn)  # analysers' and internet-artefact parsers'
        settings = settings_line(changed_settings(conn))  # what the case set, provenance
        # The head of the hash-chained audit log: proves later that no review decision,
        # reveal or export up to this report was changed or removed.
        head = audit_head(conn)
        # The same head signed with the agency key (kept outside the case): a printed
        # report then proves the log's state even to someone who distrusts the case.
        signed = signed_head(conn)
        sections = plugins.report_sections(conn)  # report_sections hooks: escaped HTML
    scheme = case_.info.get("scheme") or "uk"
    categories = _categories(scheme, {b for per in counts.values() for b in per})
    return {
        "case": {k: case_.info.get(k) for k in ("name", "uuid", "examiner", "created_at")},
        "scheme": scheme,
        "sources": [
            {**src, "table": table(counts.get(src["label"], {}), categories)} for src in sources
        ],
        "overall": table(counts.get("", {}), categories),
        "run": run,
        "problems": problems,
        "database": digest,
        "audit_head": head,
        "audit_head_record": signed.line().strip() if signed else None,
        "audit_head_entry": signed.entry if signed else None,
        "audit_head_key": signed.key if signed else None,
        "tool_version": unseen.__version__,
        "validation": validation_report(),
        "settings": settings,
        "generated_at": utc_now(),
        "generated_by": current_user(),
        "sections": sections,
    }


class SummaryReport(Report):
    NAME = "summary"
    DESCRIPTION = "court-ready summary: counts per source and category, sets, thresholds"

    def render(self, case: Case, out: IO[str]) -> None:
        data = summary_data(case)
        out.write(environment().get_template("summary.html").render(**data))


REPORTS.register(SummaryReport)
