"""In-case near-duplicates come from the matcher's exact index: same pairs as all pairs."""

from __future__ import annotations

import numpy as np

from unseen.correlation.near import pack, pairs_within
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
