"""Search message text by words: SQLite FTS5 over ``messages.text`` where the case is
SQLite, PostgreSQL full-text search on a team database.

The FTS table is external-content (it stores only the index) and is rebuilt after
each phones stage run, so it never disagrees with the messages it indexes. On
PostgreSQL the phones stage makes a GIN index of ``to_tsvector('simple', text)``
(the ``simple`` configuration: lower-cased words, no stemming and no stop words, as
FTS5's default tokenizer), which PostgreSQL keeps current itself. User text is never
query syntax on either: FTS5 gets each word quoted, PostgreSQL ``plainto_tsquery``.
Any other database falls back to a case-insensitive substring match of every word.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, select, text
from sqlalchemy.exc import OperationalError

from unseen.store import schema as s
from unseen.store.case import make_engine

log = logging.getLogger(__name__)
FTS = "messages_fts"
PG_INDEX = "ix_messages_text_fts"
# The one expression the index is built on and every query uses (else no index scan).
PG_VECTOR = "to_tsvector('simple', coalesce(text, ''))"
# No per-row token counts (``columnsize=0``): only ranking functions read them, and
# search orders by time; without them the rebuild takes about a third less.
FTS_DDL = (
    f"CREATE VIRTUAL TABLE {FTS} USING fts5("
    "text, content='messages', content_rowid='id', columnsize=0)"
)
# The index is only ever rebuilt whole, so merging its segments as they are written
# (``automerge``) is work a rebuild throws away; FTS5 still merges a level once it holds
# ``crisismerge`` segments, which keeps lookups as fast (measured at a million
# messages). A larger in-memory batch (``hashsize``, default 1 MB) writes fewer segments.
# Together they take about a third off the rebuild; both are kept in the table's config.
FTS_CONFIG = (("automerge", 0), ("hashsize", 8 * 1024 * 1024))


def rebuild_index(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON messages USING GIN ({PG_VECTOR})")
        )
        return
    if conn.dialect.name != "sqlite":
        return
    made = conn.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"), {"n": FTS}
    ).scalar()
    if made != FTS_DDL:  # none yet, or an older case's (with token counts): made again
        if made is not None:
            conn.execute(text(f"DROP TABLE {FTS}"))
        conn.execute(text(FTS_DDL))
    for name, value in FTS_CONFIG:  # set on every rebuild: also for an older case's table
        try:
            conn.execute(
                text(f"INSERT INTO {FTS}({FTS}, rank) VALUES (:name, :value)"),
                {"name": name, "value": value},
            )
        except OperationalError:  # an older SQLite's FTS5 lacks it: only speed is lost
            log.info("phones: this SQLite's FTS5 has no %r setting; index built without", name)
    conn.execute(text(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')"))


def rebuild_index_at(url: str) -> None:
    """``rebuild_index`` in a transaction of its own on the case database at ``url``:
    for a process beside the phones stage's writer."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            rebuild_index(conn)
    finally:
        engine.dispose()


def search_ids(conn: Connection, words: str, limit: int = 500) -> list[int]:
    """Ids of messages whose text holds all ``words``, oldest first."""
    m = s.messages
    terms = [w for w in words.split() if w]
    if not terms:
        return []
    if conn.dialect.name == "sqlite" and _has_fts(conn):
        # Each word quoted: user text is never FTS query syntax.
        query = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
        rows = conn.execute(
            text(
                f"SELECT m.id FROM {FTS} f JOIN messages m ON m.id = f.rowid "
                f"WHERE {FTS} MATCH :q ORDER BY m.ts_utc, m.id LIMIT :n"
            ),
            {"q": query, "n": limit},
        )
        return [int(r[0]) for r in rows]
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                f"SELECT id FROM messages WHERE {PG_VECTOR} @@ plainto_tsquery('simple', :q) "
                "ORDER BY ts_utc NULLS FIRST, id LIMIT :n"
            ),
            {"q": " ".join(terms), "n": limit},
        )
        return [int(r[0]) for r in rows]
    cond = [
        m.c.text.ilike("%" + t.replace("%", r"\%").replace("_", r"\_") + "%", escape="\\")
        for t in terms
    ]
    rows2 = conn.execute(select(m.c.id).where(*cond).order_by(m.c.ts_utc, m.c.id).limit(limit))
    return [int(r[0]) for r in rows2]


def _has_fts(conn: Connection) -> bool:
    found = conn.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"), {"n": FTS}
    ).first()
    return found is not None
