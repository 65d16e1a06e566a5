"""Convert a TopoJSON topology (e.g. ``world-atlas``'s ``countries-110m.json``) to GeoJSON.

The review map's offline base layer was made once with this script::

    npm pack world-atlas            # world-atlas 2.0.2, ISC; Natural Earth data, public domain
    tar xzf world-atlas-2.0.2.tgz
    python scripts/topojson_to_geojson.py \\
        package/countries-110m.json src/unseen/review/static/geo/world-110m.geojson

Only what the map needs is kept: polygons with their country name, coordinates
rounded to 0.01 degrees (about 1 km, far below the 110 m-scale generalisation).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

Point = list[float]


def decode_arcs(topology: dict[str, Any]) -> list[list[Point]]:
    """The topology's arcs as absolute longitude/latitude points (quantised or not)."""
    transform = topology.get("transform")
    arcs: list[list[Point]] = []
    for arc in topology["arcs"]:
        points: list[Point] = []
        x = y = 0.0
        for position in arc:
            if transform:
                x, y = x + position[0], y + position[1]
                sx, sy = transform["scale"]
                tx, ty = transform["translate"]
                points.append([x * sx + tx, y * sy + ty])
            else:
                points.append([float(position[0]), float(position[1])])
        arcs.append(points)
    return arcs


def _ring(indexes: list[int], arcs: list[list[Point]]) -> list[Point]:
    ring: list[Point] = []
    for index in indexes:
        # A negative index ~i means arc i walked backwards.
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        # Consecutive arcs share their joining point; keep it once.
        ring.extend(points[1:] if ring else points)
    return [[round(x, 2), round(y, 2)] for x, y in ring]


def _geometry(geometry: dict[str, Any], arcs: list[list[Point]]) -> dict[str, Any] | None:
    kind = geometry.get("type")
    if kind == "Polygon":
        rings = [_ring(r, arcs) for r in geometry["arcs"]]
        return {"type": "Polygon", "coordinates": rings}
    if kind == "MultiPolygon":
        polygons = [[_ring(r, arcs) for r in polygon] for polygon in geometry["arcs"]]
        return {"type": "MultiPolygon", "coordinates": polygons}
    return None


def convert(topology: dict[str, Any], layer: str) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the topology's object ``layer``."""
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"][layer]["geometries"]:
        shape = _geometry(geometry, arcs)
        if shape is None:
            continue
        name = (geometry.get("properties") or {}).get("name", "")
        features.append({"type": "Feature", "properties": {"name": name}, "geometry": shape})
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str]) -> int:
    """``topojson_to_geojson IN.json OUT.geojson [LAYER]``."""
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    source, target = Path(argv[0]), Path(argv[1])
    layer = argv[2] if len(argv) == 3 else "countries"
    result = convert(json.loads(source.read_text(encoding="utf-8")), layer)
    target.write_text(json.dumps(result, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(result['features'])} features -> {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
