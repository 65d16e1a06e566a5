"""Same-place groups equal the connected groups of every pair within the radius.

Checked against a comparison of every pair, on positions where the old grid in
degrees went wrong (far north, where a degree of longitude is short) or slow (many
pictures at one spot), and where the degrees wrap (the antimeridian, the pole).
"""

from __future__ import annotations

import math
import random

import pytest

from unseen.analysis.exif import degrees
from unseen.correlation.facts import HeldFacts, ItemFacts
from unseen.correlation.groupings.places import RADIUS_M, PlaceGrouping, _linked, distance_m
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


def test_impossible_positions_are_left_out_not_a_crash() -> None:
    # Stored by a reader that did not check yet: NaN, infinite, beyond the poles.
    facts = [
        ItemFacts(n, 1, f"p{n}.jpg", None, "image/jpeg", gps_lat=lat, gps_lon=lon)
        for n, (lat, lon) in enumerate(
            [(51.5, -0.12), (51.5001, -0.12), (math.nan, 0.0), (math.inf, 1.0), (123.0, 5.0)],
            1,
        )
    ]
    found = list(PlaceGrouping().group(HeldFacts(facts), None))  # type: ignore[arg-type]
    assert [[m.item_id for m in c.members] for c in found] == [[1, 2]]


def test_an_exif_position_beyond_the_earth_is_malformed() -> None:
    assert degrees((51, 30, 0), "N", "S", 90.0) == 51.5
    with pytest.raises(ValueError, match="123 degrees is beyond 90"):
        degrees((123, 0, 0), "N", "S", 90.0)
    with pytest.raises(ValueError, match="inf degrees is beyond 180"):
        degrees((1.79e308, 1.79e308, 0), "E", "W")  # the sum overflows


def test_two_busy_cells_just_out_of_reach_of_each_other() -> None:
    # Two lines of 1,500 positions each, 260 m apart east-west: never within 250 m, so
    # every pair of their cells is compared in full.
    west = {n: (10.0, 20.0 + n * 1e-9) for n in range(1, 1501)}
    per_degree = 111_195 * math.cos(math.radians(10.0))
    east = {n + 1500: (10.0, 20.0 + 260 / per_degree + n * 1e-9) for n in range(1, 1501)}
    located = west | east
    assert _linked(located).groups(located) == [sorted(west), sorted(east)]
