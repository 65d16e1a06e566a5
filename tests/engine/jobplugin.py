"""A per-item job for the job-model tests: the length of each file's name.

Imported by the tests (and by the killed subprocess) to register it; it reads only
the task, so it also shows a job that needs nothing from the fast pass but its list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Column, Connection, Integer, MetaData, Table, select

from unseen.core.jobs import JOBS, ItemJob, Outcome
from unseen.core.settings import Settings
from unseen.store import schema as s

NAME_LENGTHS = Table(
    "test_name_lengths",
    MetaData(),
    Column("item_id", Integer, primary_key=True),
    Column("length", Integer, nullable=False),
)
WORKED: list[int] = []  # item ids worked on in this process (workers=0)


@dataclass(frozen=True, slots=True)
class NameTask:
    item_id: int
    path: str


class NameLength(ItemJob[NameTask, Outcome]):
    NAME = "test_name_length"
    VERSION = "1"
    DESCRIPTION = "length of the file name (test only)"
    DEPENDS_ON = ("image",)  # so a bump of the image analyser reaches it
    SETTINGS = ("thumbnail_size",)  # any setting: changing it must re-run the job
    TABLES: ClassVar[tuple[Table, ...]] = (NAME_LENGTHS,)

    def select(self, conn: Connection, settings: Settings) -> Iterator[NameTask]:
        i = s.items
        rows = conn.execute(select(i.c.id, i.c.path).where(i.c.kind == "file").order_by(i.c.id))
        for item_id, path in rows:
            yield NameTask(item_id, path)

    def work(self, tasks: list[NameTask], settings: Settings) -> list[Outcome]:
        out = []
        for t in tasks:
            WORKED.append(t.item_id)
            name = t.path.rsplit("/", 1)[-1]
            errors = ["names starting with 'bad' are refused"] if name.startswith("bad") else []
            out.append(Outcome(t.item_id, [("test_name_lengths", {"length": len(name)})], errors))
        return out


def register() -> None:
    if NameLength.NAME not in JOBS.names():
        JOBS.register(NameLength)


def unregister() -> None:
    if NameLength.NAME in JOBS.names():
        JOBS.unregister(NameLength.NAME)
