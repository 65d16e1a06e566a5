"""Large WhatsApp ``msgstore.db`` databases carried into a SQLite case in SQL.

The Python path builds a ``Message`` per row on a worker and a row tuple per message
in the writer: at a million messages that is most of the stage's time. When the case
store is SQLite and this process can read the evidence itself (no remote cluster), the
writer instead attaches a private read-only copy of the database to its own connection
and moves the rows with ``INSERT ... SELECT``, no Python object per message.

The SQL reproduces what the parser and the writer store for ordinary data, ids
included. Everything else goes through the Python path unchanged: before carrying,
bulk checks look for what the two could store differently (a write-ahead log, types
the parser converts, text that is not valid UTF-8, times outside the year range,
chats that share a key, several media rows for one message), and any finding leaves
the database to the Python path. So both store the same records for the same input.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from unseen.engine.driver import process_pool
from unseen.internet.base import ParseContext, ParseTask
from unseen.internet.sqlite import COPY_NAME, open_copy, tables
from unseen.internet.timestamps import MAX_YEAR, MIN_YEAR
from unseen.phones.parsers.whatsapp_android import (
    APP,
    GROUP_SERVER,
    STATUS,
    WhatsAppAndroid,
    contact_names,
    hex_sha256,
    owner_jid,
)
from unseen.phones.store import forget_item, indexes_set_aside, next_id, write_coverage
from unseen.phones.worker import ParserOutcome
from unseen.store import schema as s

log = logging.getLogger(__name__)

# Android milliseconds whose UTC text the Python path writes (``fast_utc``): inside the
# year range. Other times (and negative ones, where SQL's ``%`` and Python's differ)
# leave the database to the Python path.
LOW_MS = int(datetime(MIN_YEAR, 1, 1, tzinfo=UTC).timestamp() * 1000)
HIGH_MS = int(datetime(MAX_YEAR + 1, 1, 1, tzinfo=UTC).timestamp() * 1000) - 1
SLICE_ROWS = 100_000  # rows whose text one check holds at a time

# Per table: the condition of a row whose types the parser converts (or whose time it
# formats otherwise), and the text columns it stores, checked as strict UTF-8 (the
# parser reads invalid bytes tolerantly).
SCANS = {
    "message": (
        """typeof(chat_row_id) <> 'integer'
          OR typeof(from_me) NOT IN ('integer', 'null')
          OR typeof(status) NOT IN ('integer', 'null')
          OR typeof(timestamp) NOT IN ('integer', 'null')
          OR timestamp < 0 OR (timestamp > 0 AND (timestamp < :low OR timestamp > :high))
          OR typeof(text_data) NOT IN ('text', 'null')""",
        ("text_data",),
    ),
    "jid": (
        "typeof(raw_string) NOT IN ('text', 'null') OR typeof(server) NOT IN ('text', 'null')",
        ("raw_string",),
    ),
    "chat": ("typeof(subject) NOT IN ('text', 'null')", ("subject",)),
    "message_media": (
        """typeof(message_row_id) <> 'integer'
          OR typeof(file_path) NOT IN ('text', 'null')
          OR typeof(mime_type) NOT IN ('text', 'null')
          OR typeof(media_name) NOT IN ('text', 'null')
          OR typeof(file_hash) NOT IN ('text', 'null')
          OR typeof(file_size) NOT IN ('integer', 'null')""",
        ("file_path", "mime_type", "media_name", "file_hash"),
    ),
}
# Each query finds what the parser would store differently (None when clean).
CHECKS = {
    "chat or jid keys repeated": """
        SELECT 1 WHERE (SELECT count(*) - count(DISTINCT _id) FROM chat) > 0
          OR (SELECT count(*) - count(DISTINCT _id) FROM jid) > 0""",
    "several media rows for one message": """
        SELECT 1 FROM message_media GROUP BY message_row_id HAVING count(*) > 1 LIMIT 1""",
}


class Unusual(Exception):
    """Found while carrying: something the parser would store differently."""


def carry_msgstore(
    engine: Engine, task: ParseTask, beside: bool = False
) -> tuple[int, int] | None:
    """Store ``task``'s msgstore.db in SQL; (messages stored, errors recorded), or None
    when the Python path must read it (a check found something, or the carry failed:
    its transaction is rolled back and the Python path records what went wrong).

    What the carry reads is first checked to be what it expects (``shape``: a look at
    the schema), so it never works on a view or a table without its keys. The scans of
    every row (``scanned``, a second of a million messages) run first, or with
    ``beside`` in a process of their own while the carry works, which then commits
    only once they found nothing. Not on a thread: SQLite's allocator lock makes two
    threads of one process each slower than one alone (measured: four times).
    """
    parser = WhatsAppAndroid
    ctx = ParseContext(task, parser.NAME, parser.VERSION)
    pool = process_pool(1) if beside else None
    try:
        if ctx.sibling(task.path + "-journal") is not None:
            return None  # a rollback journal (a transaction part-way): left to the parser
        with open_copy(ctx, parser.MAX_BYTES) as ev:
            why = shape(ev)
        copy = ctx.temp_dir() / COPY_NAME
        if why is None and copy.with_name(COPY_NAME + "-wal").exists():
            why = "the copy's WAL was not folded in when it was closed"
        checks = pool.submit(scanned_copy, str(copy)) if pool and why is None else None
        if why is None and checks is None:
            why = scanned_copy(str(copy))
        if why is not None:
            raise Unusual(why)
        checkpointed = _without_wal(ctx) if ctx.sibling(task.path + "-wal") else None
        app = task.path[: -len("databases/msgstore.db")]
        names = contact_names(ctx, app)
        owner = owner_jid(ctx, app)
        with engine.connect() as conn, _attached(conn, copy, checkpointed) as raw, conn.begin():
            # One transaction: a kill part-way leaves what an earlier run stored.
            forget_item(conn, task.item_id, parser.NAME)
            span = raw.execute("SELECT min(_id), max(_id), count(*) FROM ev.message").fetchone()
            with indexes_set_aside(conn, span[2]):
                stored = _carry(conn, raw, task.item_id, names, owner, span, _wal_sql(raw))
            if checks is not None and (why := checks.result()) is not None:
                raise Unusual(why)
            status = "ok" if stored else "empty"
            outcome = ParserOutcome(parser.NAME, parser.VERSION, status, None, tuple(ctx.errors))
            errors = write_coverage(conn, task.item_id, outcome, stored)
        return stored, errors
    except Unusual as exc:
        log.info("phones: %s read by the parser (%s)", task.path, exc)
        return None
    except Exception as exc:  # hostile evidence: the Python path reads and records it
        log.info("phones: %s read by the parser (carry failed: %s)", task.path, exc)
        return None
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        ctx.cleanup()


def scanned_copy(copy: str) -> str | None:
    """``scanned`` on a connection of its own to the private copy at ``copy``
    (read-only, and no function of ours runs from its schema)."""
    ev = sqlite3.connect(f"{Path(copy).as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        ev.execute("PRAGMA trusted_schema = OFF")
        return scanned(ev)
    finally:
        ev.close()


def _without_wal(ctx: ParseContext) -> Path:
    """A second copy of the database file alone (the WAL left out, so its rows are
    the checkpointed ones), as the parser makes it to mark rows found only in the WAL."""
    folder = ctx.temp_dir() / "without-wal"
    folder.mkdir()
    target = folder / "main.sqlite"
    ctx.copy_to(target, WhatsAppAndroid.MAX_BYTES)
    return target


def _wal_sql(raw: sqlite3.Connection) -> str:
    """The SQL of ``from_wal`` for the message ``m``: a key the copy without the WAL
    lacks (every key when that copy has no message table, as in the parser).

    Raises:
        sqlite3.DatabaseError: the copy without the WAL cannot be read (the parser
            then reads the database and records what it finds).
    """
    if "cp" not in {row[1] for row in raw.execute("PRAGMA database_list")}:
        return "0"
    if raw.execute("SELECT 1 FROM cp.sqlite_master WHERE name = 'message'").fetchone() is None:
        return "1"
    raw.execute("SELECT _id FROM cp.message LIMIT 1").fetchall()
    return "NOT EXISTS (SELECT 1 FROM cp.message c WHERE c._id = m._id)"


def shape(ev: sqlite3.Connection) -> str | None:
    """Whether the tables the carry reads are there as tables, the messages keyed by
    their row id (a look at the schema only); None if so, else why not."""
    found = tables(ev)
    for table in ("message", "jid", "chat", "message_media"):
        if table not in found:
            return f"no {table} table"
    if not _rowid_key(ev, "message"):
        return "message._id is not the row id"
    return None


def scanned(ev: sqlite3.Connection) -> str | None:
    """What a scan of every row finds that the parser would store differently (types
    it converts, text that is not strict UTF-8, repeated keys); None if nothing. Every
    check is one query over a table (C speed, no row in Python)."""
    for table, (types, texts) in SCANS.items():
        why = _scan(ev, table, types, texts)
        if why is not None:
            return why
    for why, sql in CHECKS.items():
        if ev.execute(sql).fetchone() is not None:
            return why
    return None


def _rowid_key(ev: sqlite3.Connection, table: str) -> bool:
    """Whether ``_id`` is the table's row id (so unique, and always an integer)."""
    keys = ev.execute(f"SELECT name, upper(type) FROM pragma_table_info('{table}') WHERE pk > 0")
    sql = ev.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    return keys.fetchall() == [("_id", "INTEGER")] and "WITHOUT ROWID" not in str(sql).upper()


def _scan(ev: sqlite3.Connection, table: str, types: str, texts: tuple[str, ...]) -> str | None:
    """Whether a row of ``table`` meets ``types``, or its text is not strict UTF-8 (as
    the parser's fast read decodes it). The text is read a slice of rows at a time,
    joined in SQL (a zero byte between values, never part of a UTF-8 sequence) and
    decoded in one ``bytes.decode``."""
    limits = {"low": LOW_MS, "high": HIGH_MS}
    if ev.execute(f"SELECT 1 FROM {table} WHERE {types} LIMIT 1", limits).fetchone():
        return f"column types of {table}"
    joined = " || x'00' || ".join(f"coalesce(CAST({c} AS BLOB), x'')" for c in texts)
    sql = (
        f"SELECT max(r), group_concat(v, x'00') FROM (SELECT rowid AS r, {joined} AS v "
        f"FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?)"
    )
    factory = ev.text_factory
    ev.text_factory = bytes
    after: int | None = -(2**63)
    try:
        while after is not None:
            after, text = ev.execute(sql, (after, SLICE_ROWS)).fetchone()
            if text is not None:
                text.decode("utf-8")
    except UnicodeDecodeError:
        return f"{table} text not valid UTF-8"
    finally:
        ev.text_factory = factory
    return None


@contextmanager
def _attached(
    conn: Connection, copy: Path, checkpointed: Path | None = None
) -> Iterator[sqlite3.Connection]:
    """The case connection's own SQLite handle with the copy attached read-only as
    ``ev`` (and the copy without its WAL, when there is one, as ``cp``), the temporary
    maps empty and foreign keys unchecked; all put back (outside any transaction)
    after."""
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    raw.create_function("carry_sha256", 1, hex_sha256, deterministic=True)
    _drop_maps(raw)
    raw.execute("ATTACH DATABASE ? AS ev", (f"{copy.as_uri()}?mode=ro&immutable=1",))
    if checkpointed is not None:
        raw.execute("ATTACH DATABASE ? AS cp", (f"{checkpointed.as_uri()}?mode=ro&immutable=1",))
    # Every reference the carry writes is an id it inserted in the same transaction:
    # checking each (three lookups a message) would cost a fifth of the insert.
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield raw
    finally:
        if raw.in_transaction:
            raw.rollback()
        raw.execute("PRAGMA foreign_keys = ON")
        _drop_maps(raw)
        raw.execute("DETACH DATABASE ev")
        if checkpointed is not None:
            raw.execute("DETACH DATABASE cp")


def _drop_maps(raw: sqlite3.Connection) -> None:
    for name in ("carry_names", "carry_chat", "carry_pair", "carry_contact", "carry_sender"):
        raw.execute(f"DROP TABLE IF EXISTS temp.{name}")


# The text ``fast_utc`` writes for Android milliseconds; ``datetime`` and ``substr``
# cost a fifth less per row than ``strftime`` and ``printf`` (the same text).
UTC_SQL = (
    "replace(datetime(m.timestamp / 1000, 'unixepoch'), ' ', 'T') || '.'"
    " || substr(1000000 + m.timestamp % 1000 * 1000, 2) || 'Z'"
)
STATUS_SQL = (
    "CASE m.status "
    + " ".join(f"WHEN {code} THEN '{label}'" for code, label in STATUS.items())
    + " ELSE CAST(m.status AS TEXT) END"
)


def _carry(
    conn: Connection,
    raw: sqlite3.Connection,
    item_id: int,
    names: dict[str, str],
    owner: str | None,
    span: tuple[int | None, int | None, int],
    from_wal: str = "0",
) -> int:
    """Conversations, contacts, participants, messages and attachments, numbered as
    the writer numbers them (the next free ids, in the parser's order); ``span`` is
    the lowest and highest message key and the number of messages."""
    x = raw.execute
    x("CREATE TEMP TABLE carry_names (handle TEXT PRIMARY KEY, name TEXT)")
    raw.executemany("INSERT INTO temp.carry_names VALUES (?, ?)", names.items())
    # Conversations in the order of their first message, as the parser meets them.
    x("""CREATE TEMP TABLE carry_chat (cid INTEGER PRIMARY KEY, conv_id INTEGER, key TEXT,
         grp INTEGER, title TEXT, first INTEGER, one INTEGER)""")
    x(
        f"""INSERT INTO temp.carry_chat
        SELECT cid, :first + row_number() OVER (ORDER BY first) - 1, key, grp,
               CASE WHEN grp THEN subject ELSE n.name END, first, NULL
        FROM (SELECT d.cid, d.first, c.subject,
                     coalesce(nullif(j.raw_string, ''), 'chat:' || d.cid) AS key,
                     coalesce(j.server = '{GROUP_SERVER}', 0) AS grp
              FROM (SELECT chat_row_id AS cid, min(_id) AS first FROM ev.message
                    GROUP BY chat_row_id) d
              LEFT JOIN ev.chat c ON c._id = d.cid
              LEFT JOIN ev.jid j ON j._id = c.jid_row_id) k
        LEFT JOIN temp.carry_names n ON n.handle = k.key""",
        {"first": next_id(conn, s.msg_conversations)},
    )
    if x("SELECT 1 FROM temp.carry_chat GROUP BY key HAVING count(*) > 1").fetchone():
        raise Unusual("chats that share a key")  # the parser merges them
    x(
        """INSERT INTO msg_conversations (id, item_id, app, key, title, is_group, record_ref)
        SELECT conv_id, ?, ?, key, title, grp, 'chat _id ' || cid FROM temp.carry_chat
        ORDER BY conv_id""",
        (item_id, APP),
    )
    # Who takes part where, with each pair's first message: contacts are numbered in
    # the order the parser meets them (the owner first, from the preferences). The
    # other party of a one-to-one chat is its key from its first message on; only
    # group messages are read for their senders.
    x(
        """CREATE TEMP TABLE carry_pair AS
        SELECT conv_id, key AS handle, first FROM temp.carry_chat WHERE NOT grp
        UNION ALL
        SELECT ch.conv_id, nullif(sj.raw_string, ''), min(m._id)
        FROM ev.message m JOIN temp.carry_chat ch ON ch.cid = m.chat_row_id AND ch.grp
        LEFT JOIN ev.jid sj ON sj._id = m.sender_jid_row_id
        WHERE NOT coalesce(m.from_me, 0) GROUP BY 1, 2"""
    )
    x("CREATE TEMP TABLE carry_contact (handle TEXT PRIMARY KEY, contact_id INTEGER)")
    seen = owner is not None and (
        x("SELECT 1 FROM temp.carry_pair WHERE handle = ?", (owner,)).fetchone() is not None
    )
    x(
        """INSERT INTO temp.carry_contact
        SELECT handle, :first + row_number() OVER (ORDER BY handle IS NOT :owner, first) - 1
        FROM (SELECT handle, min(first) AS first FROM temp.carry_pair
              WHERE handle IS NOT NULL GROUP BY handle
              UNION ALL SELECT :owner, 0 WHERE :owner IS NOT NULL AND NOT :seen)""",
        {"first": next_id(conn, s.msg_contacts), "owner": owner, "seen": seen},
    )
    # The owner keeps its mark unless the messages name it with an address-book name
    # (``Extract.contact`` replaces the contact then, as the parser does).
    owner_name = names.get(owner) if owner is not None and seen else None
    x(
        """INSERT INTO msg_contacts (id, item_id, app, handle, name, owner)
        SELECT ct.contact_id, :item, :app, ct.handle,
               CASE WHEN ct.handle IS :owner THEN :owner_name ELSE n.name END,
               CASE WHEN ct.handle IS :owner THEN :owner_mark ELSE 0 END
        FROM temp.carry_contact ct LEFT JOIN temp.carry_names n ON n.handle = ct.handle
        ORDER BY ct.contact_id""",
        {"item": item_id, "app": APP, "owner": owner, "owner_name": owner_name,
         "owner_mark": owner_name is None},
    )  # fmt: skip
    x(
        """INSERT INTO msg_participants (conversation_id, contact_id)
        SELECT DISTINCT p.conv_id, ct.contact_id FROM temp.carry_pair p
        JOIN temp.carry_contact ct ON ct.handle = p.handle ORDER BY 1, 2"""
    )
    # A message's sender by integer keys: the chat's other party, or the group
    # sender's JID row (a text lookup per message costs a tenth of the insert).
    x("""UPDATE temp.carry_chat SET one = (SELECT contact_id FROM temp.carry_contact
         WHERE handle = key) WHERE NOT grp""")
    x("CREATE TEMP TABLE carry_sender (jid INTEGER PRIMARY KEY, contact_id INTEGER)")
    x("""INSERT INTO temp.carry_sender SELECT j._id, ct.contact_id FROM ev.jid j
         JOIN temp.carry_contact ct ON ct.handle = j.raw_string""")
    first = next_id(conn, s.messages)
    low, high, count = span
    if count and low is not None and high is not None and high - low + 1 == count:
        # Keys without gaps (the usual case): a message's id is its key, moved; a
        # window function numbering a million rows costs a fifth of the insert.
        shift, number, keys = first - low, "m._id", "ev.message"
    else:
        shift, number = first, "row_number() OVER (ORDER BY m._id) - 1"
        keys = "(SELECT row_number() OVER (ORDER BY _id) - 1 AS n, _id FROM ev.message)"
    x(
        f"""INSERT INTO messages (id, item_id, app, conversation_id, sender_id, direction,
            ts_utc, ts_raw, ts_epoch, text, status, from_wal, record_ref)
        SELECT :shift + {number}, :item, :app, ch.conv_id,
            CASE WHEN m.from_me THEN NULL WHEN NOT ch.grp THEN ch.one ELSE (SELECT
                contact_id FROM temp.carry_sender WHERE jid = m.sender_jid_row_id) END,
            CASE WHEN m.from_me THEN 'sent' ELSE 'received' END,
            CASE WHEN m.timestamp > 0 THEN {UTC_SQL} END,
            CASE WHEN m.timestamp > 0 THEN CAST(m.timestamp AS TEXT) END,
            CASE WHEN m.timestamp > 0 THEN 'unix_ms' END,
            m.text_data, {STATUS_SQL}, {from_wal}, 'message _id ' || m._id
        FROM ev.message m JOIN temp.carry_chat ch ON ch.cid = m.chat_row_id
        ORDER BY m._id""",
        {"shift": shift, "item": item_id, "app": APP},
    )
    stored = x("SELECT changes()").fetchone()[0]
    x(
        f"""INSERT INTO msg_attachments (id, message_id, ref_path, name, mime, size, sha256,
            linked_item_id, link_method, absent)
        SELECT :next + row_number() OVER (ORDER BY m._id) - 1,
            :shift + {"m._id" if number == "m._id" else "m.n"}, mm.file_path,
            mm.media_name, mm.mime_type, mm.file_size, carry_sha256(mm.file_hash),
            NULL, NULL, 1
        FROM ev.message_media mm JOIN {keys} m ON m._id = mm.message_row_id
        WHERE coalesce(mm.file_path, '') <> '' OR coalesce(mm.file_hash, '') <> ''
           OR coalesce(mm.mime_type, '') <> ''
        ORDER BY m._id""",
        {"next": next_id(conn, s.msg_attachments), "shift": shift},
    )
    return int(stored)


# Parsers whose databases can be carried in SQL, by name.
# A carrier takes the case, the task, and whether it may use a process beside it.
CARRIERS: dict[str, Callable[[Engine, ParseTask, bool], tuple[int, int] | None]] = {
    WhatsAppAndroid.NAME: carry_msgstore,
}
