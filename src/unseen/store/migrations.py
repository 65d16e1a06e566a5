"""Numbered schema migrations.

A new case gets the head schema from ``schema.metadata`` and is stamped with the
latest version; an existing case runs, in order, every migration newer than its
version. To change the schema: edit ``schema.py`` and append a migration here that
brings a database of the previous version to the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, inspect, select

from unseen.core.errors import CaseError
from unseen.core.timeconv import utc_now
from unseen.store import schema


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    upgrade: Callable[[Connection], None]


def _initial(conn: Connection) -> None:
    """Version 1 is the first schema; new cases are created from head directly."""


MIGRATIONS: tuple[Migration, ...] = (Migration(1, "initial", _initial),)
HEAD = MIGRATIONS[-1].version


def current_version(conn: Connection) -> int:
    """The schema version of a case database, 0 when it is empty."""
    if not inspect(conn).has_table("schema_migrations"):
        return 0
    version = conn.execute(select(func.max(schema.schema_migrations.c.version))).scalar()
    return int(version or 0)


def upgrade(conn: Connection) -> int:
    """Create or migrate the schema to head inside the caller's transaction."""
    version = current_version(conn)
    if version > HEAD:
        raise CaseError(
            f"the case database has schema version {version}, newer than this tool's {HEAD}"
        )
    if version == 0:
        schema.metadata.create_all(conn)
        _stamp(conn, MIGRATIONS)
        return HEAD
    pending = [m for m in MIGRATIONS if m.version > version]
    for migration in pending:
        migration.upgrade(conn)
    _stamp(conn, pending)
    return HEAD


def _stamp(conn: Connection, done: list[Migration] | tuple[Migration, ...]) -> None:
    now = utc_now()
    for m in done:
        conn.execute(
            insert(schema.schema_migrations).values(version=m.version, name=m.name, applied_at=now)
        )
