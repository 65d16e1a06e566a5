"""Database access for the review server: many readers, short serialised writes.

The case database may be written by ``unseen process`` at the same time. Reads use a
connection per request (SQLite WAL: readers never block the writer and see the last
committed state). The server's own writes (reviews, audit, sessions, exposure) go
through a second engine whose SQLite transactions start with ``BEGIN IMMEDIATE``: a
write transaction takes the write lock before it reads, so the audit chain's "read
the last hash, append the next entry" is never interleaved with another writer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, event

from unseen.store.case import make_engine


def _no_implicit_begin(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling would BEGIN DEFERRED; we emit BEGIN ourselves.
    dbapi_conn.isolation_level = None


def _begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def write_engine(url: str) -> Engine:
    """An engine for the server's writes: immediate transactions on SQLite."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _no_implicit_begin)
        event.listen(engine, "begin", _begin_immediate)
    return engine
