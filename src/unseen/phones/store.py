"""Writes of the message tables, always in the caller's transaction (single writer).

Rows belong to the database item they were read from: storing an item's outcome
first removes whatever was stored for it, so reruns replace instead of piling up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from unseen.core.timeconv import utc_now
from unseen.internet.timestamps import MAX_YEAR, MIN_YEAR
from unseen.phones.model import Extract, Message
from unseen.phones.times import utc_of
from unseen.phones.worker import ItemOutcome, ParserOutcome, unpack
from unseen.store import done
from unseen.store import schema as s

ERROR_PREFIX = "phones:"
CHUNK = 5000  # messages per insert
BULK_MESSAGES = 50_000  # a batch this large is stored with its indexes built after
BULK_CACHE_KIB = 64 * 1024  # page cache while a large batch goes into a large table
_1970 = date(1970, 1, 1)
_DAYS: dict[int, str] = {}  # day number since 1970 -> its ISO date, within the year range


def forget_item(conn: Connection, item_id: int, parser: str) -> None:
    """Remove everything stored for a database item by one parser."""
    m, a = s.messages, s.msg_attachments
    conv = s.msg_conversations
    owned = select(m.c.id).where(m.c.item_id == item_id)
    conn.execute(delete(s.media_provenance).where(s.media_provenance.c.db_item_id == item_id))
    conn.execute(delete(a).where(a.c.message_id.in_(owned)))
    conn.execute(delete(m).where(m.c.item_id == item_id))
    chats = select(conv.c.id).where(conv.c.item_id == item_id)
    conn.execute(delete(s.msg_participants).where(s.msg_participants.c.conversation_id.in_(chats)))
    conn.execute(delete(conv).where(conv.c.item_id == item_id))
    for table in (s.msg_contacts, s.phone_devices):
        conn.execute(delete(table).where(table.c.item_id == item_id))
    conn.execute(delete(s.media_assets).where(s.media_assets.c.db_item_id == item_id))
    conn.execute(delete(s.phone_apps).where(s.phone_apps.c.item_id == item_id))
    cov, err = s.msg_coverage, s.item_errors
    conn.execute(delete(cov).where((cov.c.item_id == item_id) & (cov.c.parser == parser)))
    done.forget(conn, (parser,), [item_id])
    conn.execute(
        delete(err).where((err.c.item_id == item_id) & (err.c.analyser == ERROR_PREFIX + parser))
    )


@dataclass
class Chunked:
    """How far a database read in chunks has got: the chunks stored, and the records,
    status and errors of its coverage, written (with the ledger) by the last one."""

    parts: int
    stored: int = 0
    records: int = 0
    failed: bool = False
    errors: dict[str, None] = field(default_factory=dict)  # in order, each once
    # The parser version the ledger gets: "?" when any chunk killed its worker, so the
    # database is read again next run, as a whole read that killed it would be.
    version: str | None = None


def write_outcomes(
    conn: Connection,
    outcomes: list[ItemOutcome],
    chunked: dict[tuple[int, str], Chunked] | None = None,
    indexes_aside: bool = False,
) -> tuple[int, int]:
    """Store a batch; returns (messages and devices stored, errors recorded).

    A chunk of a database read in chunks (``ItemOutcome.parts`` over 1) adds to what
    earlier chunks stored, which the caller removed before the first (``forget_item``):
    chunks come back in any order. ``chunked`` follows each such database, and the
    coverage and ledger entry are written only when all its chunks are in, so a kill
    part-way leaves it to do again, whole. ``indexes_aside``: the caller has set the
    message indexes aside for all the chunks (``set_indexes_aside``)."""
    records = errors = 0
    outcomes = [unpack(item) for item in outcomes]
    count = sum(len(o.extract.messages) for i in outcomes for o in i.outcomes if o.extract)
    with indexes_set_aside(conn, 0 if indexes_aside else count):
        for item in outcomes:
            for out in item.outcomes:
                if item.parts > 1:
                    state = (chunked if chunked is not None else {}).setdefault(
                        (item.item_id, out.parser), Chunked(item.parts)
                    )
                    stored, found = _write_chunk(conn, item.item_id, out, state)
                    records, errors = records + stored, errors + found
                    continue
                forget_item(conn, item.item_id, out.parser)
                if out.extract is not None:
                    records += _write_extract(conn, item.item_id, out.extract)
                errors += write_coverage(conn, item.item_id, out)
    return records, errors


def _write_chunk(
    conn: Connection, item_id: int, out: ParserOutcome, state: Chunked
) -> tuple[int, int]:
    """One chunk's records; the database's coverage when it is the last chunk. An
    error every chunk meets (an unreadable ``wa.db``) is recorded once."""
    records = _write_extract(conn, item_id, out.extract, merge=True) if out.extract else 0
    state.stored += 1
    state.records += records
    state.failed = state.failed or out.extract is None
    state.errors.update(dict.fromkeys(out.errors))
    if state.version != "?":
        state.version = out.version
    if state.stored < state.parts:
        return records, 0
    status = "failed" if state.failed else ("ok" if state.records else "empty")
    whole = ParserOutcome(out.parser, state.version, status, None, tuple(state.errors))
    return records, write_coverage(conn, item_id, whole, state.records)


@contextmanager
def indexes_set_aside(conn: Connection, messages: int) -> Iterator[None]:
    """For a large batch on SQLite, drop the message indexes and build them again after
    the rows are in: one sorted build costs a fraction of a million scattered b-tree
    inserts. Both happen inside the writer's transaction, so readers (WAL snapshots)
    never see the table without them. PostgreSQL is left alone: there a dropped index
    would lock readers out of the table until the commit. Used by the Python path and
    the SQL carry (``phones.carry``) alike."""
    if conn.dialect.name != "sqlite" or messages < BULK_MESSAGES:
        yield
        return
    if next_id(conn, s.messages) > messages:
        # More rows are stored than this batch adds (the later chunks of a large
        # database): a rebuild would sort them all again for each batch. The rows go
        # in with their indexes, with a page cache that holds the index pages being
        # written (a bounded, temporary increase of memory).
        with _page_cache(conn, BULK_CACHE_KIB):
            yield
        return
    _drop_indexes(conn)
    yield
    put_indexes_back(conn)


def set_indexes_aside(conn: Connection, messages: int) -> bool:
    """Drop the message indexes (SQLite only) when ``messages`` rows are to come and the
    table holds no more than that: for the chunks of a large database, one sorted build
    after the last chunk instead of each chunk's rows inserted into indexes over all the
    earlier ones (twice the cost per row by the last chunk). Returns whether they were
    dropped; the caller puts them back (``put_indexes_back``) before anything reads
    the tables by them. Between chunks (each its own transaction) readers see the
    tables without them: slower, never wrong; a kill there leaves them to be put back
    by the next run."""
    if conn.dialect.name != "sqlite" or next_id(conn, s.messages) > messages:
        return False
    _drop_indexes(conn)
    return True


def _drop_indexes(conn: Connection) -> None:
    for index in _message_indexes():
        index.drop(conn, checkfirst=True)


def put_indexes_back(conn: Connection) -> None:
    """Build whichever message index is missing (none is, unless set aside)."""
    for index in _message_indexes():
        index.create(conn, checkfirst=True)


def _message_indexes() -> list[Any]:
    return [ix for t in (s.messages, s.msg_attachments) for ix in sorted(t.indexes, key=_name)]


@contextmanager
def _page_cache(conn: Connection, kib: int) -> Iterator[None]:
    """SQLite's page cache of this connection set to ``kib`` KiB, and back after."""
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def _name(index: Any) -> str:
    return str(index.name)


def write_coverage(
    conn: Connection, item_id: int, out: ParserOutcome, records: int | None = None
) -> int:
    """The item's coverage row, its errors and its ledger entry (the count of errors
    recorded). Used by the Python path and the SQL carry alike, so both record the
    same."""
    count = records if records is not None else (out.extract.records() if out.extract else 0)
    conn.execute(
        insert(s.msg_coverage).values(
            item_id=item_id,
            parser=out.parser,
            parser_version=out.version,
            status=out.status,
            records=count,
            errors=json.dumps(list(out.errors)),
            run_at=utc_now(),
        )
    )
    done.mark(conn, out.parser, out.version, [item_id])
    for message in out.errors:
        conn.execute(
            insert(s.item_errors).values(
                item_id=item_id, analyser=ERROR_PREFIX + out.parser, message=message
            )
        )
    return len(out.errors)


def _write_extract(conn: Connection, item_id: int, ex: Extract, merge: bool = False) -> int:
    """Store what one parser read; with ``merge`` (a chunk of a database), contacts and
    conversations that earlier chunks stored are reused, and only what is new added."""
    if merge:
        return _merge_extract(conn, item_id, ex)
    source_id = conn.execute(select(s.items.c.source_id).where(s.items.c.id == item_id)).scalar()
    for d in ex.devices:
        conn.execute(
            insert(s.phone_devices).values(
                item_id=item_id,
                source_id=source_id,
                platform=d.platform,
                name=d.name,
                model=d.model,
                os_version=d.os_version,
                serial=d.serial,
                imei=d.imei,
                phone_number=d.phone_number,
                details=json.dumps(d.details, sort_keys=True),
            )
        )
    contacts = _insert_ids(
        conn,
        s.msg_contacts,
        [
            {
                "item_id": item_id,
                "app": ex.app,
                "handle": c.handle,
                "name": c.name,
                "owner": c.owner,
            }
            for c in ex.contacts.values()
        ],
        [c.handle for c in ex.contacts.values()],
    )
    chats = _insert_ids(
        conn,
        s.msg_conversations,
        [
            {
                "item_id": item_id,
                "app": ex.app,
                "key": c.key,
                "title": c.title,
                "is_group": c.is_group,
                "record_ref": c.record_ref,
            }
            for c in ex.conversations
        ],
        [c.key for c in ex.conversations],
    )
    pairs = {
        (chats[c.key], contacts[h])
        for c in ex.conversations
        for h in c.participants
        if h in contacts
    }
    if pairs:
        conn.execute(
            insert(s.msg_participants),
            [{"conversation_id": a, "contact_id": b} for a, b in sorted(pairs)],
        )
    _write_assets(conn, item_id, ex)
    if ex.apps:
        conn.execute(
            insert(s.phone_apps),
            [
                {"item_id": item_id, "container": a.container, "kind": a.kind,
                 "identifier": a.identifier}
                for a in ex.apps
            ],
        )  # fmt: skip
    for start in range(0, len(ex.messages), CHUNK):
        _write_messages(conn, item_id, ex, ex.messages[start : start + CHUNK], contacts, chats)
    return ex.records()


ASSET_COLUMNS = (
    "db_item_id", "app", "ref_path", "original_name", "direction", "ts_utc", "hidden",
    "deleted", "gps_lat", "gps_lon", "record_ref", "linked_item_id", "link_method", "absent",
)  # fmt: skip


def _write_assets(conn: Connection, item_id: int, ex: Extract) -> None:
    rows = [
        (item_id, a.app, a.ref_path, a.original_name, a.direction, a.ts_utc, a.hidden,
         a.deleted, a.gps_lat, a.gps_lon, a.record_ref, None, None, True)
        for a in ex.assets
    ]  # fmt: skip
    for start in range(0, len(rows), CHUNK):
        _insert_numbered(conn, s.media_assets, ASSET_COLUMNS, rows[start : start + CHUNK])


def _merge_extract(conn: Connection, item_id: int, ex: Extract) -> int:
    """A chunk's extract: contacts and conversations are those of the chunk's messages,
    keyed as the app keys them, so they are matched to what is stored by those keys.
    A stored contact without a name takes the chunk's, as ``Extract.contact`` does
    within one read."""
    c, v, p = s.msg_contacts, s.msg_conversations, s.msg_participants
    stored = {
        r.handle: (r.id, r.name)
        for r in conn.execute(
            select(c.c.id, c.c.handle, c.c.name).where(c.c.item_id == item_id, c.c.app == ex.app)
        )
    }
    for contact in ex.contacts.values():
        known = stored.get(contact.handle)
        if known is not None and known[1] is None and contact.name:
            conn.execute(
                c.update().where(c.c.id == known[0]).values(name=contact.name, owner=contact.owner)
            )
    fresh = [x for x in ex.contacts.values() if x.handle not in stored]
    contacts = {handle: ident for handle, (ident, _) in stored.items()}
    contacts |= _insert_ids(
        conn,
        c,
        [{"item_id": item_id, "app": ex.app, "handle": x.handle, "name": x.name,
          "owner": x.owner} for x in fresh],
        [x.handle for x in fresh],
    )  # fmt: skip
    chats = {
        r.key: r.id
        for r in conn.execute(
            select(v.c.id, v.c.key).where(v.c.item_id == item_id, v.c.app == ex.app)
        )
    }
    new = [x for x in ex.conversations if x.key not in chats]
    chats |= _insert_ids(
        conn,
        v,
        [{"item_id": item_id, "app": ex.app, "key": x.key, "title": x.title,
          "is_group": x.is_group, "record_ref": x.record_ref} for x in new],
        [x.key for x in new],
    )  # fmt: skip
    stored_pairs = conn.execute(
        select(p.c.conversation_id, p.c.contact_id).where(
            p.c.conversation_id.in_(select(v.c.id).where(v.c.item_id == item_id))
        )
    )
    had = {(a, b) for a, b in stored_pairs}
    pairs = {
        (chats[x.key], contacts[h])
        for x in ex.conversations
        for h in x.participants
        if h in contacts
    } - had
    if pairs:
        conn.execute(
            insert(p), [{"conversation_id": a, "contact_id": b} for a, b in sorted(pairs)]
        )
    for start in range(0, len(ex.messages), CHUNK):
        _write_messages(conn, item_id, ex, ex.messages[start : start + CHUNK], contacts, chats)
    return len(ex.messages)


MESSAGE_COLUMNS = (
    "item_id", "app", "conversation_id", "sender_id", "direction", "ts_utc", "ts_raw",
    "ts_epoch", "text", "status", "from_wal", "record_ref",
)  # fmt: skip
ATTACHMENT_COLUMNS = (
    "message_id", "ref_path", "name", "mime", "size", "sha256", "linked_item_id",
    "link_method", "absent",
)  # fmt: skip


def _write_messages(
    conn: Connection,
    item_id: int,
    ex: Extract,
    batch: list[Message],
    contacts: dict[Any, int],
    chats: dict[Any, int],
) -> None:
    """One chunk of messages and their attachments (chunks bound the memory used).

    Rows are plain tuples in ``MESSAGE_COLUMNS`` order and times go through
    ``fast_utc``: this loop runs once per message, and a phone holds millions."""
    app, chat_of, contact_of = ex.app, chats.get, contacts.get
    first = next_id(conn, s.messages)
    rows = [
        (
            first + n,
            item_id,
            app,
            chat_of(m.conversation) if m.conversation else None,
            contact_of(m.sender) if m.sender else None,
            m.direction,
            m.ts_utc or fast_utc(m.ts_raw, m.ts_epoch),
            None if m.ts_raw is None else str(m.ts_raw),
            m.ts_epoch,
            m.text,
            m.status,
            m.from_wal,
            m.record_ref,
        )
        for n, m in enumerate(batch)
    ]
    _insert_rows(conn, s.messages, MESSAGE_COLUMNS, rows)
    del rows
    files = [
        (first + n, f.ref_path, f.name, f.mime, f.size, f.sha256, None, None, True)
        for n, m in enumerate(batch)
        if m.attachments
        for f in m.attachments
    ]
    if files:
        _insert_numbered(conn, s.msg_attachments, ATTACHMENT_COLUMNS, files)


def _insert_numbered(
    conn: Connection, table: Any, names: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows (tuples in ``names`` order) with ids numbered here."""
    first = next_id(conn, table)
    _insert_rows(conn, table, names, [(first + n, *row) for n, row in enumerate(rows)])


def next_id(conn: Connection, table: Any) -> int:
    """The next free id of ``table``: both paths number rows from it, the same way."""
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def _insert_rows(
    conn: Connection, table: Any, names: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows (tuples: the id, then ``names`` in order) through the driver's own
    bulk insert (no RETURNING, no per-row statement work): a phone holds millions of
    messages, and this process is the only writer, so it numbers the ids itself."""
    if not rows:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table.name} (id, {', '.join(names)}) "
        f"VALUES ({', '.join([mark] * (len(names) + 1))})"
    )
    conn.exec_driver_sql(sql, rows)


def _insert_ids(
    conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[Any]
) -> dict[Any, int]:
    """Insert rows and map each caller key to its new id."""
    if not rows:
        return {}
    new = conn.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    ).scalars()
    return dict(zip(keys, new, strict=True))


def fast_utc(raw: object, epoch: str | None) -> str | None:
    """``utc_of``, with Android milliseconds (most messages) formatted from a cached date
    and the time of day: the same text, at half the cost per message."""
    if epoch != "unix_ms" or type(raw) is not int or not raw:
        return utc_of(raw, epoch)
    seconds, ms = divmod(raw, 1000)
    day, of_day = divmod(seconds, 86_400)
    text = _DAYS.get(day)
    if text is None:
        try:
            moment = _1970 + timedelta(days=day)
        except OverflowError:
            return None
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            return None
        text = (
            _DAYS.setdefault(day, moment.isoformat())
            if len(_DAYS) < 100_000
            else moment.isoformat()
        )
    hour, rest = divmod(of_day, 3600)
    minute, second = divmod(rest, 60)
    return f"{text}T{hour:02d}:{minute:02d}:{second:02d}.{ms * 1000:06d}Z"
