"""The export record: one JSON object per item, with stable keys.

Keys are an interface other tools read: later versions add keys, never rename or
remove them. Absent values are null.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select, func, select

from unseen import plugins
from unseen.core.hooks import ExportField
from unseen.core.timeconv import unix_to_iso
from unseen.correlation.export import correlation_fields
from unseen.correlation.export import empty as correlation_empty
from unseen.matching.categorise import item_categories, no_category
from unseen.store import schema as s

EXIF_KEYS = (
    "make", "model", "serial", "lens", "software", "datetime_original",
    "gps_lat", "gps_lon", "gps_alt", "orientation", "serial_source",
)  # fmt: skip
VIDEO_KEYS = (
    "duration", "video_codec", "audio_codec", "width", "height", "fps", "frames",
    "creation_time", "make", "model", "gps_lat", "gps_lon", "gps_alt", "contact_sheet",
)  # fmt: skip
PAGE = 2000


def _query() -> Any:
    i, im, ex, src, vid = s.items, s.images, s.exif, s.sources, s.videos
    return (
        select(
            i.c.id,
            i.c.path,
            i.c.kind,
            i.c.size,
            i.c.md5,
            i.c.sha1,
            i.c.sha256,
            i.c.mime,
            i.c.mtime,
            i.c.atime,
            i.c.ctime,
            i.c.link_target,
            i.c.status,
            i.c.parent_id,
            i.c.deleted,
            i.c.carved,
            i.c.offset,
            i.c.volume,
            i.c.snapshot,
            src.c.label.label("source"),
            im.c.width,
            im.c.height,
            im.c.format.label("image_format"),
            im.c.pdq,
            im.c.pdq_quality,
            im.c.pdq_policy,
            im.c.jpeg_qtables,
            im.c.jpeg_quality,
            im.c.thumbnail,
            im.c.frames,
            ex.c.item_id.label("exif_id"),
            *(ex.c[k] for k in EXIF_KEYS),
            ex.c.thumbnail.label("exif_thumbnail"),
            vid.c.item_id.label("video_id"),
            *(vid.c[k].label(f"video_{k}") for k in VIDEO_KEYS),
        )
        .select_from(
            i.join(src, src.c.id == i.c.source_id)
            .outerjoin(im, im.c.item_id == i.c.id)
            .outerjoin(ex, ex.c.item_id == i.c.id)
            .outerjoin(vid, vid.c.item_id == i.c.id)
        )
        .order_by(i.c.id)
    )


def to_record(
    row: Row[Any],
    errors: list[str],
    container: list[str] | None = None,
    hashed_frames: int = 0,
) -> dict[str, Any]:
    """The export record of one joined item row.

    ``container`` is the chain of container paths holding the item, outermost first
    (empty for an item listed by its source directly); ``hashed_frames`` counts the
    vPDQ frame hashes stored for a video.
    """
    m = row._mapping
    exif = None
    if m["exif_id"] is not None:
        exif = {k: m[k] for k in EXIF_KEYS}
        exif["thumbnail"] = bool(m["exif_thumbnail"])
    video = None
    if m["video_id"] is not None:
        video = {k: m[f"video_{k}"] for k in VIDEO_KEYS}
        video["hashed_frames"] = hashed_frames
    return {
        "path": m["path"],
        "source": m["source"],
        "kind": m["kind"],
        "size": m["size"],
        "md5": m["md5"],
        "sha1": m["sha1"],
        "sha256": m["sha256"],
        "mime": m["mime"],
        "width": m["width"],
        "height": m["height"],
        "pdq": m["pdq"],
        "pdq_quality": m["pdq_quality"],
        "pdq_policy": m["pdq_policy"],
        "image_format": m["image_format"],
        "jpeg_qtables": m["jpeg_qtables"],
        "jpeg_quality": m["jpeg_quality"],
        "thumbnail": m["thumbnail"],
        "exif": exif,
        "mtime": unix_to_iso(m["mtime"]),
        "atime": unix_to_iso(m["atime"]),
        "ctime": unix_to_iso(m["ctime"]),
        "link_target": m["link_target"],
        "status": m["status"],
        "errors": errors,
        "container": container or [],
        "deleted": bool(m["deleted"]),
        "carved": bool(m["carved"]),
        "offset": m["offset"],
        "volume": m["volume"],
        "snapshot": m["snapshot"],
        "video": video,
    }


def iter_records(
    conn: Connection, only: Collection[int] | None = None
) -> Iterator[dict[str, Any]]:
    """Every item of the case as an export record, in the order it was listed; with
    ``only``, those items alone (a grid filter's result)."""
    query = _query()
    chains = _Chains(conn)
    extra = plugins.export_fields()
    for rows in _pages(conn, query) if only is None else _chosen(conn, query, only):
        yield from _records(conn, rows, chains, extra)


def _pages(conn: Connection, query: Select[Any]) -> Iterator[Sequence[Row[Any]]]:
    after = 0
    while rows := conn.execute(query.where(s.items.c.id > after).limit(PAGE)).all():
        yield rows
        after = rows[-1].id


def _chosen(
    conn: Connection, query: Select[Any], only: Collection[int]
) -> Iterator[Sequence[Row[Any]]]:
    """Pages of the chosen items, each of close ids (the per-page lookups read id
    ranges: a page spanning the whole case would read the whole case)."""
    page: list[int] = []
    for item_id in sorted(only):
        if page and (len(page) == PAGE or item_id - page[0] > 4 * PAGE):
            yield conn.execute(query.where(s.items.c.id.in_(page))).all()
            page = []
        page.append(item_id)
    if page:
        yield conn.execute(query.where(s.items.c.id.in_(page))).all()


def _records(
    conn: Connection, rows: Sequence[Row[Any]], chains: _Chains, extra: list[ExportField]
) -> Iterator[dict[str, Any]]:
    """The export records of one page of item rows."""
    if not rows:
        return
    errors = _errors(conn, rows[0].id, rows[-1].id)
    frames = _hashed_frames(conn, rows[0].id, rows[-1].id)
    known = item_categories(conn, rows[0].id, rows[-1].id)
    correlated = correlation_fields(conn, rows[0].id, rows[-1].id)
    ids = [row.id for row in rows]
    found = [f.values(conn, ids) for f in extra]
    for row in rows:
        record = to_record(
            row, errors.get(row.id, []), chains.of(row.parent_id), frames.get(row.id, 0)
        )
        # category, category_source, category_reason, category_conflict, known_good,
        # matches: from hash-set matching and, where a reviewer decided, review.
        # clusters, first_generation, lead, faces, ocr_text, place: from correlation.
        # Then the plugins' keys (export_fields hooks), each in its declared place.
        record = (
            record | known.get(row.id, no_category()) | correlated.get(row.id, correlation_empty())
        )
        yield placed(record, [(f, found[i].get(row.id, f.default)) for i, f in enumerate(extra)])


def placed(record: dict[str, Any], extra: list[tuple[ExportField, Any]]) -> dict[str, Any]:
    """The record with the plugins' keys: each right after its ``after`` key when the
    record (or another plugin's key) has it, the others at the end in hook order."""
    if not extra:
        return record
    names = {f.name for f, _ in extra} | set(record)
    following: dict[str | None, list[tuple[str, Any]]] = {}
    for f, value in extra:
        if f.name in record:
            raise ValueError(f"export key {f.name!r} is the record's own")
        anchor = f.after if f.after in names else None
        following.setdefault(anchor, []).append((f.name, value))
    out: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        out[key] = value
        for name, inner in following.pop(key, ()):
            put(name, inner)

    for key, value in record.items():
        put(key, value)
    for name, value in following.pop(None, ()):
        put(name, value)
    for rest in list(following.values()):  # keys placed after each other in a circle
        for name, value in rest:
            if name not in out:
                put(name, value)
    return out


class _Chains:
    """Container chains (outermost first), looked up once per container item."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.known: dict[int, list[str]] = {}

    def of(self, parent_id: int | None) -> list[str]:
        if parent_id is None:
            return []
        if parent_id not in self.known:
            i = s.items
            row = self.conn.execute(select(i.c.parent_id, i.c.path).where(i.c.id == parent_id))
            grand, path = row.one()
            # Depth is bounded by the nesting limit, so recursion stays shallow.
            self.known[parent_id] = [*self.of(grand), path]
        return self.known[parent_id]


def _hashed_frames(conn: Connection, first: int, last: int) -> dict[int, int]:
    f = s.video_frames
    rows = conn.execute(
        select(f.c.item_id, func.count())
        .where(f.c.item_id.between(first, last))
        .group_by(f.c.item_id)
    )
    return {item_id: int(n) for item_id, n in rows}


def _errors(conn: Connection, first: int, last: int) -> dict[int, list[str]]:
    e = s.item_errors
    found: dict[int, list[str]] = defaultdict(list)
    rows = conn.execute(
        select(e.c.item_id, e.c.analyser, e.c.message)
        .where(e.c.item_id.between(first, last))
        .order_by(e.c.id)
    )
    for item_id, analyser, message in rows:
        found[item_id].append(f"{analyser}: {message}")
    # Internet-artefact parse errors belong to the item they came from, like any other.
    a = s.artefact_errors
    parsed = conn.execute(
        select(a.c.item_id, a.c.parser, a.c.message)
        .where(a.c.item_id.between(first, last))
        .order_by(a.c.id)
    )
    for item_id, parser, message in parsed:
        found[item_id].append(f"internet:{parser}: {message}")
    return found
