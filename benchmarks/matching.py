"""PDQ matching benchmark: our exact multi-index against FAISS ``IndexBinaryFlat``.

Builds N reference hashes clustered like real hash sets (families: a centre and
variants a few bits away, as agencies hold many encodings of one picture, plus a
uniform background) and M case hashes, a share of them planted copies of references
with a known number of bits flipped (0-40, so on both sides of the radius). Then, in
the same process and with the same threads, it times

* ours: ``unseen.matching.index.build_index`` (multi-index hashing, exact) over all
  M queries, and
* the floor: FAISS ``IndexBinaryFlat.range_search`` (exact, linear) over a sample of
  the queries (``--sample``), extrapolated to M (stated in the output),

checks that both return identical (query, reference, distance) triples on the
sample and that every planted copy within the radius is found, and prints time,
queries/s, peak memory and the speed ratio (goal: >= 5 at 10 M references). Always
exits 0: a benchmark, not a test.

Usage: ``.venv/bin/python benchmarks/matching.py [--refs 10000000] [--queries 1000000]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from unseen.matching.index import Hits, MultiIndex, build_index, plan

GOAL = 5.0
CHUNK = 1 << 18  # hashes generated at once (a 64 MiB bit mask)


def rss_mib() -> tuple[float, float]:
    """Current and peak resident memory of this process (MiB), from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def reset_peak() -> None:
    """Start a new peak-memory measurement (Linux: writing 5 to clear_refs)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def flip(
    rng: np.random.Generator, codes: np.ndarray, expected: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Copies of ``codes`` with each bit flipped with probability ``expected[i] / 256``,
    and the number of bits actually flipped in each (the exact distance to the source)."""
    out = np.empty_like(codes)
    flipped = np.empty(len(codes), np.int64)
    for start in range(0, len(codes), CHUNK):
        part = slice(start, start + CHUNK)
        noise = rng.integers(0, 256, (len(codes[part]), 256), dtype=np.uint8)
        mask = np.packbits(noise < expected[part, None].astype(np.uint8), axis=1)
        out[part] = codes[part] ^ mask
        flipped[part] = np.bitwise_count(mask).sum(axis=1)
    return out, flipped


@dataclass
class Data:
    refs: np.ndarray
    queries: np.ndarray
    source: np.ndarray  # the reference each planted query copies, -1 for random ones
    flipped: np.ndarray  # bits flipped in each planted query


def make_data(n_refs: int, n_queries: int, planted: float, seed: int) -> Data:
    """Clustered references (60 % in families of ~5 within 1-20 bits, 40 % uniform)."""
    rng = np.random.default_rng(seed)
    n_family = int(n_refs * 0.6)
    centres = rng.integers(0, 256, (max(1, n_family // 5), 32), dtype=np.uint8)
    members = centres[rng.integers(0, len(centres), n_family - len(centres))]
    variants, _ = flip(rng, members, rng.integers(1, 21, len(members)))
    background = rng.integers(0, 256, (n_refs - n_family, 32), dtype=np.uint8)
    refs = np.concatenate([centres, variants, background])[rng.permutation(n_refs)]
    n_planted = int(n_queries * planted)
    source = np.full(n_queries, -1, np.int64)
    source[:n_planted] = rng.integers(0, n_refs, n_planted)
    flipped = np.zeros(n_queries, np.int64)
    queries = rng.integers(0, 256, (n_queries, 32), dtype=np.uint8)
    copies = refs[source[:n_planted]]
    queries[:n_planted], flipped[:n_planted] = flip(rng, copies, rng.integers(0, 41, n_planted))
    order = rng.permutation(n_queries)
    return Data(refs, queries[order], source[order], flipped[order])


def triples(hits: Hits) -> set[tuple[int, int, int]]:
    return set(zip(hits.query.tolist(), hits.ref.tolist(), hits.distance.tolist(), strict=True))


def flat_search(index: faiss.IndexBinaryFlat, queries: np.ndarray, radius: int) -> Hits:
    lims, dist, ids = index.range_search(np.ascontiguousarray(queries), radius + 1)
    q = np.repeat(np.arange(len(queries), dtype=np.int64), np.diff(lims).astype(np.int64))
    return Hits(q, ids.astype(np.int64), dist.astype(np.int32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refs", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--radius", type=int, default=31)
    parser.add_argument("--planted", type=float, default=0.5, help="share of planted queries")
    parser.add_argument("--sample", type=int, default=2000, help="queries timed on the flat scan")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--seed", type=int, default=20260717)
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)

    t = time.perf_counter()
    data = make_data(args.refs, args.queries, args.planted, args.seed)
    print(f"data: {args.refs:,} references (clustered), {args.queries:,} queries "
          f"({args.planted:.0%} planted at 0-40 bits), {time.perf_counter() - t:.1f} s to make;"
          f" radius {args.radius}, {args.threads} threads")  # fmt: skip

    base, _ = rss_mib()
    reset_peak()
    t = time.perf_counter()
    ours = build_index(data.refs, args.radius)
    build = time.perf_counter() - t
    kind = f"multi-index, {len(plan(args.refs, args.radius))} parts"
    if not isinstance(ours, MultiIndex):
        kind = "flat (the planner found no cheaper layout)"
    t, cpu = time.perf_counter(), time.process_time()
    found = ours.search(data.queries, threads=args.threads)
    ours_s, ours_cpu = time.perf_counter() - t, time.process_time() - cpu
    ours_mem = rss_mib()[1] - base
    print(
        f"ours ({kind}): build {build:.1f} s, search {ours_s:.1f} s ({ours_cpu:.1f} s CPU) "
        f"for all {args.queries:,} queries = {args.queries / ours_s:,.0f} q/s, "
        f"{len(found):,} pairs; peak memory above the data {ours_mem:,.0f} MiB"
    )
    del ours

    base, _ = rss_mib()
    reset_peak()
    rng = np.random.default_rng(args.seed + 1)
    sample = np.sort(rng.choice(args.queries, min(args.sample, args.queries), replace=False))
    t = time.perf_counter()
    flat = faiss.IndexBinaryFlat(256)
    flat.add(data.refs)
    flat_build = time.perf_counter() - t
    t, cpu = time.perf_counter(), time.process_time()
    reference = flat_search(flat, data.queries[sample], args.radius)
    scale = args.queries / len(sample)
    flat_s, flat_cpu = (time.perf_counter() - t) * scale, (time.process_time() - cpu) * scale
    flat_mem = rss_mib()[1] - base
    print(
        f"FAISS IndexBinaryFlat: build {flat_build:.1f} s, range_search timed on "
        f"{len(sample):,} sampled queries and extrapolated: {flat_s:.1f} s ({flat_cpu:.1f} s "
        f"CPU) for all = {args.queries / flat_s:,.0f} q/s; peak memory above the data "
        f"{flat_mem:,.0f} MiB"
    )

    in_sample = np.isin(found.query, sample)
    ours_sample = Hits(np.searchsorted(sample, found.query[in_sample]),
                       found.ref[in_sample], found.distance[in_sample])  # fmt: skip
    identical = triples(ours_sample) == triples(reference)
    pairs = set(zip(found.query.tolist(), found.ref.tolist(), strict=True))
    planted = np.flatnonzero((data.source >= 0) & (data.flipped <= args.radius))
    recalled = sum((int(q), int(data.source[q])) in pairs for q in planted)
    print(
        f"recall: identical to the flat scan on the sample: {identical} "
        f"({len(reference):,} pairs); planted copies within the radius found: "
        f"{recalled:,} of {len(planted):,}"
    )
    wall, work = flat_s / ours_s, flat_cpu / ours_cpu
    print(
        f"speed ratio (flat scan / ours): {wall:.1f}x wall time, {work:.1f}x CPU time (the "
        f"steadier figure on a shared machine); goal >= {GOAL:.0f}x at 10 M references: "
        f"{'met' if min(wall, work) >= GOAL else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
