"""Same place: pictures whose GPS positions lie within ~250 m of each other, named
by the nearest town (offline GeoNames)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from sqlalchemy import Connection

from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import ItemFacts
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

    def group(self, facts: list[ItemFacts], conn: Connection) -> Iterator[Cluster]:
        located = {
            f.id: (f.gps_lat, f.gps_lon)
            for f in facts
            if f.gps_lat is not None and f.gps_lon is not None
        }
        uf = UnionFind()
        cell = RADIUS_M / 111_000  # degrees of latitude per radius; neighbours share cells
        grid: dict[tuple[int, int], list[int]] = {}
        for item_id, (lat, lon) in located.items():
            uf.find(item_id)
            key = (int(lat // cell), int(lon // cell))
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    for other in grid.get((key[0] + dx, key[1] + dy), []):
                        if distance_m(located[other], (lat, lon)) <= RADIUS_M:
                            uf.union(item_id, other)
            grid.setdefault(key, []).append(item_id)
        groups = uf.groups(located)
        centres = [_centre([located[i] for i in g]) for g in groups]
        for group, centre, place in zip(groups, centres, reverse(centres), strict=True):
            label = place.label(*centre)
            yield Cluster(
                self.KIND,
                f"{centre[0]:.4f},{centre[1]:.4f}",
                label,
                1.0,
                tuple(Member(i, f"GPS {label}") for i in group),
                {
                    "lat": centre[0],
                    "lon": centre[1],
                    "town": place.town,
                    "region": place.region,
                    "country": place.country,
                },
            )


def _centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        round(sum(p[0] for p in points) / len(points), 5),
        round(sum(p[1] for p in points) / len(points), 5),
    )


GROUPINGS.register(PlaceGrouping)
