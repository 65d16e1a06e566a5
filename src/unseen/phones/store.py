"""Writes of the message tables, always in the caller's transaction (single writer).

Rows belong to the database item they were read from: storing an item's outcome
first removes whatever was stored for it, so reruns replace instead of piling up.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from unseen.core.timeconv import utc_now
from unseen.phones.model import Extract, Message
from unseen.phones.times import utc_of
from unseen.phones.worker import ItemOutcome, ParserOutcome
from unseen.store import done
from unseen.store import schema as s

ERROR_PREFIX = "phones:"
CHUNK = 5000  # messages per insert


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


def write_outcomes(conn: Connection, outcomes: list[ItemOutcome]) -> tuple[int, int]:
    """Store a batch; returns (messages and devices stored, errors recorded)."""
    records = errors = 0
    for item in outcomes:
        for out in item.outcomes:
            forget_item(conn, item.item_id, out.parser)
            if out.extract is not None:
                records += _write_extract(conn, item.item_id, out.extract)
            errors += _write_coverage(conn, item.item_id, out)
    return records, errors


def _write_coverage(conn: Connection, item_id: int, out: ParserOutcome) -> int:
    count = out.extract.records() if out.extract else 0
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


def _write_extract(conn: Connection, item_id: int, ex: Extract) -> int:
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


def _write_assets(conn: Connection, item_id: int, ex: Extract) -> None:
    rows = [
        {
            "db_item_id": item_id, "app": a.app, "ref_path": a.ref_path,
            "original_name": a.original_name, "direction": a.direction, "ts_utc": a.ts_utc,
            "hidden": a.hidden, "deleted": a.deleted, "gps_lat": a.gps_lat,
            "gps_lon": a.gps_lon, "record_ref": a.record_ref, "linked_item_id": None,
            "link_method": None, "absent": True,
        }
        for a in ex.assets
    ]  # fmt: skip
    for start in range(0, len(rows), CHUNK):
        _insert_numbered(conn, s.media_assets, rows[start : start + CHUNK])


def _write_messages(
    conn: Connection,
    item_id: int,
    ex: Extract,
    batch: list[Message],
    contacts: dict[Any, int],
    chats: dict[Any, int],
) -> None:
    """One chunk of messages and their attachments (chunks bound the memory used)."""
    rows = [
        {
            "item_id": item_id,
            "app": ex.app,
            "conversation_id": chats.get(m.conversation) if m.conversation else None,
            "sender_id": contacts.get(m.sender) if m.sender else None,
            "direction": m.direction,
            "ts_utc": m.ts_utc or utc_of(m.ts_raw, m.ts_epoch),
            "ts_raw": None if m.ts_raw is None else str(m.ts_raw),
            "ts_epoch": m.ts_epoch,
            "text": m.text,
            "status": m.status,
            "from_wal": m.from_wal,
            "record_ref": m.record_ref,
        }
        for m in batch
    ]
    ids = _insert_numbered(conn, s.messages, rows)
    files = [
        {
            "message_id": ids[n],
            "ref_path": f.ref_path,
            "name": f.name,
            "mime": f.mime,
            "size": f.size,
            "sha256": f.sha256,
            "linked_item_id": None,
            "link_method": None,
            "absent": True,
        }
        for n, m in enumerate(batch)
        for f in m.attachments
    ]
    if files:
        _insert_numbered(conn, s.msg_attachments, files)


def _insert_numbered(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows with ids numbered here, through the driver's own bulk insert (no
    RETURNING, no per-row statement work): a phone holds millions of messages, and this
    process is the only writer."""
    first = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    ids = list(range(first, first + len(rows)))
    if not rows:
        return ids
    names = ["id", *rows[0]]
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
    )
    values = [(new_id, *row.values()) for new_id, row in zip(ids, rows, strict=True)]
    conn.exec_driver_sql(sql, values)
    return ids


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
