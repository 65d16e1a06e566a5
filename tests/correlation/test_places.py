"""Same-place groups equal the connected groups of every pair within the radius.

Checked against a comparison of every pair, on positions where the old grid in
degrees went wrong (far north, where a degree of longitude is short) or slow (many
pictures at one spot), and where the degrees wrap (the antimeridian, the pole).
"""

from __future__ import annotations

import math
import random

from unseen.correlation.groupings.places import RADIUS_M, _linked, distance_m
from unseen.correlation.unionfind import UnionFind


def every_pair(located: dict[int, tuple[float, float]]) -> list[list[int]]:
    uf = UnionFind()
    ids = sorted(located)
    for n, a in enumerate(ids):
        uf.find(a)
        for b in ids[n + 1 :]:
            if distance_m(located[a], located[b]) <= RADIUS_M:
                uf.union(a, b)
    return uf.groups(ids)


def scatter(
    rng: random.Random, centre: tuple[float, float], metres: float, n: int
) -> list[tuple[float, float]]:
    """``n`` positions within about ``metres`` of ``centre``."""
    lat, lon = centre
    per_lon = 111_195 * max(0.01, abs(math.cos(math.radians(lat))))
    return [
        (
            max(-90.0, min(90.0, lat + rng.uniform(-metres, metres) / 111_195)),
            (lon + rng.uniform(-metres, metres) / per_lon + 180) % 360 - 180,
        )
        for _ in range(n)
    ]


def test_groups_equal_a_comparison_of_every_pair() -> None:
    rng = random.Random(5)
    points: list[tuple[float, float]] = []
    for centre, metres, n in [
        ((51.5, -0.12), 1500, 300),  # a town
        ((69.65, 18.96), 1500, 300),  # far north: short degrees of longitude
        ((0.0, 179.999), 800, 120),  # across the antimeridian
        ((89.999, 0.0), 400, 80),  # at the pole
        ((-33.9, 151.2), 3000, 200),  # sparse: many single pictures
    ]:
        points += scatter(rng, centre, metres, n)
    points += [(48.8566, 2.3522)] * 50  # one spot, over and over
    located = dict(enumerate(points, 1))
    assert _linked(located).groups(located) == every_pair(located)


def test_a_pair_just_inside_and_just_outside_the_radius() -> None:
    east = 250 / (111_195 * 0.5)  # at 60 degrees north a degree of longitude is halved
    inside = {1: (60.0, 10.0), 2: (60.0, 10.0 + east * 0.99)}
    outside = {1: (60.0, 10.0), 2: (60.0, 10.0 + east * 1.01)}
    assert _linked(inside).groups(inside) == [[1, 2]]
    assert _linked(outside).groups(outside) == [[1], [2]]
