"""Data for the map, the timeline, the cluster list and the leads queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from unseen.correlation import ledger
from unseen.correlation.reasons import Reason, associated_with
from unseen.review.data import CaseView
from unseen.review.grid import GridFilter, GridQuery, time_key
from unseen.review.itemview import reasons
from unseen.store import schema as s

MAP_LIMIT = 50_000  # points sent to the browser at once (canvas markers)
MAX_BARS = 400


def map_points(view: CaseView, conn: Connection) -> list[list[Any]]:
    """``[item id, latitude, longitude, reviewer code, kind]`` for media with GPS:
    pictures from their EXIF, videos from their container's location (``kind`` says
    which: ``picture`` or ``video``)."""
    i, r = s.items, s.review_state
    found: list[list[Any]] = []
    for table, kind in ((s.exif, "picture"), (s.videos, "video")):
        rows = conn.execute(
            select(i.c.id, table.c.gps_lat, table.c.gps_lon, r.c.category)
            .select_from(
                i.join(table, table.c.item_id == i.c.id).outerjoin(r, r.c.item_id == i.c.id)
            )
            .where(view.media(), table.c.gps_lat.is_not(None), table.c.gps_lon.is_not(None))
            .order_by(i.c.id)
            .limit(MAP_LIMIT - len(found))
        )
        found += [[x.id, x.gps_lat, x.gps_lon, x.category, kind] for x in rows]
    return sorted(found)


@dataclass(frozen=True, slots=True)
class Bar:
    """One histogram bar: a time bucket, its count and its share of the tallest bar."""

    label: str
    start: str
    end: str
    count: int
    height: float


def histogram(view: CaseView, conn: Connection, flt: GridFilter) -> tuple[str, list[Bar]]:
    """Media per year, month or day (whichever gives a readable number of bars)."""
    query = GridQuery(view, conn, flt)
    key = time_key(conn)
    bounds = conn.execute(
        select(func.min(key), func.max(key))
        .select_from(query.source())
        .where(*query.conditions(), key != "")
    ).one()
    if not bounds[0]:
        return "month", []
    span_days = _days(bounds[0], bounds[1])
    unit, width = (
        ("day", 10) if span_days <= 62 else ("month", 7) if span_days <= 3660 else ("year", 4)
    )
    bucket = func.substr(key, 1, width)
    rows = conn.execute(
        select(bucket, func.count())
        .select_from(query.source())
        .where(*query.conditions(), key != "")
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    counts = {str(b): int(n) for b, n in rows}
    tallest = max(counts.values())
    buckets = _fill(list(counts))
    return unit, [
        Bar(b, b, _next(b), counts.get(b, 0), counts.get(b, 0) / tallest) for b in buckets
    ]


@dataclass(frozen=True, slots=True)
class Lane:
    """One camera's pictures over the timeline's buckets: (known, unknown) per bucket.
    Known: a reviewer or a hash set has categorised it."""

    label: str
    cells: list[tuple[int, int]]
    total: int


WIDTHS = {"day": 10, "month": 7, "year": 4}  # characters of the time key per bucket
NO_CAMERA = "no camera in EXIF"
OTHERS = "other cameras"


def lanes(
    view: CaseView, conn: Connection, unit: str, bars: list[Bar], most: int = 12
) -> list[Lane]:
    """The histogram's media split by camera (EXIF make and model), one lane each for
    the ``most`` busiest cameras, then the others together, then those without one."""
    if not bars:
        return []
    query = GridQuery(view, conn, GridFilter())
    key = time_key(conn)
    r, a, ex = s.review_state, s.auto_categories, s.exif
    camera = func.trim(func.coalesce(ex.c.make, "") + " " + func.coalesce(ex.c.model, ""))
    known = case((or_(r.c.category.is_not(None), a.c.item_id.is_not(None)), 1), else_=0)
    bucket = func.substr(key, 1, WIDTHS[unit])
    rows = conn.execute(
        select(camera, bucket, known, func.count())
        .select_from(query.source())
        .where(*query.conditions(), key != "")
        .group_by(camera, bucket, known)
    ).all()
    index = {b.start: n for n, b in enumerate(bars)}
    cells: dict[str, list[list[int]]] = {}
    for cam, b, is_known, n in rows:
        label = str(cam) or NO_CAMERA
        lane = cells.setdefault(label, [[0, 0] for _ in bars])
        if b in index:
            lane[index[b]][0 if is_known else 1] += int(n)
    totals = {label: sum(k + u for k, u in lane) for label, lane in cells.items()}
    cameras = sorted((x for x in cells if x != NO_CAMERA), key=lambda x: (-totals[x], x))
    chosen, rest = cameras[:most], cameras[most:]
    if rest:
        cells[OTHERS] = [
            [sum(cells[c][i][j] for c in rest) for j in (0, 1)] for i in range(len(bars))
        ]
        totals[OTHERS] = sum(totals[c] for c in rest)
        chosen.append(OTHERS)
    if NO_CAMERA in cells:
        chosen.append(NO_CAMERA)
    return [Lane(x, [(k, u) for k, u in cells[x]], totals[x]) for x in chosen]


def _fill(buckets: list[str]) -> list[str]:
    """Every bucket from the first to the last, empty ones included (so gaps show)."""
    filled = [buckets[0]]
    for _ in range(MAX_BARS):
        following = _next(filled[-1])
        if following.endswith("~") or following > buckets[-1]:
            break
        filled.append(following)
    return filled if filled[-1] == buckets[-1] else buckets


def _days(first: str, last: str) -> int:
    def day_number(text: str) -> int:
        year, month, day = (int(p) for p in (text[:4], text[5:7] or "1", text[8:10] or "1"))
        return year * 372 + (month - 1) * 31 + day

    try:
        return day_number(last) - day_number(first)
    except ValueError:
        return 10_000


def _next(bucket: str) -> str:
    """The first key after a bucket ("2024-05" -> "2024-06"), for the ``tto`` filter."""
    parts = bucket.split("-")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        return bucket + "~"
    if len(numbers) == 1:
        return f"{numbers[0] + 1:04d}"
    if len(numbers) == 2:
        year, month = numbers
        return f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    try:
        return (date.fromisoformat(bucket) + timedelta(days=1)).isoformat()
    except ValueError:
        return bucket + "~"


def clusters(conn: Connection, kind: str = "", limit: int = 500) -> list[dict[str, Any]]:
    """Clusters (largest first), optionally of one kind."""
    c = s.clusters
    query = select(c.c.id, c.c.kind, c.c.label, c.c.confidence, c.c.size)
    if kind:
        query = query.where(c.c.kind == kind)
    rows = conn.execute(query.order_by(c.c.size.desc(), c.c.id).limit(limit))
    return [dict(r._mapping) for r in rows]


def cluster_kinds(conn: Connection) -> list[tuple[str, int]]:
    """Each cluster kind with its number of clusters."""
    c = s.clusters
    rows = conn.execute(select(c.c.kind, func.count()).group_by(c.c.kind).order_by(c.c.kind))
    return [(str(k), int(n)) for k, n in rows]


def cluster(conn: Connection, cluster_id: int) -> dict[str, Any] | None:
    """One cluster's row, or None."""
    row = conn.execute(select(s.clusters).where(s.clusters.c.id == cluster_id)).first()
    return dict(row._mapping) if row is not None else None


def leads(conn: Connection, kind: str, limit: int = 200) -> list[dict[str, Any]]:
    """The leads queue of one target kind (``item`` or ``cluster``), best first.

    Items a reviewer has categorised are no longer unseen and leave the queue. Each
    lead carries what known or decided material it is associated with, and its
    latest move (raised or lowered by a decision, with the reasons gained).
    """
    lead = s.leads
    table = s.items if kind == "item" else s.clusters
    label = table.c.path if kind == "item" else table.c.label
    source = lead.join(table, and_(table.c.id == lead.c.target_id, lead.c.target_kind == kind))
    query = select(lead.c.score, lead.c.reasons, lead.c.target_id, label.label("label"))
    if kind == "item":
        query = query.where(lead.c.target_id.not_in(select(s.review_state.c.item_id)))
    best = ledger.best_first(lead)
    rows = conn.execute(query.select_from(source).order_by(*best).limit(limit))
    found = []
    for rank, r in enumerate(rows, 1):  # decided items are left out: the place is the rank
        parsed = reasons(r.reasons)
        tied = associated_with([Reason.from_dict(x) for x in parsed if isinstance(x, dict)])
        found.append({"rank": rank, **dict(r._mapping), "reasons": parsed, "associated": tied})
    moves = latest_moves(conn, kind, [x["target_id"] for x in found])
    for x in found:
        x["move"] = moves.get(x["target_id"])
    return found


def latest_moves(conn: Connection, kind: str, targets: list[int]) -> dict[int, dict[str, Any]]:
    """Each target's most recent score change caused by a reviewer decision."""
    ch, run = s.lead_changes, s.lead_runs
    moves: dict[int, dict[str, Any]] = {}
    if not targets:
        return moves
    rows = conn.execute(
        select(
            ch.c.target_id,
            ch.c.old_score,
            ch.c.new_score,
            ch.c.gained,
            ch.c.lost,
            run.c.cause,
            run.c.at,
        )
        .join(run, run.c.id == ch.c.run_id)
        .where(ch.c.target_kind == kind, ch.c.target_id.in_(targets), run.c.cause != "correlation")
        .order_by(ch.c.id.desc())
    )
    for r in rows:
        if r.target_id in moves or r.old_score is None or r.new_score is None:
            continue
        delta = round(r.new_score - r.old_score, 2)
        changed = reasons(r.gained) if delta > 0 else reasons(r.lost) + reasons(r.gained)
        moves[r.target_id] = {
            "delta": delta,
            "why": [c.get("detail", "") for c in changed if isinstance(c, dict)],
            "cause": r.cause,
            "at": r.at,
        }
    return moves
