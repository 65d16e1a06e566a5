"""The per-item facts correlation works on, loaded once from the case.

One compact record per item that has content: what the fast pass found (hashes,
PDQ, EXIF, JPEG tables) and what matching decided (category, known-good). Groupings
and scoring read only these, never the database, so they are easy to test.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields

from sqlalchemy import Connection, select

from unseen.store import schema as s


@dataclass(frozen=True, slots=True)
class ItemFacts:
    id: int
    source_id: int
    path: str
    sha256: str | None
    mime: str | None
    width: int | None = None
    height: int | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    pdq_dihedral: str | None = None
    jpeg_qtables: str | None = None
    jpeg_quality: int | None = None
    make: str | None = None
    model: str | None = None
    serial: str | None = None
    software: str | None = None
    datetime_original: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    exif_thumbnail: bool = False
    orientation: int | None = None
    category: str | None = None  # from hash sets (auto_categories), in the case scheme
    known_good: bool = False
    matched: bool = False  # any hash-set match at all
    hash_source: str | None = None  # the sets that decided ``category``
    reviewed: str | None = None  # the reviewer's effective category, if any
    reviewer: str | None = None

    @property
    def is_image(self) -> bool:
        return bool(self.mime and self.mime.startswith("image/"))

    @property
    def camera(self) -> str | None:
        """``Make Model`` as the camera wrote it, or None without EXIF make/model."""
        if not (self.make or self.model):
            return None
        make, model = (self.make or "").strip(), (self.model or "").strip()
        return (
            model if make and model.lower().startswith(make.lower()) else f"{make} {model}".strip()
        )

    @property
    def unknown(self) -> bool:
        """Not categorised by any hash set and not known-good: the unseen remainder."""
        return not self.matched


def load_facts(conn: Connection) -> list[ItemFacts]:
    """Every processed item with content, in id order.

    Rows are read as tuples in ``ItemFacts``' field order: building each record through
    a mapping and keyword arguments took most of the time of ``unseen status`` at
    100,000 items."""
    i, im, ex = s.items, s.images, s.exif
    columns = [
        i.c.id,
        i.c.source_id,
        i.c.path,
        i.c.sha256,
        i.c.mime,
        im.c.width,
        im.c.height,
        im.c.pdq,
        im.c.pdq_quality,
        im.c.pdq_dihedral,
        im.c.jpeg_qtables,
        im.c.jpeg_quality,
        ex.c.make,
        ex.c.model,
        ex.c.serial,
        ex.c.software,
        ex.c.datetime_original,
        ex.c.gps_lat,
        ex.c.gps_lon,
        ex.c.thumbnail.label("exif_thumbnail"),
        ex.c.orientation,
    ]
    assert [c.name for c in columns] == _FIELDS[: len(columns)]
    query = (
        select(*columns)
        .select_from(i.outerjoin(im, im.c.item_id == i.c.id).outerjoin(ex, ex.c.item_id == i.c.id))
        .where(i.c.status == "done", i.c.sha256.is_not(None))
        .order_by(i.c.id)
    )
    known, reviewed = _known(conn), reviews(conn)
    found = []
    for row in conn.execute(query):
        hashes = known.get(row[0])
        decided = (None, False, False, None) if hashes is None else (*hashes[:2], True, hashes[2])
        review = reviewed.get(row[0], (None, None))
        # Positional in field order (checked above): mypy cannot count a row slice.
        found.append(ItemFacts(*row[:19], bool(row[19]), row[20], *decided, *review))  # type: ignore[call-arg]
    return found


_FIELDS = [f.name for f in fields(ItemFacts)]


def _known(conn: Connection) -> dict[int, tuple[str | None, bool, str]]:
    """Hash-set decisions per item, when matching has run on this case."""
    a = s.auto_categories
    rows = conn.execute(select(a.c.item_id, a.c.category, a.c.known_good, a.c.source))
    return {int(r[0]): (r[1], bool(r[2]), str(r[3])) for r in rows}


def reviews(conn: Connection, ids: Iterable[int] | None = None) -> dict[int, tuple[str, str]]:
    """Each reviewed item's effective category and reviewer (all items, or ``ids``)."""
    r = s.review_state
    query = select(r.c.item_id, r.c.category, r.c.user)
    if ids is not None:
        query = query.where(r.c.item_id.in_(sorted(set(ids))))
    return {int(x[0]): (str(x[1]), str(x[2])) for x in conn.execute(query)}


def images(facts: list[ItemFacts]) -> Iterator[ItemFacts]:
    """The image items among ``facts``."""
    return (f for f in facts if f.is_image)
