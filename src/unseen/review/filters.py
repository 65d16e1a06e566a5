"""Grid filters for the facts the correlation and the stages record about an item:
the place it was taken (country or nearest town), whether it shows a person the case
recognises in several pictures, whether it belongs to a capture session, the stage
whose errors it carries (artefact parse errors included), and an area of the map.
Written only through the hooks, like a third-party plugin's filters: each combines
with every other filter, and bulk categorising and export apply to what it shows.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, func, or_

from unseen.core.hooks import FactFilter, hookimpl
from unseen.store import schema as s


def _in_cluster(kind: str, label: str | None = None) -> ColumnElement[bool]:
    """The item is a member of a cluster of ``kind`` (whose label contains ``label``)."""
    c, m = s.clusters, s.cluster_members
    conds = [m.c.item_id == s.items.c.id, c.c.id == m.c.cluster_id, c.c.kind == kind]
    if label is not None:
        conds.append(func.lower(c.c.label).contains(label.lower(), autoescape=True))
    return exists().where(and_(*conds))


def _place(value: str) -> ColumnElement[bool]:
    return _in_cluster("place", value)


def _identity(_value: str) -> ColumnElement[bool]:
    return _in_cluster("identity")


def _session(_value: str) -> ColumnElement[bool]:
    return _in_cluster("session")


def _area(value: str) -> ColumnElement[bool]:
    """Pictures and videos whose GPS lies in ``south,west,north,east`` (degrees; the
    map's "show in the grid" sends its view). A malformed box matches nothing."""
    try:
        south, west, north, east = (float(x) for x in value.split(","))
    except ValueError:
        return false()
    i = s.items.c.id
    boxes = []
    for table in (s.exif.alias(), s.videos.alias()):  # the grid may join them already
        lat, lon = table.c.gps_lat, table.c.gps_lon
        # A view across the antimeridian has west > east: two ranges of longitude.
        across = or_(lon >= west, lon <= east) if west > east else lon.between(west, east)
        boxes.append(exists().where(table.c.item_id == i, lat.between(south, north), across))
    return or_(*boxes)


def _stage(value: str) -> ColumnElement[bool]:
    """Errors recorded by the stage, analyser or parser named ``value`` (exactly, as
    ``unseen status`` lists them: ``image``, ``listing``, ``chromium_history``...)."""
    e, a = s.item_errors, s.artefact_errors
    i = s.items.c.id
    return or_(
        exists().where(e.c.item_id == i, e.c.analyser == value),
        exists().where(a.c.item_id == i, a.c.parser == value),
    )


@hookimpl
def grid_filters() -> list[FactFilter]:
    return [
        FactFilter("place", "taken at a place named", _place, text=True),
        FactFilter("identity", "shows a person seen in other pictures", _identity),
        FactFilter("session", "in a capture session", _session),
        FactFilter("stage", "errors recorded by the stage", _stage, text=True),
        FactFilter("area", "GPS within (south,west,north,east)", _area, text=True),
    ]
