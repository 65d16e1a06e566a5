"""PDQ range search: the multi-index and FAISS flat scan against brute force, the
layout planner's exactness guarantee, and the on-disk index cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from unseen.matching.index import (
    HASH_BITS,
    MAX_PART_BITS,
    FlatIndex,
    Hits,
    MultiIndex,
    Part,
    brute_force,
    build_index,
    codes_from_hex,
    part_keys,
    plan,
)
from unseen.matching.index_cache import IndexCache, SetKey


def planted(n_refs: int, n_queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random references in families of near copies, and queries: half of them copies
    of references with 0-40 bits flipped (so many lie on both sides of 31), half random."""
    rng = np.random.default_rng(seed)
    centres = rng.integers(0, 256, (n_refs // 4, 32), dtype=np.uint8)
    variants = centres[rng.integers(0, len(centres), n_refs - len(centres))]
    refs = np.concatenate([centres, flip(rng, variants, 12)])
    queries = rng.integers(0, 256, (n_queries, 32), dtype=np.uint8)
    half = n_queries // 2
    queries[:half] = flip(rng, refs[rng.integers(0, n_refs, half)], 40)
    return refs, queries


def flip(rng: np.random.Generator, codes: np.ndarray, most: int) -> np.ndarray:
    """Each hash with a random number (0..most) of distinct random bits flipped."""
    out = np.unpackbits(codes, axis=1)
    for row, k in zip(out, rng.integers(0, most + 1, len(codes)), strict=True):
        row[rng.choice(HASH_BITS, k, replace=False)] ^= 1
    return np.packbits(out, axis=1)


def python_hits(refs: np.ndarray, queries: np.ndarray, radius: int) -> set[tuple[int, int, int]]:
    """The slowest, plainest reference: Python integers and bin().count()."""
    r = [int.from_bytes(x.tobytes(), "big") for x in refs]
    q = [int.from_bytes(x.tobytes(), "big") for x in queries]
    return {
        (qi, ri, d)
        for qi, a in enumerate(q)
        for ri, b in enumerate(r)
        if (d := bin(a ^ b).count("1")) <= radius
    }


def as_set(hits: Hits) -> set[tuple[int, int, int]]:
    return set(zip(hits.query.tolist(), hits.ref.tolist(), hits.distance.tolist(), strict=True))


def same(a: Hits, b: Hits) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("query", "ref", "distance"))


def test_brute_force_is_plain_hamming() -> None:
    refs, queries = planted(300, 120, seed=1)
    expected = python_hits(refs, queries, 31)
    found = brute_force(refs, queries, 31)
    assert as_set(found) == expected
    assert len(found) == len(expected) > 60  # the planted half mostly within 31
    order = np.lexsort((found.ref, found.query))
    assert np.array_equal(order, np.arange(len(found)))  # sorted by query, then ref


@pytest.mark.parametrize("radius", [0, 8, 20, 31, 52])
@pytest.mark.parametrize("n_plan", [20_000, 1_000_000])
def test_multi_index_equals_brute_force(radius: int, n_plan: int) -> None:
    refs, queries = planted(10_000, 600, seed=radius + n_plan)
    parts = plan(n_plan, radius)  # the layout chosen for a set of n_plan hashes
    if not parts:
        pytest.skip("the planner prefers a flat scan here")
    expected = brute_force(refs, queries, radius)
    assert same(MultiIndex(refs, radius, parts).search(queries, threads=2, chunk=97), expected)
    assert same(FlatIndex(refs, radius).search(queries, chunk=300), expected)


def test_unaligned_wide_parts_are_exact() -> None:
    # 21-bit parts starting mid-byte: some keys straddle four bytes; bits 0-2 and 255
    # are left uncovered, which the pigeonhole argument allows.
    parts = tuple(Part(3 + 21 * i, 21, 2) for i in range(12))
    refs, queries = planted(5_000, 400, seed=7)
    expected = brute_force(refs, queries, 31)
    assert len(expected) > 100
    assert same(MultiIndex(refs, 31, parts).search(queries), expected)


def test_part_keys_read_bits_most_significant_first() -> None:
    code = np.zeros((1, 32), np.uint8)
    code[0, 0], code[0, 1], code[0, 2], code[0, 3] = 0b1010_0000, 0xFF, 0x01, 0x80
    assert part_keys(code, Part(0, 4, 0)).tolist() == [0b1010]
    assert part_keys(code, Part(4, 8, 0)).tolist() == [0b0000_1111]
    assert part_keys(code, Part(12, 20, 0)).tolist() == [0xF_01_80]
    assert part_keys(code, Part(23, 2, 0)).tolist() == [0b11]


@pytest.mark.parametrize("n", [1_000, 50_000, 1_000_000, 10_000_000, 30_000_000])
@pytest.mark.parametrize("radius", [0, 10, 31, 52, 64])
def test_plans_are_exact_partitions(n: int, radius: int) -> None:
    parts = plan(n, radius)
    if not parts:
        return  # a flat scan, exact by construction
    assert sum(p.radius + 1 for p in parts) > radius  # the pigeonhole guarantee
    assert [p.start for p in parts] == list(np.cumsum([0] + [p.bits for p in parts[:-1]]))
    assert sum(p.bits for p in parts) == HASH_BITS
    assert max(p.bits for p in parts) <= MAX_PART_BITS


def test_plan_prefers_flat_for_tiny_sets_and_wide_radii() -> None:
    assert plan(100, 31) == ()
    assert plan(1_000_000, 120) == ()
    assert len(plan(10_000_000, 31)) == 11  # 24- and 23-bit parts at 10 M hashes
    assert isinstance(build_index(np.zeros((10, 32), np.uint8), 31), FlatIndex)


def test_an_index_refuses_parts_that_cannot_be_exact() -> None:
    with pytest.raises(ValueError, match="exact"):
        MultiIndex(np.zeros((4, 32), np.uint8), 31, (Part(0, 16, 1),) * 4)


def test_codes_from_hex() -> None:
    text = "ff" + "00" * 30 + "a5"
    codes = codes_from_hex([text, "0" * 64])
    assert codes.shape == (2, 32)
    assert codes[0, 0] == 255 and codes[0, 31] == 0xA5 and not codes[1].any()
    assert codes_from_hex([]).shape == (0, 32)
    with pytest.raises(ValueError):
        codes_from_hex(["ab" * 31])
    with pytest.raises(ValueError):
        codes_from_hex(["zz" * 32])


def rows(n: int, seed: int = 3) -> list[tuple[int, str, str | None]]:
    codes = np.random.default_rng(seed).integers(0, 256, (n, 32), dtype=np.uint8)
    cats = ["A", "B", None]
    return [(10 + i, c.tobytes().hex(), cats[i % 3]) for i, c in enumerate(codes)]


def test_cache_builds_then_loads_then_rebuilds_tampered(tmp_path: Path) -> None:
    cache, key = IndexCache(tmp_path / "indexes"), SetKey(3, "CAID", 2, "ab" * 32)
    calls = []

    def source() -> list[tuple[int, str, str | None]]:
        calls.append(1)
        return rows(500)

    first = cache.load(key, source)
    assert first.origin == "built" and len(calls) == 1
    assert first.entry_ids.tolist() == list(range(10, 510))
    assert first.categories == ("A", "B")
    assert first.category_index[:4].tolist() == [0, 1, -1, 0]
    assert [p.name for p in sorted((tmp_path / "indexes").iterdir())] == [
        f"{key.stem}.cats.npy", f"{key.stem}.faissbin", f"{key.stem}.ids.npy", f"{key.stem}.json",
    ]  # fmt: skip
    manifest = json.loads((tmp_path / "indexes" / f"{key.stem}.json").read_text())
    assert manifest["name"] == "CAID" and manifest["version"] == 2 and manifest["hashes"] == 500

    second = cache.load(key, source)
    assert second.origin == "cache" and len(calls) == 1  # the library was not read again
    assert np.array_equal(second.codes, first.codes)
    assert np.array_equal(second.entry_ids, first.entry_ids)
    assert np.array_equal(second.category_index, first.category_index)

    index_file = tmp_path / "indexes" / f"{key.stem}.faissbin"
    data = bytearray(index_file.read_bytes())
    data[-1] ^= 0x01  # one bit of one stored hash
    index_file.write_bytes(bytes(data))
    third = cache.load(key, source)
    assert third.origin == f"rebuilt ({key.stem}.faissbin does not match its digest)"
    assert len(calls) == 2 and np.array_equal(third.codes, first.codes)
    assert cache.load(key, source).origin == "cache"


def test_cache_rejects_a_manifest_for_another_version(tmp_path: Path) -> None:
    cache, key = IndexCache(tmp_path), SetKey(1, "S", 1, "cd" * 32)
    cache.load(key, lambda: rows(20))
    manifest_path = tmp_path / f"{key.stem}.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "version": 9}))
    assert cache.load(key, lambda: rows(20)).origin == (
        "rebuilt (the manifest names another set version)"
    )
    manifest_path.write_text("{not json")
    assert cache.load(key, lambda: rows(20)).origin.startswith("rebuilt (unreadable: ")


def test_an_empty_set_caches_cleanly(tmp_path: Path) -> None:
    cache, key = IndexCache(tmp_path), SetKey(5, "EMPTY", 1, "ef" * 32)
    assert len(cache.load(key, lambda: []).codes) == 0
    found = cache.load(key, lambda: [])
    assert found.origin == "cache" and found.codes.shape == (0, 32)
