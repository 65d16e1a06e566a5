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


def pairs_within(hex_hashes: list[str], radius: int) -> list[tuple[int, int, int]]:
    """Index pairs (i < j) whose hashes differ in at most ``radius`` bits, with distance."""
    codes = pack(hex_hashes)
    if len(codes) < 2:
        return []
    found = _faiss_pairs(codes, radius) if faiss is not None else _numpy_pairs(codes, radius)
    return sorted(found)


def _faiss_pairs(codes: np.ndarray, radius: int) -> list[tuple[int, int, int]]:
    index = faiss.IndexBinaryFlat(256)
    index.add(codes)
    lims, dist, ids = index.range_search(codes, radius + 1)  # strict bound: < radius + 1
    out = []
    for i in range(len(codes)):
        for d, j in zip(dist[lims[i] : lims[i + 1]], ids[lims[i] : lims[i + 1]], strict=True):
            if i < j:
                out.append((i, int(j), int(d)))
    return out


def _numpy_pairs(codes: np.ndarray, radius: int) -> list[tuple[int, int, int]]:
    words = codes.view(np.uint64)  # (n, 4)
    out = []
    for start in range(0, len(words), 256):
        block = words[start : start + 256]
        dist = np.bitwise_count(block[:, None, :] ^ words[None, :, :]).sum(axis=2)
        for bi, j in zip(*np.nonzero(dist <= radius), strict=True):
            i = start + int(bi)
            if i < j:
                out.append((i, int(j), int(dist[bi, j])))
    return out
