"""Exact PDQ range search: every reference hash within a Hamming radius of each query.

Two exact methods answer the same question:

- ``brute_force`` compares every pair with numpy popcounts. It is the reference the
  others are tested against, and too slow for more than small sets.
- ``MultiIndex`` is multi-index hashing (Norouzi, Punjani and Fleet, 2012) on the
  generalised pigeonhole principle: split the 256 bits into ``m`` parts and give part
  ``i`` a radius ``t_i`` with ``sum(t_i + 1) > d``. Two hashes within ``d`` then agree
  within ``t_i`` on at least one part ``i`` (otherwise the parts alone would differ by
  more than ``d``), so probing every part's table at every key within ``t_i`` of the
  query's part finds all of them. Every candidate is then verified on the full hash,
  so nothing outside the radius is returned. A cost model picks the parts for the set
  size; where it predicts no gain, a FAISS ``IndexBinaryFlat`` range search is used.

Hashes are ``(n, 32)`` uint8 arrays, the 64-hex-character text read as bytes.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

HASH_BYTES = 32
HASH_BITS = 256
MAX_PART_BITS = 24  # a table of 2**24 offsets is 64 MiB
U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]

# Costs relative to one table probe (about 28 ns of CPU with numpy 2.4 on AVX-512,
# measured at 1 M hashes): checking one candidate costs about as much (a random read
# of 16 bytes, then 16 more for the few that pass), and comparing one hash in the
# FAISS flat scan about 3.3 ns (sequential AVX-512 popcount).
PROBE_COST, CANDIDATE_COST, FLAT_COST = 1.0, 1.0, 0.12


@dataclass(frozen=True, slots=True)
class Hits:
    """Pairs within the radius, sorted by query then reference row."""

    query: I64
    ref: I64
    distance: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return int(self.query.size)


def empty_hits() -> Hits:
    return Hits(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))


def codes_from_hex(hexes: Sequence[str]) -> U8:
    """Hashes in 64-hex-character text as an ``(n, 32)`` array; ValueError if malformed."""
    if any(len(h) != 2 * HASH_BYTES for h in hexes):
        raise ValueError("a PDQ hash is 64 hexadecimal characters")
    raw = bytes.fromhex("".join(hexes))
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(hexes), HASH_BYTES).copy()


def _words(codes: U8) -> npt.NDArray[np.uint64]:
    return np.ascontiguousarray(codes).view(np.uint64)


def _sorted_hits(query: I64, ref: I64, distance: npt.NDArray[np.int32], n_refs: int) -> Hits:
    """Drop repeated pairs (found through several parts) and sort by query, reference."""
    if not query.size:
        return empty_hits()
    _, first = np.unique(query * max(n_refs, 1) + ref, return_index=True)
    return Hits(query[first], ref[first], distance[first])


def brute_force(refs: U8, queries: U8, max_distance: int, block: int = 1 << 20) -> Hits:
    """Every pair within ``max_distance``, by comparing all of them (the reference)."""
    ref64, q64 = _words(refs), _words(queries)
    rows = max(1, block // max(1, len(ref64)))
    found: list[tuple[I64, I64, npt.NDArray[np.int32]]] = []
    for start in range(0, len(q64), rows):
        chunk = q64[start : start + rows]
        dist = np.bitwise_count(chunk[:, None, :] ^ ref64[None, :, :]).sum(axis=2)
        qi, ri = np.nonzero(dist <= max_distance)
        found.append((qi + start, ri, dist[qi, ri].astype(np.int32)))
    if not found:
        return empty_hits()
    q, r, d = (np.concatenate(parts) for parts in zip(*found, strict=True))
    return _sorted_hits(q.astype(np.int64), r.astype(np.int64), d, len(refs))


@dataclass(frozen=True, slots=True)
class Part:
    """Bits ``start .. start + bits - 1`` of the hash, probed within ``radius``."""

    start: int
    bits: int
    radius: int


@cache
def flip_masks(bits: int, radius: int) -> npt.NDArray[np.uint32]:
    """Every ``bits``-bit value with at most ``radius`` bits set (the probe offsets)."""
    masks = [0]
    for k in range(1, radius + 1):
        masks += [sum(1 << b for b in c) for c in itertools.combinations(range(bits), k)]
    return np.array(masks, dtype=np.uint32)


def _ball(bits: int, radius: int) -> int:
    return sum(math.comb(bits, k) for k in range(radius + 1))


def _part_cost(bits: int, radius: int, n_refs: int) -> float:
    return _ball(bits, radius) * (PROBE_COST + CANDIDATE_COST * n_refs / (1 << bits))


def _radii(sizes: list[int], need: int, n_refs: int) -> list[int]:
    """Radii summing to ``need`` at the least cost (greedy; each part's cost is convex)."""
    radii = [0] * len(sizes)
    for _ in range(max(0, need)):
        step = [
            _part_cost(b, t + 1, n_refs) - _part_cost(b, t, n_refs)
            for b, t in zip(sizes, radii, strict=True)
        ]
        radii[step.index(min(step))] += 1
    return radii


def plan(n_refs: int, max_distance: int, table_budget: int | None = None) -> tuple[Part, ...]:
    """The cheapest exact part layout for ``n_refs`` hashes, or () when a flat scan wins.

    ``table_budget`` caps the offset-table entries (default: 16 per reference, at
    least 4 Mi), so small sets do not get tables far larger than themselves.
    """
    budget = table_budget or max(1 << 22, 16 * n_refs)
    best: tuple[float, tuple[Part, ...]] = (FLAT_COST * n_refs, ())
    for m in range(math.ceil(HASH_BITS / MAX_PART_BITS), HASH_BITS // 4 + 1):
        sizes = [HASH_BITS // m + (1 if i < HASH_BITS % m else 0) for i in range(m)]
        if sum(2**b for b in sizes) > budget:
            continue
        # Generalised pigeonhole: sum(t_i + 1) > d, i.e. sum(t_i) >= d - m + 1.
        radii = _radii(sizes, max_distance - m + 1, n_refs)
        cost = sum(_part_cost(b, t, n_refs) for b, t in zip(sizes, radii, strict=True))
        if cost < best[0]:
            starts = itertools.accumulate([0, *sizes[:-1]])
            parts = tuple(Part(s, b, t) for s, b, t in zip(starts, sizes, radii, strict=True))
            best = (cost, parts)
    return best[1]


def part_keys(codes: U8, part: Part) -> npt.NDArray[np.uint32]:
    """The value of one part of each hash (the first hash bit is the most significant)."""
    first, last = part.start // 8, (part.start + part.bits - 1) // 8
    acc = np.zeros(len(codes), np.uint64)
    for byte in range(first, last + 1):
        acc = (acc << np.uint64(8)) | codes[:, byte]
    spare = (last + 1) * 8 - part.start - part.bits
    return ((acc >> np.uint64(spare)) & np.uint64((1 << part.bits) - 1)).astype(np.uint32)


class MultiIndex:
    """Multi-index hashing over a fixed set of reference hashes; exact within the radius."""

    def __init__(self, refs: U8, max_distance: int, parts: tuple[Part, ...]) -> None:
        if sum(p.radius + 1 for p in parts) <= max_distance:
            raise ValueError("these parts cannot guarantee exact results at this radius")
        self.max_distance = max_distance
        self.parts = parts
        self._n_refs = len(refs)
        # Tables before columns: their sorting temporaries are gone by the time the
        # column copies are made (170 MB less at the peak for eight million hashes).
        self._tables = [self._table(refs, p) for p in parts]
        words = _words(refs)
        self._cols = [np.ascontiguousarray(words[:, i]) for i in range(4)]  # by 64-bit word

    @staticmethod
    def _table(refs: U8, part: Part) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
        """(offsets by key, reference rows ordered by key): a bucketed inverted list."""
        keys = part_keys(refs, part)
        packed = np.sort(
            (keys.astype(np.uint64) << np.uint64(32)) | np.arange(len(refs), dtype=np.uint64)
        )
        rows = (packed & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        offsets = np.zeros(2**part.bits + 1, np.uint32)
        np.cumsum(np.bincount(keys, minlength=2**part.bits), out=offsets[1:])
        return offsets, rows

    def search(self, queries: U8, threads: int | None = None, chunk: int = 1024) -> Hits:
        """Every (query, reference) pair within the radius, with its distance."""
        starts = range(0, len(queries), chunk)
        with ThreadPoolExecutor(threads or len(os.sched_getaffinity(0))) as pool:
            found = list(pool.map(lambda s: self._search(queries[s : s + chunk], s), starts))
        if not found:
            return empty_hits()
        # Each chunk's hits come unique and sorted, the chunks in query order: so are
        # they all.
        q, r, d = (np.concatenate(x) for x in zip(*found, strict=True))
        return Hits(q, r, d)

    def _search(self, queries: U8, offset: int) -> tuple[I64, I64, npt.NDArray[np.int32]]:
        words = _words(queries)
        qcols = [np.ascontiguousarray(words[:, i]) for i in range(4)]
        found = [
            self._probe(queries, qcols, p, t)
            for p, t in zip(self.parts, self._tables, strict=True)
        ]
        q, r, d = (np.concatenate(x) for x in zip(*found, strict=True))
        # A pair found through several parts is kept once here, chunk by chunk: a set
        # searched against itself finds every hash through all its parts, and holding
        # those repeats for the whole search took 0.8 GB for a million queries.
        once = _sorted_hits(q, r, d, self._n_refs)
        return once.query + offset, once.ref, once.distance

    def _probe(
        self,
        queries: U8,
        qcols: list[npt.NDArray[np.uint64]],
        part: Part,
        table: tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]],
    ) -> tuple[I64, I64, npt.NDArray[np.int32]]:
        offsets, rows = table
        masks = flip_masks(part.bits, part.radius)
        probes = (part_keys(queries, part)[:, None] ^ masks[None, :]).ravel()
        lo = offsets.take(probes)
        counts = offsets.take(probes + 1) - lo
        hit = np.flatnonzero(counts)
        counts64 = counts.take(hit).astype(np.int64)
        ends = np.cumsum(counts64)
        # Expand each non-empty bucket [lo, lo + count) into candidate rows; they come
        # grouped by query, in query order (the probes are laid out query by query).
        shift = np.repeat(lo.take(hit).astype(np.int64) - (ends - counts64), counts64)
        cand = rows.take(shift + np.arange(int(ends[-1]) if ends.size else 0))
        per_query = np.bincount(hit // len(masks), counts64, len(queries)).astype(np.int64)
        # Stage 1 on 128 bits: a lower bound of the distance, it drops almost every
        # non-match while reading half of each candidate.
        dist = np.bitwise_count(np.repeat(qcols[0], per_query) ^ self._cols[0].take(cand))
        dist += np.bitwise_count(np.repeat(qcols[1], per_query) ^ self._cols[1].take(cand))
        keep = np.flatnonzero(dist <= self.max_distance)
        cand, qi = cand.take(keep), np.searchsorted(np.cumsum(per_query), keep, side="right")
        full = dist.take(keep).astype(np.int32)
        for word in (2, 3):
            full += np.bitwise_count(qcols[word].take(qi) ^ self._cols[word].take(cand))
        ok = full <= self.max_distance
        return qi[ok], cand[ok].astype(np.int64), full[ok]


class FlatIndex:
    """FAISS ``IndexBinaryFlat`` range search: exact, linear in the set size."""

    def __init__(self, refs: U8, max_distance: int) -> None:
        self.max_distance = max_distance
        self.index: Any = faiss.IndexBinaryFlat(HASH_BITS)
        self.index.add(np.ascontiguousarray(refs))

    def search(self, queries: U8, threads: int | None = None, chunk: int = 1 << 16) -> Hits:
        found: list[tuple[I64, I64, npt.NDArray[np.int32]]] = []
        for start in range(0, len(queries), chunk):
            # FAISS returns distances strictly below the radius it is given.
            part = np.ascontiguousarray(queries[start : start + chunk])
            lims, dist, ids = self.index.range_search(part, self.max_distance + 1)
            qi = np.repeat(np.arange(len(part), dtype=np.int64), np.diff(lims).astype(np.int64))
            found.append((qi + start, ids.astype(np.int64), dist.astype(np.int32)))
        if not found:
            return empty_hits()
        q, r, d = (np.concatenate(x) for x in zip(*found, strict=True))
        return _sorted_hits(q, r, d, self.index.ntotal)


def build_index(refs: U8, max_distance: int) -> MultiIndex | FlatIndex:
    """The fastest exact index for these references at this radius."""
    parts = plan(len(refs), max_distance)
    return MultiIndex(refs, max_distance, parts) if parts else FlatIndex(refs, max_distance)
