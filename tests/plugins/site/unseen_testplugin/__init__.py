"""A third-party plugin in one file: the length of each file's name, from the fact
(a job with its own table) to an export key, a grid filter, an item-page panel and a
section of the summary report. Installed only through its entry point
(``unseen_testplugin-0.1.dist-info/entry_points.txt``); nothing in unseen names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    Table,
    exists,
    false,
    func,
    select,
)

from unseen.core.hooks import ExportField, FactFilter, Panel, hookimpl
from unseen.core.jobs import JOBS, ItemJob, Outcome
from unseen.core.settings import Settings
from unseen.store import schema as s

# The fact: one row per file, in a table the job owns (created when the job first runs).
name_length = Table(
    "testplugin_name_length",
    MetaData(),
    Column("item_id", Integer, primary_key=True),
    Column("length", Integer, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Named:
    item_id: int
    path: str


class NameLength(ItemJob[Named, Outcome]):
    NAME = "testplugin.name_length"
    VERSION = "1"
    DESCRIPTION = "length of each file's name, in characters"
    TABLES = (name_length,)

    def select(self, conn: Connection, settings: Settings) -> Iterable[Named]:
        i = s.items
        rows = conn.execute(select(i.c.id, i.c.path).where(i.c.kind == "file").order_by(i.c.id))
        return [Named(item_id, path) for item_id, path in rows]

    def work(self, tasks: list[Named], settings: Settings) -> list[Outcome]:
        return [
            Outcome(t.item_id, rows=[(name_length.name, {"length": len(_name(t.path))})])
            for t in tasks
        ]


JOBS.register(NameLength)


def _name(path: str) -> str:
    return path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]


# The export key: every record gets "name_length" (null where the job has no row).
def _lengths(conn: Connection, item_ids: Sequence[int]) -> dict[int, Any]:
    t = name_length
    rows = conn.execute(select(t).where(t.c.item_id.between(item_ids[0], item_ids[-1])))
    return {item_id: length for item_id, length in rows}


@hookimpl
def export_fields() -> list[ExportField]:
    return [ExportField("name_length", _lengths)]


# The grid filter: pictures whose name is exactly N characters long.
def _length_is(value: str) -> ColumnElement[bool]:
    if not value.isdigit():
        return false()
    t = name_length
    return exists().where(t.c.item_id == s.items.c.id, t.c.length == int(value))


@hookimpl
def grid_filters() -> list[FactFilter]:
    return [FactFilter("name_length", "name length is", _length_is, text=True)]


# The item panel, and a section of the summary report.
@hookimpl
def item_panels(conn: Connection, item_id: int) -> list[Panel]:
    t = name_length
    length = conn.execute(select(t.c.length).where(t.c.item_id == item_id)).scalar()
    if length is None:
        return []
    return [Panel("Name length", Markup('<p id="name-length">{} characters</p>').format(length))]


@hookimpl
def report_sections(conn: Connection) -> list[Panel]:
    t = name_length
    files, longest = conn.execute(select(func.count(), func.max(t.c.length))).one()
    html = Markup('<p id="name-lengths">{} files; the longest name has {} characters.</p>')
    return [Panel("File names", html.format(files, longest))]
