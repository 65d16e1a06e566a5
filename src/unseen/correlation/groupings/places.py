"""Same place: pictures whose GPS positions lie within ~250 m of each other, named
by the nearest town (offline GeoNames)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from sqlalchemy import Connection

from unseen.correlation.base import GROUPINGS, Cluster, Grouping, SameReason
from unseen.correlation.facts import Facts
from unseen.correlation.geocode import reverse
from unseen.correlation.unionfind import UnionFind

RADIUS_M = 250.0
EARTH_M = 6_371_000.0


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(h)))


class PlaceGrouping(Grouping):
    NAME = "places"
    VERSION = "1"
    KIND = "place"
    DESCRIPTION = f"GPS positions within {RADIUS_M:g} m, named by the nearest town"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        located = {
            f.id: (f.gps_lat, f.gps_lon)
            for f in facts.scan("gps_lat", "gps_lon")
            if f.gps_lat is not None and f.gps_lon is not None and _on_earth(f.gps_lat, f.gps_lon)
        }
        uf = _linked(located)
        groups = uf.groups(located)
        centres = [_centre([located[i] for i in g]) for g in groups]
        for group, centre, place in zip(groups, centres, reverse(centres), strict=True):
            label = place.label(*centre)
            yield Cluster(
                self.KIND,
                f"{centre[0]:.4f},{centre[1]:.4f}",
                label,
                1.0,
                SameReason(group, f"GPS {label}"),
                {
                    "lat": centre[0],
                    "lon": centre[1],
                    "town": place.town,
                    "region": place.region,
                    "country": place.country,
                },
            )


# Cells of a 3-D grid over the Earth's surface points, small enough that any two points
# in one cell lie within the radius (the cube's diagonal is just under it).
CELL_M = RADIUS_M / math.sqrt(3) * 0.999
BLOCK = 512  # positions of one cell compared with all of the other's at once
REACH = math.ceil(RADIUS_M / CELL_M)  # cells a link can span in each direction
NEAR = [
    (dx, dy, dz)
    for dx in range(-REACH, REACH + 1)
    for dy in range(-REACH, REACH + 1)
    for dz in range(-REACH, REACH + 1)
]


def _linked(located: dict[int, tuple[float, float]]) -> UnionFind:
    """Pictures joined whenever a chain of positions each within ``RADIUS_M`` links them.

    Why cells in 3-D: a grid in degrees has cells that narrow towards the poles (one in
    latitude and longitude missed pairs more than a cell apart in longitude), and
    comparing every pair in busy cells grew with the square of the pictures taken at
    home. Here all pictures of one cell are one group outright, and two neighbouring
    cells are compared only until one pair within the radius joins them, or not at
    all once something else has.
    """
    uf = UnionFind()
    cells: dict[tuple[int, int, int], list[int]] = {}
    for item_id, (lat, lon) in located.items():
        cells.setdefault(_cell(lat, lon), []).append(item_id)
    for members in cells.values():
        for other in members[1:]:
            uf.union(members[0], other)
        uf.find(members[0])
    for key, members in cells.items():
        for dx, dy, dz in NEAR:
            near = (key[0] + dx, key[1] + dy, key[2] + dz)
            if near <= key or near not in cells:
                continue  # each pair of cells once
            others = cells[near]
            if uf.find(members[0]) != uf.find(others[0]) and _any_within(located, members, others):
                uf.union(members[0], others[0])
    return uf


def _on_earth(lat: float, lon: float) -> bool:
    """A position a place can be named for: a case made before the EXIF reader refused
    impossible ones may still hold them (NaN fails both tests)."""
    return abs(lat) <= 90 and abs(lon) <= 180


def _cell(lat: float, lon: float) -> tuple[int, int, int]:
    """The grid cell of a position, from its point on a sphere of the Earth's radius."""
    phi, lam = math.radians(lat), math.radians(lon)
    x = EARTH_M * math.cos(phi) * math.cos(lam)
    y = EARTH_M * math.cos(phi) * math.sin(lam)
    z = EARTH_M * math.sin(phi)
    return (math.floor(x / CELL_M), math.floor(y / CELL_M), math.floor(z / CELL_M))


def _any_within(
    located: dict[int, tuple[float, float]], members: list[int], others: list[int]
) -> bool:
    """Whether some position of ``members`` lies within the radius of one of ``others``
    (distinct positions only: a phone at home repeats the same few), compared in
    blocks with numpy: two busy cells whose pictures stay just out of reach of each
    other (a street's two ends, or planted positions) cost one array operation per
    block, not a Python call per pair."""
    mine = np.radians(np.array(sorted({located[i] for i in members})))
    theirs = np.radians(np.array(sorted({located[i] for i in others})))
    for start in range(0, len(mine), BLOCK):
        a = mine[start : start + BLOCK, None, :]
        h = (
            np.sin((theirs[None, :, 0] - a[..., 0]) / 2) ** 2
            + np.cos(a[..., 0])
            * np.cos(theirs[None, :, 0])
            * np.sin((theirs[None, :, 1] - a[..., 1]) / 2) ** 2
        )
        if (2 * EARTH_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) <= RADIUS_M).any():
            return True
    return False


def _centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        round(sum(p[0] for p in points) / len(points), 5),
        round(sum(p[1] for p in points) / len(points), 5),
    )


GROUPINGS.register(PlaceGrouping)
