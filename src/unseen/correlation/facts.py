"""The per-item facts correlation works on, loaded once from the case.

One compact record per item that has content: what the fast pass found (hashes,
PDQ, EXIF, JPEG tables) and what matching decided (category, known-good). Groupings
and scoring read these, and the store only for what few of them need: a picture's
eight dihedral hashes (``dihedral_lists``, ``dihedral``) were a third of the facts'
memory at a million items (half a gigabyte) for the two groupings that read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, select

from unseen.core.batches import id_lists
from unseen.matching.signals import Pdq
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
    pool: dict[Any, Any] = {}
    known, reviewed = _known(conn, pool), reviews(conn, pool=pool)
    found = []
    for row in conn.execute(query.execution_options(yield_per=STREAM)):
        hashes = known.get(row[0])
        decided = (None, False, False, None) if hashes is None else (*hashes[:2], True, hashes[2])
        review = reviewed.get(row[0], (None, None))
        shared: list[Any] = [
            row[i] if i in _UNIQUE else pool.setdefault(row[i], row[i]) for i in range(_THUMB)
        ]
        # Positional in field order (checked above): mypy cannot count a row slice.
        found.append(ItemFacts(*shared, bool(row[_THUMB]), row[_THUMB + 1], *decided, *review))  # type: ignore[call-arg]
    return found


STREAM = 10_000  # rows fetched at a time: PostgreSQL would otherwise send all at once
_FIELDS = [f.name for f in fields(ItemFacts)]
_THUMB = _FIELDS.index("exif_thumbnail")  # the columns before it are read as they are
# Columns whose values differ from item to item (and the floats, which must not meet
# an equal int in the pool); every other value (type, camera, serial, software, JPEG
# tables, sizes) repeats over a case and is kept once: about 0.25 GB at 1 M items.
_UNIQUE = frozenset(
    _FIELDS.index(name)
    for name in ("id", "path", "sha256", "pdq", "datetime_original", "gps_lat", "gps_lon")
)


def _known(conn: Connection, pool: dict[Any, Any]) -> dict[int, tuple[str | None, bool, str]]:
    """Hash-set decisions per item, when matching has run on this case (each distinct
    category and source text kept once, in ``pool``)."""
    a = s.auto_categories
    rows = conn.execute(select(a.c.item_id, a.c.category, a.c.known_good, a.c.source))
    return {
        int(r[0]): (pool.setdefault(r[1], r[1]), bool(r[2]), pool.setdefault(r[3], str(r[3])))
        for r in rows
    }


def reviews(
    conn: Connection, ids: Iterable[int] | None = None, pool: dict[Any, Any] | None = None
) -> dict[int, tuple[str, str]]:
    """Each reviewed item's effective category and reviewer (all items, or ``ids``);
    with ``pool``, each distinct text is kept once."""
    r = s.review_state
    query = select(r.c.item_id, r.c.category, r.c.user)
    if ids is not None:
        query = query.where(r.c.item_id.in_(sorted(set(ids))))
    texts = {} if pool is None else pool
    return {
        int(x[0]): (texts.setdefault(x[1], str(x[1])), texts.setdefault(x[2], str(x[2])))
        for x in conn.execute(query)
    }


def dihedral_lists(conn: Connection, facts: Sequence[ItemFacts]) -> Iterator[str]:
    """For each of ``facts`` (in id order, as ``load_facts`` gives them), its dihedral
    PDQ hashes as stored (comma-separated), else its PDQ alone, else "".

    Read a row at a time in step with ``facts``, so that no more than one picture's
    list is held here."""
    im = s.images
    query = (
        select(im.c.item_id, im.c.pdq_dihedral)
        .where(im.c.pdq.is_not(None))
        .order_by(im.c.item_id)
        .execution_options(yield_per=STREAM)
    )
    result = conn.execute(query)
    try:  # closed when done, not left open on the connection the groupings share
        rows = iter(result)
        row = next(rows, None)
        last = None
        for f in facts:
            if last is not None and f.id <= last:
                raise ValueError("facts must be in ascending id order")
            last = f.id
            while row is not None and row[0] < f.id:
                row = next(rows, None)
            stored = row[1] if row is not None and row[0] == f.id else None
            yield stored or f.pdq or ""
    finally:
        result.close()


def dihedral(conn: Connection, facts: Iterable[ItemFacts]) -> dict[int, list[str]]:
    """The dihedral PDQ hashes of a few ``facts`` by item id (their PDQ alone where
    none are stored; well-formed hashes only, as ``Pdq`` says)."""
    wanted = {f.id: f for f in facts}
    found: dict[int, str] = {}
    im = s.images
    for chunk in id_lists(wanted):
        query = select(im.c.item_id, im.c.pdq_dihedral).where(im.c.item_id.in_(chunk))
        found.update((int(i), text) for i, text in conn.execute(query) if text)
    return {
        i: [v for v in (found.get(i) or f.pdq or "").lower().split(",") if Pdq.is_valid(v)]
        for i, f in wanted.items()
    }


def images(facts: list[ItemFacts]) -> Iterator[ItemFacts]:
    """The image items among ``facts``."""
    return (f for f in facts if f.is_image)
