"""Offline reverse geocoding (GeoNames cities >= 1000 people, via ``reverse_geocoder``).

Optional: without the ``places`` extra, places are named by their coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    try:
        import reverse_geocoder
    except ImportError:
        return [Place(None, None, None) for _ in points]
    if not points:
        return []
    # mode=1: single process (we may already be inside a worker); verbose off.
    found = reverse_geocoder.search(points, mode=1, verbose=False)
    return [Place(r.get("name"), r.get("admin1"), r.get("cc")) for r in found]
