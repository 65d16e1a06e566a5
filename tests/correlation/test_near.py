"""In-case near-duplicates come from the matcher's exact index: same pairs as all pairs."""

from __future__ import annotations

import numpy as np

from unseen.correlation.near import pack, pack_lists, pairs_within, variant_index
from unseen.matching.index import MultiIndex, build_index


def test_pairs_within_equals_an_all_pairs_scan_where_multi_index_hashing_is_used() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (12_000, 32), dtype=np.uint8)
    for k in range(1, 12_000, 40):  # planted copies 0-40 bits from an earlier picture
        codes[k] = codes[k - 1]
        flip = rng.choice(256, int(rng.integers(0, 41)), replace=False)
        for bit in flip:
            codes[k, bit // 8] ^= np.uint8(1 << (bit % 8))
    hexes = [c.tobytes().hex() for c in codes]
    assert isinstance(build_index(pack(hexes), 31), MultiIndex)  # not a flat scan here
    found = pairs_within(hexes, 31)
    words = codes.view(np.uint64)
    expected = []
    for i in range(len(codes)):
        dist = np.bitwise_count(words[i + 1 :] ^ words[i]).sum(axis=1)
        expected += [(i, i + 1 + int(j), int(dist[j])) for j in np.nonzero(dist <= 31)[0]]
    assert found == sorted(expected)
    assert 200 < len(found) < 300  # the planted pairs within 31 bits, nothing else


def test_a_variant_of_either_picture_within_the_radius_makes_the_pair() -> None:
    rng = np.random.default_rng(5)
    canon = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    dihedral = rng.integers(0, 256, (300, 8, 32), dtype=np.uint8)
    dihedral[:, 0] = canon  # the first of the eight is the picture's own hash
    for k in range(1, 300, 30):  # a rotated copy: one of its variants is near the other
        dihedral[k, 1 + k % 7] = canon[k - 1]
        dihedral[k, 1 + k % 7, k % 32] ^= np.uint8(0b101)
    hexes = [c.tobytes().hex() for c in canon]
    lists = [",".join(v.tobytes().hex() for v in d) for d in dihedral]
    assert isinstance(variant_index(lists, 31)[0], MultiIndex)  # not a flat scan here
    found = pairs_within(hexes, 31, lists)
    best: dict[tuple[int, int], int] = {}
    for i in range(300):
        for j in range(300):
            if i != j:
                d = int(np.bitwise_count(dihedral[i] ^ canon[j]).sum(axis=1).min())
                if d <= 31:
                    key = (min(i, j), max(i, j))
                    best[key] = min(best.get(key, 256), d)
    assert found == sorted((i, j, d) for (i, j), d in best.items())
    assert [(i, j) for i, j, _ in found] == [(k - 1, k) for k in range(1, 300, 30)]
    assert {d for *_, d in found} == {2}
    # A case too large for one index is searched an index of fewer pictures at a time
    # (here 37: nine indexes, each searched by all 300 pictures), with the same result.
    assert pairs_within(hexes, 31, iter(lists), per_index=37) == found


def test_a_malformed_hash_in_a_stored_list_is_left_out_and_the_rest_of_the_list_counts() -> None:
    a, b, c = "0f" * 32, "a1" * 32, "3C" * 32
    lists = [
        f"{a},{b}",  # well formed: packed at once
        f"{a},{'zz' * 32},{b}",  # not hex
        f"{a},{b[:-1]}",  # too short
        f"{a[:30]} {a[31:]},{c}",  # a space (fromhex would skip it)
        "",
        c,  # upper case is the same bytes
    ]
    codes, owners = pack_lists(lists)
    assert [bytes(row).hex() for row in codes] == [a, b, a, b, a, c.lower(), c.lower()]
    assert owners.tolist() == [0, 0, 1, 1, 2, 3, 5]
