"""All pairs of PDQ hashes within a Hamming radius: exact, whatever the case size.

The search is the hash-set matcher's own exact index (``matching.index``): multi-index
hashing where its cost model predicts a gain (large cases), else FAISS's binary flat
range search. Both are exact; a flat all-pairs scan grows with the square of the
pictures (hours at a million), multi-index hashing about linearly.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from itertools import islice

import numpy as np

from unseen.matching.index import FlatIndex, MultiIndex, build_index
from unseen.matching.signals import Pdq


def pack(hex_hashes: list[str]) -> np.ndarray:
    """64-hex PDQ hashes as an (n, 32) uint8 array."""
    if not hex_hashes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hex_hashes)), dtype=np.uint8).reshape(-1, 32)


def pack_lists(lists: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Comma-separated lists of 64-hex hashes (a picture's eight dihedral hashes, as
    stored) as one (m, 32) uint8 array, and for each row the index of its list.
    A malformed hash is left out (the rest of its list counts).

    Built a list at a time: splitting a million pictures' lists into strings first
    held eight million of them (about 1 GB) at once."""
    packed, owners = bytearray(), array("q")
    for i, text in enumerate(lists):
        raw = _unhex(text)
        packed += raw
        owners.extend([i] * (len(raw) // 32))
    codes = np.frombuffer(packed, dtype=np.uint8).reshape(-1, 32)
    return codes, np.frombuffer(owners, dtype=np.int64)


def _unhex(text: str) -> bytes:
    """A list's well-formed hashes as bytes: the whole list at once when it is well laid
    out (the usual case), else hash by hash."""
    count = (len(text) + 1) // 65
    if len(text) == 65 * count - 1 and text[64::65] == "," * (count - 1):
        try:
            raw = bytes.fromhex(text.replace(",", ""))
        except ValueError:
            raw = b""
        if len(raw) == 32 * count:  # fromhex skips spaces: a short result is malformed
            return raw
    # Upper case is the same hash (and the whole-list path above reads it too).
    return b"".join(bytes.fromhex(v) for v in text.lower().split(",") if Pdq.is_valid(v))


# Pictures whose variants one index holds at a time: eight million hashes, about
# 1.3 GB at its build's peak. A larger case is searched an index of this many at a
# time, every picture against each: its memory stays bounded, its time grows faster
# (measured at a million pictures, one run each: four indexes of 250,000 took 183 s
# and peaked 0.9 GB lower than one index, 79 s).
INDEX_PICTURES = 1_000_000


def pairs_within(
    hashes: list[str] | np.ndarray,
    radius: int,
    variants: Iterable[str] | None = None,
    per_index: int = INDEX_PICTURES,
) -> list[tuple[int, int, int]]:
    """Index pairs (i < j) whose hashes (64-hex, or packed as ``pack`` packs them)
    differ in at most ``radius`` bits, with distance.

    With ``variants`` (for each hash, its dihedral hashes, comma-separated: rotations
    and mirrors), a pair also counts when any variant of one is that close to the
    other: a rotated or mirrored copy is a near-duplicate too. The smallest distance
    is kept. The variants are indexed ``per_index`` pictures at a time.
    """
    codes = hashes if isinstance(hashes, np.ndarray) else pack(hashes)
    if len(codes) < 2:
        return []
    if variants is None:
        hits = build_index(codes, radius).search(codes)
        return closest_pairs(hits.query, hits.ref, hits.distance)
    lists = iter(variants)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, len(codes), per_index):
        index, owners = variant_index(islice(lists, per_index), radius)
        if len(owners):
            hits = index.search(codes)
            found.append((hits.query, owners.take(hits.ref) + start, hits.distance))
        del index  # before the next one is built
    if not found:
        return []
    mine, theirs, dist = (np.concatenate(x) for x in zip(*found, strict=True))
    return closest_pairs(mine, theirs, dist)


def variant_index(
    variants: Iterable[str], radius: int
) -> tuple[MultiIndex | FlatIndex, np.ndarray]:
    """An exact index of every picture's dihedral hashes, and each row's picture.

    Every picture is a query, so a pair is tried both ways round: indexing the variants
    and querying the pictures' own hashes finds the same pairs, at the same smallest
    distance, as querying the variants against the pictures, with an eighth of the
    queries. Measured at a million pictures: 103 s instead of 486, for 0.75 GB more
    (the bigger tables). The packed variants are dropped once indexed (the index keeps
    its own copy, laid out for probing)."""
    packed, owners = pack_lists(variants)
    return build_index(packed, radius), owners


def closest_pairs(
    mine: np.ndarray, theirs: np.ndarray, dist: np.ndarray
) -> list[tuple[int, int, int]]:
    """(i, j, d) with i < j, once per pair at its smallest distance, sorted; a hash
    found near itself is no pair."""
    keep = mine != theirs
    low, high = np.minimum(mine, theirs)[keep], np.maximum(mine, theirs)[keep]
    dist = dist[keep]
    order = np.lexsort((dist, high, low))
    low, high, dist = low[order], high[order], dist[order]
    first = np.ones(len(low), dtype=bool)
    first[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1])
    return list(zip(low[first].tolist(), high[first].tolist(), dist[first].tolist(), strict=True))


def within(codes: np.ndarray, queries: np.ndarray, radius: int) -> list[tuple[int, int, int]]:
    """(query row, code row, distance) for every code within ``radius`` bits of a query."""
    if len(codes) == 0 or len(queries) == 0:
        return []
    hits = build_index(codes, radius).search(queries)
    return list(zip(hits.query.tolist(), hits.ref.tolist(), hits.distance.tolist(), strict=True))
