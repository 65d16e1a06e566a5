"""Provenance facts as the lead groupings and signals read them: one row per tied
picture and message, with the contact and conversation named for a person to read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from unseen.store import schema as s


@dataclass(frozen=True, slots=True)
class Exchange:
    item_id: int
    app: str
    direction: str
    contact_key: str | None  # app|handle: one person across databases of the same app
    contact_label: str | None
    conversation_id: int | None
    conversation_key: str | None  # database item|app chat id: stable across reruns
    conversation_label: str | None
    ts_utc: str | None
    source_of_record: str


def exchanges(conn: Connection) -> list[Exchange]:
    """Every provenance fact from messages, oldest first."""
    p, c, conv = s.media_provenance, s.msg_contacts, s.msg_conversations
    rows = conn.execute(
        select(
            p.c.item_id,
            p.c.db_item_id,
            p.c.app,
            p.c.direction,
            c.c.handle,
            c.c.name,
            p.c.conversation_id,
            conv.c.title,
            conv.c.key,
            conv.c.is_group,
            p.c.ts_utc,
            p.c.source_of_record,
        )
        .outerjoin(c, c.c.id == p.c.contact_id)
        .outerjoin(conv, conv.c.id == p.c.conversation_id)
        .where(p.c.message_id.is_not(None))
        .order_by(p.c.ts_utc, p.c.id)
    )
    return [
        Exchange(
            r.item_id,
            r.app,
            r.direction,
            f"{r.app}|{r.handle}" if r.handle else None,
            contact_label(r.name, r.handle) if r.handle else None,
            r.conversation_id,
            f"{r.db_item_id}|{r.key}" if r.key else None,
            conversation_label(r.title, r.key, bool(r.is_group)) if r.key else None,
            r.ts_utc,
            r.source_of_record,
        )
        for r in rows
    ]


def contact_label(name: str | None, handle: str) -> str:
    return f"{name} ({handle})" if name else handle


def conversation_label(title: str | None, key: str, is_group: bool) -> str:
    if is_group:
        return f"group {title!r}" if title else f"group {key}"
    return f"chat with {title}" if title else f"chat {key}"
