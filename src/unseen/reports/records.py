"""The export record: one JSON object per item, with stable keys.

Keys are an interface other tools read: later versions add keys, never rename or
remove them. Absent values are null.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Row, select

from unseen.core.timeconv import unix_to_iso
from unseen.store import schema as s

EXIF_KEYS = (
    "make", "model", "serial", "lens", "software", "datetime_original",
    "gps_lat", "gps_lon", "gps_alt", "orientation",
)  # fmt: skip
PAGE = 2000


def _query() -> Any:
    i, im, ex, src = s.items, s.images, s.exif, s.sources
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
        )
        .select_from(
            i.join(src, src.c.id == i.c.source_id)
            .outerjoin(im, im.c.item_id == i.c.id)
            .outerjoin(ex, ex.c.item_id == i.c.id)
        )
        .order_by(i.c.id)
    )


def to_record(row: Row[Any], errors: list[str]) -> dict[str, Any]:
    """The export record of one joined item row."""
    m = row._mapping
    exif = None
    if m["exif_id"] is not None:
        exif = {k: m[k] for k in EXIF_KEYS}
        exif["thumbnail"] = bool(m["exif_thumbnail"])
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
    }


def iter_records(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every item of the case as an export record, in the order it was listed."""
    after = 0
    query = _query()
    while True:
        rows = conn.execute(query.where(s.items.c.id > after).limit(PAGE)).all()
        if not rows:
            return
        errors = _errors(conn, rows[0].id, rows[-1].id)
        for row in rows:
            yield to_record(row, errors.get(row.id, []))
        after = rows[-1].id


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
    return found
