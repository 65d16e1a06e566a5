"""The message export: one record per message, with the conversation, the sender and
every attachment (the case item it was tied to, with that item's hashes).

Keys are an interface other tools read: later versions add keys, never rename or
remove them. JSON Lines writes the record as is; CSV flattens it (``conversation.key``)
and adds ``attachment_item_ids`` and ``attachment_sha256`` (``;``-separated) so a
spreadsheet can filter on them, with the whole attachment list as JSON text.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import Connection, select

from unseen.core.errors import UserError
from unseen.reports.csv_export import cell, flatten
from unseen.reports.jsonl import write_jsonl
from unseen.reports.registry import Exporter
from unseen.store import schema as s
from unseen.store.case import Case

PAGE = 2000


def iter_message_records(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every message as an export record, by conversation then time."""
    m, i, src = s.messages, s.items, s.sources
    conv, c = s.msg_conversations, s.msg_contacts
    query = (
        select(
            m,
            i.c.path,
            src.c.label,
            conv.c.key,
            conv.c.title,
            conv.c.is_group,
            c.c.handle,
            c.c.name,
        )
        .select_from(
            m.join(i, i.c.id == m.c.item_id)
            .join(src, src.c.id == i.c.source_id)
            .outerjoin(conv, conv.c.id == m.c.conversation_id)
            .outerjoin(c, c.c.id == m.c.sender_id)
        )
        .order_by(m.c.id)
    )
    after = 0
    while True:
        rows = conn.execute(query.where(m.c.id > after).limit(PAGE)).all()
        if not rows:
            return
        files = _attachments(conn, [r.id for r in rows])
        for r in rows:
            yield {
                "id": r.id,
                "app": r.app,
                "source": r.label,
                "database_path": r.path,
                "record_ref": r.record_ref,
                "conversation": {"key": r.key, "title": r.title, "is_group": r.is_group}
                if r.key is not None
                else None,
                "direction": r.direction,
                "sender": {"handle": r.handle, "name": r.name} if r.handle else None,
                "ts_utc": r.ts_utc,
                "ts_raw": r.ts_raw,
                "ts_epoch": r.ts_epoch,
                "text": r.text,
                "status": r.status,
                "from_wal": bool(r.from_wal),
                "attachments": files.get(r.id, []),
            }
        after = rows[-1].id


def _attachments(conn: Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    a, i = s.msg_attachments, s.items
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = conn.execute(
        select(a, i.c.path, i.c.md5, i.c.sha1, i.c.sha256.label("item_sha256"))
        .select_from(a.outerjoin(i, i.c.id == a.c.linked_item_id))
        .where(a.c.message_id.in_(ids))
        .order_by(a.c.id)
    )
    for r in rows:
        found[r.message_id].append(
            {
                "ref_path": r.ref_path,
                "name": r.name,
                "mime": r.mime,
                "size": r.size,
                "sha256_recorded": r.sha256,
                "item_id": r.linked_item_id,
                "item_path": r.path,
                "md5": r.md5,
                "sha1": r.sha1,
                "sha256": r.item_sha256,
                "link_method": r.link_method,
                "absent": bool(r.absent),
            }
        )
    return found


class MessagesExporter(Exporter):
    """Messages as JSON Lines or CSV (``--what messages`` with ``--format jsonl|csv``)."""

    NAME = "messages"
    DESCRIPTION = "one record per message with its attachments' item ids and hashes"
    WHAT = ("messages",)
    FORMATS = ("jsonl", "csv")

    def __init__(self, fmt: str) -> None:
        if fmt not in self.FORMATS:
            raise UserError(f"messages export as {fmt!r} is not available (jsonl or csv)")
        self.fmt = fmt

    def export(self, case: Case, out: IO[str], what: str, options: dict[str, str]) -> int:
        if what != "messages":
            raise UserError(f"this exporter writes messages, not {what!r}")
        excel_safe = options.get("excel_safe", "true").lower() not in ("false", "0", "no")
        with case.engine.connect() as conn:
            records = iter_message_records(conn)
            if self.fmt == "jsonl":
                return write_jsonl(records, out)
            return _csv(records, out, excel_safe)


CSV_COLUMNS = (
    "id",
    "app",
    "source",
    "database_path",
    "record_ref",
    "conversation.key",
    "conversation.title",
    "conversation.is_group",
    "direction",
    "sender.handle",
    "sender.name",
    "ts_utc",
    "ts_raw",
    "ts_epoch",
    "text",
    "status",
    "from_wal",
    "attachment_item_ids",
    "attachment_sha256",
    "attachments",
)


def _csv(records: Iterator[dict[str, Any]], out: IO[str], excel_safe: bool) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in records:
        flat = flatten(record)
        files = record["attachments"]
        flat["attachment_item_ids"] = ";".join(str(f["item_id"]) for f in files if f["item_id"])
        flat["attachment_sha256"] = ";".join(f["sha256"] for f in files if f["sha256"])
        writer.writerow([cell(flat.get(name), excel_safe) for name in CSV_COLUMNS])
        count += 1
    return count
