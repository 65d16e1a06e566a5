"""All pairs of PDQ hashes within a Hamming radius: exact, whatever the case size.

The search is the hash-set matcher's own exact index (``matching.index``): multi-index
hashing where its cost model predicts a gain (large cases), else FAISS's binary flat
range search. Both are exact; a flat all-pairs scan grows with the square of the
pictures (hours at a million), multi-index hashing about linearly.
"""

from __future__ import annotations

from array import array

import numpy as np

from unseen.matching.index import build_index


def pack(hex_hashes: list[str]) -> np.ndarray:
    """64-hex PDQ hashes as an (n, 32) uint8 array."""
    if not hex_hashes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hex_hashes)), dtype=np.uint8).reshape(-1, 32)


def pack_lists(lists: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Comma-separated lists of 64-hex hashes (a picture's eight dihedral hashes, as
    stored) as one (m, 32) uint8 array, and for each row the index of its list.

    Built a list at a time: splitting a million pictures' lists into strings first
    held eight million of them (about 1 GB) at once."""
    packed, owners = bytearray(), array("q")
    for i, text in enumerate(lists):
        raw = bytes.fromhex(text.replace(",", ""))
        packed += raw
        owners.extend([i] * (len(raw) // 32))
    codes = np.frombuffer(packed, dtype=np.uint8).reshape(-1, 32)
    return codes, np.frombuffer(owners, dtype=np.int64)


def pairs_within(
    hex_hashes: list[str], radius: int, variants: list[str] | None = None
) -> list[tuple[int, int, int]]:
    """Index pairs (i < j) whose hashes differ in at most ``radius`` bits, with distance.

    With ``variants`` (for each hash, its dihedral hashes, comma-separated: rotations
    and mirrors), a pair also counts when any variant of one is that close to the
    other: a rotated or mirrored copy is a near-duplicate too. The smallest distance
    is kept.
    """
    codes = pack(hex_hashes)
    if len(codes) < 2:
        return []
    queries, owners = codes, np.arange(len(codes))
    if variants is not None:
        queries, owners = pack_lists(variants)
    best: dict[tuple[int, int], int] = {}
    for q, j, d in within(codes, queries, radius):
        i = int(owners[q])
        if i != j:
            key = (min(i, j), max(i, j))
            best[key] = min(best.get(key, 256), d)
    return sorted((i, j, d) for (i, j), d in best.items())


def within(codes: np.ndarray, queries: np.ndarray, radius: int) -> list[tuple[int, int, int]]:
    """(query row, code row, distance) for every code within ``radius`` bits of a query."""
    if len(codes) == 0 or len(queries) == 0:
        return []
    hits = build_index(codes, radius).search(queries)
    return list(zip(hits.query.tolist(), hits.ref.tolist(), hits.distance.tolist(), strict=True))
