"""What the examiner sees of a name that hides its content (``extension_mismatch``).

The file-type analyser records the fact with the MIME type it sniffs (both come from
one look at the first bytes); this module is everything that shows it, through the
hooks only: the export key (right after ``mime``, where it has always been), the
grid filter "named as another type" and a block on the item page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup
from sqlalchemy import ColumnElement, Connection, select

from unseen.core.hooks import ExportField, FactFilter, Panel, hookimpl
from unseen.store import schema as s

KEY = "extension_mismatch"


def _flags(conn: Connection, item_ids: Sequence[int]) -> dict[int, Any]:
    i = s.items
    rows = conn.execute(
        select(i.c.id, i.c.extension_mismatch).where(i.c.id.between(item_ids[0], item_ids[-1]))
    )
    return {int(item_id): flag for item_id, flag in rows}


def _flagged(_value: str) -> ColumnElement[bool]:
    return s.items.c.extension_mismatch.is_(True)


@hookimpl
def export_fields() -> list[ExportField]:
    return [ExportField(KEY, _flags, after="mime")]


@hookimpl
def grid_filters() -> list[FactFilter]:
    return [FactFilter("mismatch", "named as another type", _flagged)]


@hookimpl
def item_panels(conn: Connection, item_id: int) -> list[Panel]:
    i = s.items
    row = conn.execute(select(i.c.path, i.c.mime).where(i.c.id == item_id, _flagged(""))).first()
    if row is None:
        return []
    name = str(row.path).rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    html = Markup(
        '<p id="extension-mismatch">The name <span class="mono">{}</span> hides '
        "what the content is: <b>{}</b>.</p>"
    ).format(name, row.mime or "unknown")
    return [Panel("Named as another type", html)]
