"""All pairs of PDQ hashes within a Hamming radius: exact, whatever the case size.

FAISS's binary flat range search when it is installed (fast, exact); numpy
``bitwise_count`` over blocks otherwise (exact, fine for small cases).
"""

from __future__ import annotations

from typing import Any

import numpy as np

faiss: Any
try:
    import faiss
except ImportError:  # pragma: no cover - faiss comes with the matching dependencies
    faiss = None


def pack(hex_hashes: list[str]) -> np.ndarray:
    """64-hex PDQ hashes as an (n, 32) uint8 array."""
    if not hex_hashes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hex_hashes)), dtype=np.uint8).reshape(-1, 32)


def pairs_within(
    hex_hashes: list[str], radius: int, variants: list[list[str]] | None = None
) -> list[tuple[int, int, int]]:
    """Index pairs (i < j) whose hashes differ in at most ``radius`` bits, with distance.

    With ``variants`` (for each hash, its dihedral hashes: rotations and mirrors), a
    pair also counts when any variant of one is that close to the other: a rotated
    or mirrored copy is a near-duplicate too. The smallest distance is kept.
    """
    codes = pack(hex_hashes)
    if len(codes) < 2:
        return []
    queries, owners = codes, np.arange(len(codes))
    if variants is not None:
        flat = [(i, v) for i, vs in enumerate(variants) for v in vs]
        queries, owners = pack([v for _, v in flat]), np.array([i for i, _ in flat])
    best: dict[tuple[int, int], int] = {}
    for q, j, d in within(codes, queries, radius):
        i = int(owners[q])
        if i != j:
            key = (min(i, j), max(i, j))
            best[key] = min(best.get(key, 256), d)
    return sorted((i, j, d) for (i, j), d in best.items())


def within(codes: np.ndarray, queries: np.ndarray, radius: int) -> list[tuple[int, int, int]]:
    """(query row, code row, distance) for every code within ``radius`` bits of a query."""
    search = _faiss_search if faiss is not None else _numpy_search
    return search(codes, queries, radius)


def _faiss_search(
    codes: np.ndarray, queries: np.ndarray, radius: int
) -> list[tuple[int, int, int]]:
    index = faiss.IndexBinaryFlat(256)
    index.add(codes)
    lims, dist, ids = index.range_search(queries, radius + 1)  # strict bound: < radius + 1
    return [
        (q, int(ids[k]), int(dist[k]))
        for q in range(len(queries))
        for k in range(lims[q], lims[q + 1])
    ]


def _numpy_search(
    codes: np.ndarray, queries: np.ndarray, radius: int
) -> list[tuple[int, int, int]]:
    words, qwords = codes.view(np.uint64), queries.view(np.uint64)  # (n, 4) each
    out = []
    for start in range(0, len(qwords), 256):
        block = qwords[start : start + 256]
        dist = np.bitwise_count(block[:, None, :] ^ words[None, :, :]).sum(axis=2)
        for bq, j in zip(*np.nonzero(dist <= radius), strict=True):
            out.append((start + int(bq), int(j), int(dist[bq, j])))
    return out
