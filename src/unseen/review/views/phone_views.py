"""Phones in the review workbench: the conversations, one conversation's thread, the
people a phone exchanged pictures with, and one contact's conversations and media.

Attachments are tiles like the grid's (blurred greyscale thumbnails, revealed only by
holding ``r`` or the mouse, metered and audited by the same routes), and the grid's
keyboard categorising works on them. Reading a conversation or a contact is itself an
audited act: it shows what was said and exchanged.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from unseen.phones.conversations import conversation_rows, thread
from unseen.phones.facts import contact_label
from unseen.phones.people import rank_people
from unseen.review.context import app_context, current_session
from unseen.review.ids import PathId
from unseen.review.views.common import render
from unseen.store import audit
from unseen.store import schema as s


def conversations_page(request: Request) -> Response:
    ctx = app_context(request)
    d, src = s.phone_devices, s.sources
    with ctx.read() as conn:
        rows = conversation_rows(conn)
        devices = conn.execute(
            select(src.c.label, d.c.platform, d.c.name, d.c.model, d.c.os_version, d.c.serial,
                   d.c.imei, d.c.phone_number)
            .join(src, src.c.id == d.c.source_id)
            .order_by(d.c.id)
        ).all()  # fmt: skip
    return render(
        request, "phone_conversations.html", current_session(request), rows=rows,
        devices=devices,
    )  # fmt: skip


def conversation_page(request: Request, conversation_id: PathId) -> Response:
    ctx, session = app_context(request), current_session(request)
    with ctx.read() as conn:
        found = thread(conn, conversation_id)
        if found is None:
            raise HTTPException(status_code=404, detail="no such conversation")
        items = [f.item_id for m in found.messages for f in m["attachments"] if f.item_id]
        tiles = _tile_facts(conn, items)
    with ctx.write() as conn:
        details = {"messages": len(found.messages), "attachments": len(items)}
        target = f"conversation {conversation_id}"
        audit.append(conn, session.user.name, "read_conversation", target, details)
    return render(
        request, "phone_conversation.html", session, t=found, tiles=tiles,
        keys={c.key: c.code for c in ctx.scheme.categories},
    )  # fmt: skip


def people_page(request: Request) -> Response:
    ctx, session = app_context(request), current_session(request)
    with ctx.read() as conn:
        ranked = rank_people(conn)
        ids = _contact_ids(conn)
    with ctx.write() as conn:  # who the phone exchanged pictures with: audited like leads
        audit.append(conn, session.user.name, "view_people", "people", {"people": len(ranked)})
    return render(request, "phone_people.html", session, people=ranked, ids=ids)


def contact_page(request: Request, contact_id: PathId) -> Response:
    ctx, session = app_context(request), current_session(request)
    c, p, conv = s.msg_contacts, s.media_provenance, s.msg_conversations
    with ctx.read() as conn:
        row = conn.execute(select(c).where(c.c.id == contact_id)).first()
        if row is None:
            raise HTTPException(status_code=404, detail="no such contact")
        same = select(c.c.id).where(c.c.app == row.app, c.c.handle == row.handle)
        chats = [
            r for r in conversation_rows(conn)
            if r["id"] in set(conn.execute(
                select(s.msg_participants.c.conversation_id)
                .where(s.msg_participants.c.contact_id.in_(same))
            ).scalars())
        ]  # fmt: skip
        media = conn.execute(
            select(p.c.item_id, p.c.direction, p.c.ts_utc, conv.c.id.label("conversation_id"))
            .outerjoin(conv, conv.c.id == p.c.conversation_id)
            .where(p.c.contact_id.in_(same))
            .order_by(p.c.ts_utc, p.c.id)
        ).all()
        tiles = _tile_facts(conn, [m.item_id for m in media])
    with ctx.write() as conn:
        details = {"conversations": len(chats), "media": len(media)}
        audit.append(conn, session.user.name, "read_contact", f"contact {contact_id}", details)
    return render(
        request, "phone_contact.html", session, label=contact_label(row.name, row.handle),
        app=row.app, chats=chats, media=media, tiles=tiles,
        keys={k.key: k.code for k in ctx.scheme.categories},
    )  # fmt: skip


def _tile_facts(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """What an attachment tile shows: path, whether a thumbnail exists, the reviewer's
    category."""
    if not ids:
        return {}
    i, im, r = s.items, s.images, s.review_state
    rows = conn.execute(
        select(i.c.id, i.c.path, i.c.mime, im.c.thumbnail, r.c.category)
        .outerjoin(im, im.c.item_id == i.c.id)
        .outerjoin(r, r.c.item_id == i.c.id)
        .where(i.c.id.in_(sorted(set(ids))))
    ).all()
    return {
        x.id: {"path": x.path, "mime": x.mime, "thumb": bool(x.thumbnail), "rev": x.category}
        for x in rows
    }


def _contact_ids(conn: Connection) -> dict[str, int]:
    """app|handle -> one contact row id, for links from the people list."""
    c = s.msg_contacts
    found: dict[str, int] = {}
    for cid, app, handle in conn.execute(select(c.c.id, c.c.app, c.c.handle).order_by(c.c.id)):
        found.setdefault(f"{app}|{handle}", int(cid))
    return found
