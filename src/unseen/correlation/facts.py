"""The per-item facts correlation works on, read from the case as they are walked.

One compact record per item that has content: what the fast pass found (hashes,
PDQ, EXIF, JPEG tables) and what matching and reviewers decided (category,
known-good). Correlation never holds them all (``StoredFacts``): each grouping walks
the fields it reads, and a picture's eight dihedral hashes are read in step with
the walk that needs them (``dihedral_lists``) or for a few pictures (``dihedral``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import MISSING, dataclass, fields
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from unseen.core.batches import id_lists
from unseen.matching.signals import Pdq
from unseen.store import schema as s


# Not frozen, though nothing changes one once read: a frozen record took eight times
# as long to make, and correlation makes a million of them for each walk of the case.
@dataclass(slots=True)
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
    """Every processed item with content, in id order, held (``StoredFacts`` reads
    them as they are used)."""
    return list(StoredFacts(conn))


class Facts(ABC):
    """The case's items with content, as correlation reads them: walked in id order,
    a few looked up by id.

    ``scan`` names the fields a walk reads; the others may be left at their defaults
    (None, "", 0, False), so that a walk that needs an item's camera does not build
    its path, hashes and times."""

    @abstractmethod
    def scan(self, *names: str) -> Iterator[ItemFacts]:
        """Every item's facts in id order, with at least the fields ``names`` (and its
        id; ``camera`` needs make and model, ``is_image`` mime, ``unknown`` matched)."""

    def __iter__(self) -> Iterator[ItemFacts]:
        return self.scan(*FIELDS)

    @abstractmethod
    def get(self, ids: Iterable[int]) -> dict[int, ItemFacts]:
        """The whole facts of the items ``ids`` that have content, by id."""

    @abstractmethod
    def __contains__(self, item_id: object) -> bool:
        """Whether the item has content (is one of the facts)."""


class HeldFacts(Facts):
    """Facts given as a list (tests; callers that hold a few)."""

    def __init__(self, facts: Iterable[ItemFacts]) -> None:
        self._by_id = {f.id: f for f in sorted(facts, key=lambda f: f.id)}

    def scan(self, *names: str) -> Iterator[ItemFacts]:
        return iter(self._by_id.values())

    def get(self, ids: Iterable[int]) -> dict[int, ItemFacts]:
        return {i: self._by_id[i] for i in ids if i in self._by_id}

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._by_id


class StoredFacts(Facts):
    """Facts read from the case each time they are walked: a million items' facts held
    together were two thirds of a gigabyte, and each grouping reads a few fields of
    them (at a million items, a walk reading what matching decided took 1.8 s)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._present: bytearray | None = None

    def scan(self, *names: str) -> Iterator[ItemFacts]:
        return _read(self.conn, {"id", *names})

    def get(self, ids: Iterable[int]) -> dict[int, ItemFacts]:
        found: dict[int, ItemFacts] = {}
        for chunk in id_lists(ids):
            found.update((f.id, f) for f in _read(self.conn, set(FIELDS), chunk))
        return found

    def __contains__(self, item_id: object) -> bool:
        if self._present is None:  # a byte an item id
            present = bytearray()
            for f in self.scan():
                present.extend(bytes(f.id + 1 - len(present)))
                present[f.id] = 1
            self._present = present
        return (
            isinstance(item_id, int)
            and 0 <= item_id < len(self._present)
            and bool(self._present[item_id])
        )


def _read(conn: Connection, names: set[str], ids: list[int] | None = None) -> Iterator[ItemFacts]:
    """The facts of every item with content (or of ``ids``), in id order, the fields
    ``names`` read and the others left at their defaults.

    Rows are read as tuples in ``ItemFacts``' field order: building each record through
    a mapping and keyword arguments took most of the time of ``unseen status`` at
    100,000 items."""
    unknown = names - set(FIELDS)
    if unknown:
        raise ValueError(f"no such facts: {sorted(unknown)}")
    read = [k for k, name in enumerate(FIELDS[: len(_COLUMNS)]) if name in names]
    i, im, ex = s.items, s.images, s.exif
    query = (
        select(*(_COLUMNS[k] for k in read))
        .select_from(i.outerjoin(im, im.c.item_id == i.c.id).outerjoin(ex, ex.c.item_id == i.c.id))
        .where(i.c.status == "done", i.c.sha256.is_not(None))
        .order_by(i.c.id)
    )
    if ids is not None:
        query = query.where(i.c.id.in_(ids))
    pool: dict[Any, Any] = {}
    decisions = names & set(DECISIONS)
    known = (
        _known(conn, ids, pool)
        if decisions & {"category", "known_good", "matched", "hash_source"}
        else {}
    )
    reviewed = reviews(conn, ids, pool=pool) if decisions & {"reviewed", "reviewer"} else {}
    shared = [k in _UNIQUE or k >= _THUMB for k in read]  # kept as read, not pooled
    with conn.execute(query.execution_options(yield_per=STREAM)) as rows:
        for row in rows:
            values: list[Any] = list(_DEFAULTS)
            for k, unique, value in zip(read, shared, row, strict=True):
                values[k] = value if unique else pool.setdefault(value, value)
            item_id = values[0]
            hashes = known.get(item_id)
            if hashes is not None:
                values[_CATEGORY : _CATEGORY + 4] = (*hashes[:2], True, hashes[2])
            review = reviewed.get(item_id)
            if review is not None:
                values[_REVIEWED : _REVIEWED + 2] = review
            values[_THUMB] = bool(values[_THUMB])
            # Positional in field order (``_COLUMNS`` is checked against it).
            yield ItemFacts(*values)


T = TypeVar("T")
STREAM = 10_000  # rows fetched at a time: PostgreSQL would otherwise send all at once
FIELDS = tuple(f.name for f in fields(ItemFacts))
_i, _im, _ex = s.items, s.images, s.exif
# The stored columns, in ``ItemFacts``' field order; the decisions follow them.
_COLUMNS = [
    _i.c.id,
    _i.c.source_id,
    _i.c.path,
    _i.c.sha256,
    _i.c.mime,
    _im.c.width,
    _im.c.height,
    _im.c.pdq,
    _im.c.pdq_quality,
    _im.c.jpeg_qtables,
    _im.c.jpeg_quality,
    _ex.c.make,
    _ex.c.model,
    _ex.c.serial,
    _ex.c.software,
    _ex.c.datetime_original,
    _ex.c.gps_lat,
    _ex.c.gps_lon,
    _ex.c.thumbnail.label("exif_thumbnail"),
    _ex.c.orientation,
]
assert tuple(c.name for c in _COLUMNS) == FIELDS[: len(_COLUMNS)]
DECISIONS = tuple(FIELDS[len(_COLUMNS) :])  # what matching and reviewers decided
# What a walk leaves in the fields it does not read: the field's default, and for the
# fields without one, a value of their type.
_REQUIRED = {"id": 0, "source_id": 0, "path": "", "sha256": None, "mime": None}
_DEFAULTS: tuple[Any, ...] = tuple(
    _REQUIRED[f.name] if f.default is MISSING else f.default for f in fields(ItemFacts)
)
_THUMB = FIELDS.index("exif_thumbnail")
_CATEGORY = FIELDS.index("category")
_REVIEWED = FIELDS.index("reviewed")
# Columns whose values differ from item to item (and the floats, which must not meet
# an equal int in the pool); every other value (type, camera, serial, software, JPEG
# tables, sizes) repeats over a case and is kept once: about 0.25 GB at 1 M items.
_UNIQUE = frozenset(
    FIELDS.index(name)
    for name in ("id", "path", "sha256", "pdq", "datetime_original", "gps_lat", "gps_lon")
)


def _known(
    conn: Connection, ids: list[int] | None, pool: dict[Any, Any]
) -> dict[int, tuple[str | None, bool, str]]:
    """Hash-set decisions per item (all, or of ``ids``), when matching has run on this
    case (each distinct category and source text kept once, in ``pool``)."""
    a = s.auto_categories
    query = select(a.c.item_id, a.c.category, a.c.known_good, a.c.source)
    if ids is not None:
        query = query.where(a.c.item_id.in_(ids))
    return {
        int(r[0]): (pool.setdefault(r[1], r[1]), bool(r[2]), pool.setdefault(r[3], str(r[3])))
        for r in conn.execute(query)
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


def dihedral_lists(conn: Connection, pictures: Iterable[tuple[int, str | None]]) -> Iterator[str]:
    """For each of ``pictures`` (item id, its PDQ; in id order), its dihedral PDQ
    hashes as stored (comma-separated), else its PDQ alone, else "".

    Read a row at a time in step with ``pictures``, so that no more than one
    picture's list is held here."""
    im = s.images
    query = (
        select(im.c.item_id, im.c.pdq_dihedral)
        .where(im.c.pdq.is_not(None))
        .order_by(im.c.item_id)
        .execution_options(yield_per=STREAM)
    )
    # Closed when done, not left open on the connection the groupings share.
    with conn.execute(query) as result:
        for (_, pdq), rows in in_step(pictures, itemgetter(0), result):
            yield (rows[0][1] if rows else None) or pdq or ""


def in_step(
    wanted: Iterable[T], key: Callable[[T], int], rows: Iterable[Sequence[Any]]
) -> Iterator[tuple[T, list[Sequence[Any]]]]:
    """Each of ``wanted`` (in ascending ``key`` order) with the ``rows`` whose first
    value is its key, ``rows`` (ordered by that value) read in step with it: no more
    than one key's rows held, a stream of the case read beside another."""
    stream = iter(rows)
    row = next(stream, None)
    last = None
    for w in wanted:
        at = key(w)
        if last is not None and at <= last:
            raise ValueError("must be in ascending id order")
        last = at
        while row is not None and row[0] < at:
            row = next(stream, None)
        found = []
        while row is not None and row[0] == at:
            found.append(row)
            row = next(stream, None)
        yield w, found


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
