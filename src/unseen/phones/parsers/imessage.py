"""iOS Messages: ``sms.db`` (iMessage, SMS and MMS in one database).

Handles are phone numbers or Apple IDs (``handle.id``); a chat's participants are in
``chat_handle_join`` and its messages in ``chat_message_join``; attachments in
``attachment`` through ``message_attachment_join``, their ``filename`` under
``~/Library/SMS/Attachments/``. ``message.date`` counts from 2001-01-01 UTC, in
seconds before iOS 11 and nanoseconds since. Text missing from ``text`` is read from
``attributedBody`` (typedstream).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import ClassVar

from unseen.internet.base import ParseContext
from unseen.internet.sqlite import columns, pick
from unseen.phones.base import MESSAGE_PARSERS, SqliteMessageParser, from_wal
from unseen.phones.model import RECEIVED, SENT, Attachment, Conversation, Extract, Message
from unseen.phones.parsers.typedstream import attributed_text
from unseen.phones.times import apple

APP = "iMessage/SMS"
# chat.style: 43 is a group chat, 45 a one-to-one chat.
GROUP_STYLE = 43

CHATS = "SELECT ROWID, guid, chat_identifier, display_name, style FROM chat"
CHAT_HANDLES = "SELECT chat_id, handle_id FROM chat_handle_join"
HANDLES = "SELECT ROWID, id FROM handle"
ATTACHMENTS = """
SELECT j.message_id, a.filename, a.transfer_name, a.mime_type, a.total_bytes
FROM message_attachment_join j JOIN attachment a ON a.ROWID = j.attachment_id
ORDER BY j.message_id, a.ROWID
"""
MESSAGES = """
SELECT m.ROWID, m.text, {body}, m.handle_id, m.service, m.date, m.is_from_me,
       {read}, {delivered}, cmj.chat_id
FROM message m LEFT JOIN chat_message_join cmj ON cmj.message_id = m.ROWID
ORDER BY m.ROWID
"""


class IMessage(SqliteMessageParser):
    NAME = "ios_sms"
    VERSION = "1"
    DESCRIPTION = "iOS Messages sms.db: iMessage, SMS and MMS with attachments"
    APP = APP
    PATH_GLOBS = ("**/Library/SMS/sms.db", "sms.db")
    REQUIRED_TABLES: ClassVar[tuple[str, ...]] = ("message", "handle", "chat")
    WAL_KEYS = "SELECT ROWID FROM message"

    def parse_db(
        self, ctx: ParseContext, conn: sqlite3.Connection, checkpointed: set[object] | None
    ) -> Extract:
        out = Extract(APP)
        handles = {int(rowid): str(h) for rowid, h in conn.execute(HANDLES) if h}
        _owner_accounts(conn, out)
        chats = _chats(conn, out, handles)
        files = _attachments(conn, ctx)
        have = columns(conn, "message")
        sql = MESSAGES.format(
            body=pick(have, "attributedBody"),
            read=pick(have, "is_read"),
            delivered=pick(have, "is_delivered"),
        )
        for (
            rowid,
            text,
            body,
            handle_id,
            service,
            date,
            from_me,
            read,
            delivered,
            chat,
        ) in conn.execute(sql):
            sender = None if from_me else handles.get(handle_id)
            if sender:
                out.contact(sender)
            if text is None and isinstance(body, bytes):
                text = attributed_text(body)
            utc, raw, epoch = apple(date)
            out.messages.append(
                Message(
                    f"message ROWID {rowid}",
                    chats.get(chat),
                    sender,
                    SENT if from_me else RECEIVED,
                    utc,
                    raw,
                    epoch,
                    text,
                    _status(service, from_me, read, delivered),
                    from_wal(rowid, checkpointed),
                    tuple(files.get(rowid, ())),
                )
            )
        return out


def _owner_accounts(conn: sqlite3.Connection, out: Extract) -> None:
    """The phone's own accounts: ``message.account`` of what it sent (``E:`` an Apple ID
    e-mail, ``P:`` a phone number)."""
    if "account" not in columns(conn, "message"):
        return
    rows = conn.execute(
        "SELECT DISTINCT account FROM message WHERE is_from_me = 1 AND account IS NOT NULL "
        "ORDER BY account"
    )
    for (account,) in rows:
        handle = str(account).split(":", 1)[-1]
        if handle:
            out.contact(handle, owner=True)


def _chats(conn: sqlite3.Connection, out: Extract, handles: dict[int, str]) -> dict[int, str]:
    """Conversations by chat ROWID -> their key (the chat guid)."""
    members: dict[int, list[str]] = defaultdict(list)
    for chat_id, handle_id in conn.execute(CHAT_HANDLES):
        if handle_id in handles:
            members[int(chat_id)].append(out.contact(handles[handle_id]))
    keys: dict[int, str] = {}
    for rowid, guid, identifier, display, style in conn.execute(CHATS):
        key = str(guid or identifier or f"chat:{rowid}")
        keys[int(rowid)] = key
        who = tuple(sorted(set(members[int(rowid)])))
        is_group = style == GROUP_STYLE or len(who) > 1
        title = display or (None if is_group else identifier)
        out.conversations.append(Conversation(key, title, is_group, who, f"chat ROWID {rowid}"))
    return keys


def _attachments(conn: sqlite3.Connection, ctx: ParseContext) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = defaultdict(list)
    try:
        rows = conn.execute(ATTACHMENTS).fetchall()
    except sqlite3.DatabaseError as exc:
        ctx.error(f"attachments not read: {exc}")
        return found
    for message_id, filename, transfer, mime, size in rows:
        found[int(message_id)].append(
            Attachment(filename, transfer, mime, size if isinstance(size, int) else None)
        )
    return found


def _status(service: object, from_me: object, read: object, delivered: object) -> str:
    state = (
        ("delivered" if delivered else "not delivered")
        if from_me
        else ("read" if read else "unread")
    )
    return f"{service or 'unknown service'}, {state}"


MESSAGE_PARSERS.register(IMessage)
