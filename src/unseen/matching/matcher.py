"""Matching a case against the hash-set library: exact digests and PDQ near-duplicates.

Nothing here writes: it reads the case and the library and returns what matched
(``stage`` stores it). Per hash-set version it keeps, for each item and category, the
strongest match: an exact digest (SHA-256, SHA-1, MD5) before any PDQ match, then the
smallest distance, then the lowest entry id, so every category a set gives an item is
kept (disagreements inside one set stay visible) while clusters of near-identical
entries do not multiply rows.

PDQ: an image is compared through its eight dihedral hashes (as found, rotated,
mirrored). Its kind is ``pdq`` when the hash as found is within the radius, otherwise
``pdq-dihedral`` with the closest transform's distance. Images whose PDQ quality is
below the threshold are not matchable by PDQ and are counted, not dropped silently.
Video frames (``video_frames``) are compared as found; a video matches an entry's
category with the share of its usable frames that are within the radius.
"""

from __future__ import annotations

import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, select

from unseen.matching.categorise import EXACT_KINDS, strength
from unseen.matching.index import Hits, codes_from_hex
from unseen.matching.index_cache import EntryRows, IndexCache, SetHashes, SetKey
from unseen.matching.library import HashSetInfo, Library
from unseen.matching.library_schema import entries
from unseen.matching.signals import Pdq, PdqDihedral, VideoPdq, pdq_radius
from unseen.store import schema as s

PAGE = 5000  # case items per exact lookup (bound parameters stay far below limits)
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Thresholds: PDQ distance at most ``max_distance`` (bits of 256) and PDQ quality
    at least ``min_quality`` (0-100) on the case side; ``threads`` for the search.
    The distance defaults to the settings' PDQ radius; a run passes its own."""

    max_distance: int = field(default_factory=pdq_radius)
    min_quality: int = Pdq.MIN_QUALITY
    threads: int | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """A case item matching a library entry (its ``ref`` is looked up later)."""

    item_id: int
    set_id: int
    entry_id: int
    kind: str
    distance: int
    category: str | None
    fraction: float | None = None


@dataclass
class Outcome:
    """Everything one matching pass found, with the counts the reports show."""

    sets: list[HashSetInfo]
    hits: list[Hit] = field(default_factory=list)
    refs: dict[int, str] = field(default_factory=dict)  # entry id -> entry ref
    index_origin: dict[int, str] = field(default_factory=dict)  # set id -> cache/built
    pdq_images: int = 0  # images compared by PDQ
    low_quality: int = 0  # images with a PDQ below the quality threshold
    malformed: int = 0  # stored hashes that are not 64 hex digits
    videos: int = 0  # videos with usable frame hashes
    frames: int = 0


@dataclass(frozen=True, slots=True)
class Queries:
    """Case-side PDQ hashes by row: the item and which transform (0 = as found)."""

    codes: npt.NDArray[np.uint8]
    item: I64
    turn: npt.NDArray[np.int8]


def match_case(conn: Connection, library: Library, config: MatchConfig) -> Outcome:
    """Match every item of the case (read through ``conn``) against every ready set."""
    outcome = Outcome(library.sets())
    with library.engine.connect() as lib:
        outcome.hits += exact_hits(conn, lib, outcome.sets)
    images = image_queries(conn, config.min_quality, outcome)
    frames = frame_queries(conn, config.min_quality, outcome)
    cache = IndexCache(library.home / "indexes")
    for info in outcome.sets:
        hashes = cache.load(_key(info), partial(_pdq_rows, library, info.id))
        outcome.index_origin[info.id] = hashes.origin
        if not len(hashes.codes) or not (len(images.codes) or len(frames.codes)):
            continue
        index = Pdq.index_codes(hashes.codes, config.max_distance)
        found = index.search(images.codes, config.threads)
        outcome.hits += pdq_hits(images, hashes, found, info.id)
        if len(frames.codes):
            found = index.search(frames.codes, config.threads)
            outcome.hits += video_hits(frames, hashes, found, info.id)
    outcome.hits = strongest(outcome.hits)
    with library.engine.connect() as lib:
        outcome.refs = entry_refs(lib, sorted({h.entry_id for h in outcome.hits}))
    return outcome


def _key(info: HashSetInfo) -> SetKey:
    return SetKey(info.id, info.name, info.version, info.file_sha256)


def _pdq_rows(library: Library, set_id: int) -> EntryRows:
    e = entries
    query = (
        select(e.c.id, e.c.pdq, e.c.category)
        .where(e.c.set_id == set_id, e.c.pdq.is_not(None))
        .order_by(e.c.id)
    )
    with library.engine.connect() as lib:
        for entry_id, pdq, category in lib.execute(query):
            if Pdq.is_valid(pdq):  # the importer checked them; a hand-edited row
                yield int(entry_id), pdq, category


def exact_hits(conn: Connection, lib: Connection, sets: Sequence[HashSetInfo]) -> list[Hit]:
    """MD5, SHA-1 and SHA-256 of every case item looked up in the sets, a page at a time
    (indexed ``IN`` lookups: constant memory whatever the sizes of case and library)."""
    if not sets:
        return []
    set_ids = {info.id for info in sets}
    found: list[Hit] = []
    for page in _item_pages(conn):
        for kind in EXACT_KINDS:
            items: dict[str, list[int]] = {}
            for row in page:
                digest = row._mapping[kind]
                if digest:
                    items.setdefault(str(digest).lower(), []).append(int(row.id))
            if not items:
                continue
            query = select(entries.c.id, entries.c.set_id, entries.c[kind], entries.c.category)
            # Only the digest in SQL: with ``set_id IN`` too, SQLite picks the set index
            # and scans whole sets. Removed sets have no entries left; the rest is here.
            for entry_id, set_id, digest, category in lib.execute(
                query.where(entries.c[kind].in_(list(items)))
            ):
                if set_id in set_ids:
                    found += [Hit(i, set_id, entry_id, kind, 0, category) for i in items[digest]]
    return found


def _item_pages(conn: Connection) -> Iterator[Sequence[Any]]:
    i = s.items
    after = 0
    while True:
        query = select(i.c.id, i.c.md5, i.c.sha1, i.c.sha256).where(i.c.id > after)
        rows = conn.execute(query.order_by(i.c.id).limit(PAGE)).all()
        if not rows:
            return
        yield rows
        after = int(rows[-1].id)


def image_queries(conn: Connection, min_quality: int, outcome: Outcome) -> Queries:
    """The eight dihedral PDQ hashes of every matchable image (one if only one is known)."""
    im = s.images
    query = select(im.c.item_id, im.c.pdq, im.c.pdq_quality, im.c.pdq_dihedral)
    found = _QueryBuilder()
    for item_id, pdq, quality, dihedral in conn.execute(query.where(im.c.pdq.is_not(None))):
        if quality is None or quality < min_quality:
            outcome.low_quality += 1
            continue
        hashes = str(dihedral).split(",") if dihedral else [pdq]
        if not all(Pdq.is_valid(h) for h in hashes) or hashes[0] != pdq:
            outcome.malformed += 1
            continue
        outcome.pdq_images += 1
        for turn, pdq_hex in enumerate(hashes):
            found.add(item_id, turn, pdq_hex)
    return found.build()


def frame_queries(conn: Connection, min_quality: int, outcome: Outcome) -> Queries:
    """The usable frame hashes of every video."""
    found = _QueryBuilder()
    f = s.video_frames
    query = select(f.c.item_id, f.c.pdq).where(f.c.quality >= min_quality)
    for item_id, pdq in conn.execute(query.order_by(f.c.item_id, f.c.frame_index)):
        if Pdq.is_valid(pdq):
            found.add(item_id, 0, pdq)
        else:
            outcome.malformed += 1
    queries = found.build()
    outcome.videos, outcome.frames = len(np.unique(queries.item)), len(queries.item)
    return queries


class _QueryBuilder:
    """Collects hashes compactly (a case can hold millions of images)."""

    def __init__(self) -> None:
        self.codes: list[npt.NDArray[np.uint8]] = []
        self.pending: list[str] = []
        self.items = array.array("q")
        self.turns = array.array("b")

    def add(self, item_id: int, turn: int, pdq: str) -> None:
        self.items.append(item_id)
        self.turns.append(turn)
        self.pending.append(pdq)
        if len(self.pending) >= 1 << 16:
            self.codes.append(codes_from_hex(self.pending))
            self.pending = []

    def build(self) -> Queries:
        self.codes.append(codes_from_hex(self.pending))
        return Queries(
            np.concatenate(self.codes),
            np.frombuffer(self.items, np.int64).copy(),
            np.frombuffer(self.turns, np.int8).copy(),
        )


def _firsts(*keys: npt.NDArray[np.generic]) -> npt.NDArray[np.bool_]:
    """Where sorted rows start a new group of equal keys."""
    if not keys[0].size:
        return np.zeros(0, bool)
    new = np.zeros(keys[0].size, bool)
    new[0] = True
    for key in keys:
        new[1:] |= key[1:] != key[:-1]
    return new


def pdq_hits(queries: Queries, hashes: SetHashes, found: Hits, set_id: int) -> list[Hit]:
    """The closest entry of each category for each image, as found or else turned."""
    item, ref, dist = queries.item[found.query], found.ref, found.distance.astype(np.int64)
    turned = (queries.turn[found.query] != 0).astype(np.int64)
    # Per (image, entry): the hash as found wins when within the radius at all.
    order = np.lexsort((dist, turned, ref, item))
    item, ref, dist, turned = (a[order] for a in (item, ref, dist, turned))
    keep = _firsts(item, ref)
    item, ref, dist, turned = (a[keep] for a in (item, ref, dist, turned))
    entry, cat = hashes.entry_ids[ref], hashes.category_index[ref].astype(np.int64)
    order = np.lexsort((entry, turned, dist, cat, item))
    item, entry, dist, turned, cat = (a[order] for a in (item, entry, dist, turned, cat))
    keep = _firsts(item, cat)
    kinds = (Pdq.NAME, PdqDihedral.NAME)  # as found, turned
    return [
        Hit(int(i), set_id, int(e), kinds[bool(t)], int(d), _cat(hashes, c))
        for i, e, d, t, c in zip(
            item[keep], entry[keep], dist[keep], turned[keep], cat[keep], strict=True
        )
    ]


def video_hits(queries: Queries, hashes: SetHashes, found: Hits, set_id: int) -> list[Hit]:
    """Per video and category: the share of usable frames within the radius of any of
    the category's entries, and the closest entry."""
    usable = dict(zip(*np.unique(queries.item, return_counts=True), strict=True))
    frame, item, dist = found.query, queries.item[found.query], found.distance.astype(np.int64)
    entry, cat = hashes.entry_ids[found.ref], hashes.category_index[found.ref].astype(np.int64)
    order = np.lexsort((entry, dist, frame, cat, item))
    frame, item, dist, entry, cat = (a[order] for a in (frame, item, dist, entry, cat))
    per_frame = _firsts(item, cat, frame)  # a frame counts once per category
    matched: dict[tuple[int, int], int] = {}
    for i, c in zip(item[per_frame], cat[per_frame], strict=True):
        matched[int(i), int(c)] = matched.get((int(i), int(c)), 0) + 1
    order = np.lexsort((entry, dist, cat, item))
    item, dist, entry, cat = (a[order] for a in (item, dist, entry, cat))
    keep = _firsts(item, cat)
    return [
        Hit(int(i), set_id, int(e), VideoPdq.NAME, int(d), _cat(hashes, c),
            matched[int(i), int(c)] / int(usable[i]))
        for i, e, d, c in zip(item[keep], entry[keep], dist[keep], cat[keep], strict=True)
    ]  # fmt: skip


def _cat(hashes: SetHashes, index: np.int64) -> str | None:
    return None if index < 0 else hashes.categories[int(index)]


def strongest(hits: list[Hit]) -> list[Hit]:
    """One hit per (item, set, category): exact digests first, then the closest."""
    best: dict[tuple[int, int, str | None], Hit] = {}
    for hit in hits:
        key = (hit.item_id, hit.set_id, hit.category)
        old = best.get(key)
        if old is None or _strength(hit) < _strength(old):
            best[key] = hit
    return sorted(best.values(), key=lambda h: (h.item_id, h.set_id, _strength(h)))


def _strength(hit: Hit) -> tuple[bool, int, int, int]:
    return (*strength(hit.kind, hit.distance), hit.entry_id)


def entry_refs(lib: Connection, entry_ids: list[int]) -> dict[int, str]:
    """Where each entry came from in its file (line, record or MediaID)."""
    refs: dict[int, str] = {}
    for start in range(0, len(entry_ids), PAGE):
        chunk = entry_ids[start : start + PAGE]
        query = select(entries.c.id, entries.c.ref).where(entries.c.id.in_(chunk))
        refs.update((int(i), str(r)) for i, r in lib.execute(query))
    return refs
