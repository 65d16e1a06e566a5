"""Reads of conversations and messages for the command line and the review views.

Plain dictionaries and small records; evidence text is returned as stored (callers
escape it for their medium).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from unseen.phones.facts import contact_label, conversation_label
from unseen.store import schema as s


def conversation_rows(conn: Connection) -> list[dict[str, Any]]:
    """Every conversation with its message and attachment counts and time span."""
    conv, m, a, i = s.msg_conversations, s.messages, s.msg_attachments, s.items
    counts = {
        r.conversation_id: r
        for r in conn.execute(
            select(
                m.c.conversation_id,
                func.count(m.c.id).label("n"),
                func.min(m.c.ts_utc).label("first"),
                func.max(m.c.ts_utc).label("last"),
            ).group_by(m.c.conversation_id)
        )
    }
    files: dict[int | None, int] = dict(
        conn.execute(
            select(m.c.conversation_id, func.count(a.c.id))
            .join(m, m.c.id == a.c.message_id)
            .group_by(m.c.conversation_id)
        ).all()
    )
    rows = conn.execute(
        select(conv, i.c.path).join(i, i.c.id == conv.c.item_id).order_by(conv.c.id)
    ).all()
    out = []
    for r in rows:
        c = counts.get(r.id)
        out.append(
            {
                "id": r.id,
                "app": r.app,
                "conversation": conversation_label(r.title, r.key, bool(r.is_group)),
                "database": r.path,
                "messages": c.n if c else 0,
                "attachments": files.get(r.id, 0),
                "first": c.first if c else None,
                "last": c.last if c else None,
            }
        )
    return out


def message_rows(
    conn: Connection,
    ids: list[int] | None = None,
    conversation: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Messages (by id, or of one conversation), oldest first, with attachment items."""
    m, c = s.messages, s.msg_contacts
    query = select(m, c.c.handle, c.c.name).outerjoin(c, c.c.id == m.c.sender_id)
    if ids is not None:
        query = query.where(m.c.id.in_(ids))
    if conversation is not None:
        query = query.where(m.c.conversation_id == conversation)
    rows = conn.execute(query.order_by(m.c.ts_utc, m.c.id).limit(limit)).all()
    files = attachments_of(conn, [r.id for r in rows])
    return [
        {
            "id": r.id,
            "conversation_id": r.conversation_id,
            "time_utc": r.ts_utc,
            "direction": r.direction,
            "sender": contact_label(r.name, r.handle)
            if r.handle
            else "owner"
            if r.direction == "sent"
            else None,
            "text": r.text,
            "status": r.status,
            "from_wal": bool(r.from_wal),
            "attachment_items": ",".join(
                str(f.item_id) if f.item_id else f"absent:{f.name or f.ref_path}"
                for f in files.get(r.id, [])
            ),
        }
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class AttachmentView:
    id: int
    ref_path: str | None
    name: str | None
    mime: str | None
    item_id: int | None
    link_method: str | None


def attachments_of(conn: Connection, ids: list[int]) -> dict[int, list[AttachmentView]]:
    a = s.msg_attachments
    found: dict[int, list[AttachmentView]] = defaultdict(list)
    if not ids:
        return found
    rows = conn.execute(
        select(
            a.c.id,
            a.c.message_id,
            a.c.ref_path,
            a.c.name,
            a.c.mime,
            a.c.linked_item_id,
            a.c.link_method,
        )
        .where(a.c.message_id.in_(ids))
        .order_by(a.c.id)
    )
    for r in rows:
        found[r.message_id].append(
            AttachmentView(r.id, r.ref_path, r.name, r.mime, r.linked_item_id, r.link_method)
        )
    return found


@dataclass
class Thread:
    """One conversation as the review page shows it."""

    id: int
    app: str
    label: str
    database: str
    is_group: bool
    participants: list[tuple[int, str]]  # contact id, label
    messages: list[dict[str, Any]] = field(default_factory=list)


def thread(conn: Connection, conversation_id: int, limit: int = 5000) -> Thread | None:
    conv, i, pt, c = s.msg_conversations, s.items, s.msg_participants, s.msg_contacts
    head = conn.execute(
        select(conv, i.c.path)
        .join(i, i.c.id == conv.c.item_id)
        .where(conv.c.id == conversation_id)
    ).first()
    if head is None:
        return None
    who = conn.execute(
        select(c.c.id, c.c.name, c.c.handle)
        .join(pt, pt.c.contact_id == c.c.id)
        .where(pt.c.conversation_id == conversation_id)
        .order_by(c.c.handle)
    ).all()
    out = Thread(
        head.id,
        head.app,
        conversation_label(head.title, head.key, bool(head.is_group)),
        head.path,
        bool(head.is_group),
        [(w.id, contact_label(w.name, w.handle)) for w in who],
    )
    m = s.messages
    rows = conn.execute(
        select(m, c.c.handle, c.c.name)
        .outerjoin(c, c.c.id == m.c.sender_id)
        .where(m.c.conversation_id == conversation_id)
        .order_by(m.c.ts_utc, m.c.id)
        .limit(limit)
    ).all()
    files = attachments_of(conn, [r.id for r in rows])
    for r in rows:
        out.messages.append(
            {
                "id": r.id,
                "time_utc": r.ts_utc,
                "direction": r.direction,
                "sender": contact_label(r.name, r.handle) if r.handle else None,
                "sender_id": r.sender_id,
                "text": r.text,
                "status": r.status,
                "from_wal": bool(r.from_wal),
                "record_ref": r.record_ref,
                "attachments": files.get(r.id, []),
            }
        )
    return out


def item_conversations(conn: Connection, item_id: int) -> list[dict[str, Any]]:
    """Where an item was exchanged: "in conversation with X at T", for the item page."""
    p, c, conv = s.media_provenance, s.msg_contacts, s.msg_conversations
    rows = conn.execute(
        select(
            p.c.app,
            p.c.direction,
            p.c.ts_utc,
            p.c.message_id,
            p.c.conversation_id,
            p.c.source_of_record,
            c.c.id.label("contact_id"),
            c.c.name,
            c.c.handle,
            conv.c.title,
            conv.c.key,
            conv.c.is_group,
        )
        .outerjoin(c, c.c.id == p.c.contact_id)
        .outerjoin(conv, conv.c.id == p.c.conversation_id)
        .where(p.c.item_id == item_id)
        .order_by(p.c.ts_utc, p.c.id)
    ).all()
    return [
        {
            "app": r.app,
            "direction": r.direction,
            "time_utc": r.ts_utc,
            "message_id": r.message_id,
            "conversation_id": r.conversation_id,
            "contact_id": r.contact_id,
            "contact": contact_label(r.name, r.handle) if r.handle else None,
            "conversation": conversation_label(r.title, r.key, bool(r.is_group))
            if r.key
            else None,
            "source_of_record": r.source_of_record,
        }
        for r in rows
    ]
