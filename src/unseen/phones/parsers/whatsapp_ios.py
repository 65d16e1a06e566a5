"""WhatsApp for iOS: ``ChatStorage.sqlite`` in the app's shared group container.

A Core Data store: ``ZWACHATSESSION`` (chats: ``ZCONTACTJID``, ``ZPARTNERNAME``,
``ZSESSIONTYPE`` 1 for groups), ``ZWAMESSAGE`` (``ZISFROMME``, ``ZMESSAGEDATE`` in
seconds since 2001-01-01 UTC, ``ZTEXT``, ``ZFROMJID``, ``ZGROUPMEMBER``),
``ZWAMEDIAITEM`` (``ZMEDIALOCALPATH`` relative to the container, ``ZFILESIZE``) and
``ZWAGROUPMEMBER`` (``ZMEMBERJID``, ``ZCONTACTNAME``).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import ClassVar

from unseen.internet.base import ParseContext
from unseen.internet.sqlite import columns, tables
from unseen.phones.base import MESSAGE_PARSERS, SqliteMessageParser, from_wal
from unseen.phones.model import RECEIVED, SENT, Attachment, Conversation, Extract, Message
from unseen.phones.times import apple

APP = "WhatsApp"
GROUP_SESSION = 1
STATUS = {0: "pending", 1: "sent to server", 2: "delivered", 3: "read", 4: "played"}

SESSIONS = "SELECT Z_PK, ZCONTACTJID, ZPARTNERNAME, ZSESSIONTYPE FROM ZWACHATSESSION"
MEMBERS = "SELECT Z_PK, ZCHATSESSION, ZMEMBERJID, ZCONTACTNAME FROM ZWAGROUPMEMBER"
MESSAGES = """
SELECT m.Z_PK, m.ZCHATSESSION, m.ZISFROMME, m.ZMESSAGEDATE, m.ZTEXT, m.ZFROMJID,
       m.ZGROUPMEMBER, m.ZMESSAGESTATUS, {media}
FROM ZWAMESSAGE m {join}
ORDER BY m.Z_PK
"""
MEDIA = "mi.ZMEDIALOCALPATH, mi.ZFILESIZE, {title}"
MEDIA_JOIN = "LEFT JOIN ZWAMEDIAITEM mi ON mi.ZMESSAGE = m.Z_PK"


class WhatsAppIos(SqliteMessageParser):
    NAME = "whatsapp_ios"
    VERSION = "1"
    DESCRIPTION = "WhatsApp for iOS ChatStorage.sqlite"
    APP = APP
    PATH_GLOBS = ("**/ChatStorage.sqlite",)
    REQUIRED_TABLES: ClassVar[tuple[str, ...]] = ("ZWAMESSAGE", "ZWACHATSESSION")
    WAL_KEYS = "SELECT Z_PK FROM ZWAMESSAGE"

    def parse_db(
        self, ctx: ParseContext, conn: sqlite3.Connection, checkpointed: set[object] | None
    ) -> Extract:
        out = Extract(APP)
        members = _members(conn, out)
        chats = _sessions(conn, out, members)
        if "ZWAMEDIAITEM" in tables(conn):
            title = "mi.ZTITLE" if "ZTITLE" in columns(conn, "ZWAMEDIAITEM") else "NULL"
            sql = MESSAGES.format(media=MEDIA.format(title=title), join=MEDIA_JOIN)
        else:
            sql = MESSAGES.format(media="NULL, NULL, NULL", join="")
        for (
            pk,
            chat,
            from_me,
            date,
            text,
            from_jid,
            member,
            status,
            path,
            size,
            title,
        ) in conn.execute(sql):
            key, is_group = chats.get(chat, (f"session:{chat}", False))
            sender = None
            if not from_me:
                who = members.get(member, (None, None))[0] if is_group else None
                sender = (
                    who or (str(from_jid) if from_jid else None) or (None if is_group else key)
                )
                if sender:
                    out.contact(sender)
            utc, raw, epoch = apple(date)
            media = (
                (Attachment(str(path), title, None, size if isinstance(size, int) else None),)
                if path
                else ()
            )
            out.messages.append(
                Message(
                    f"ZWAMESSAGE Z_PK {pk}",
                    key,
                    sender,
                    SENT if from_me else RECEIVED,
                    utc,
                    raw,
                    epoch,
                    text,
                    STATUS.get(status),
                    from_wal(pk, checkpointed),
                    media,
                )
            )
        return out


def _members(conn: sqlite3.Connection, out: Extract) -> dict[int, tuple[str, int]]:
    """Group members by Z_PK -> (jid, session); names go to the contacts."""
    found: dict[int, tuple[str, int]] = {}
    if "ZWAGROUPMEMBER" not in tables(conn):
        return found
    for pk, session, jid, name in conn.execute(MEMBERS):
        if jid:
            found[int(pk)] = (out.contact(str(jid), name), int(session or 0))
    return found


def _sessions(
    conn: sqlite3.Connection, out: Extract, members: dict[int, tuple[str, int]]
) -> dict[int, tuple[str, bool]]:
    by_session: dict[int, set[str]] = defaultdict(set)
    for jid, session in members.values():
        by_session[session].add(jid)
    found: dict[int, tuple[str, bool]] = {}
    for pk, jid, partner, kind in conn.execute(SESSIONS):
        key = str(jid or f"session:{pk}")
        is_group = kind == GROUP_SESSION or key.endswith("@g.us")
        found[int(pk)] = (key, is_group)
        who = by_session[int(pk)] if is_group else {out.contact(key, partner)}
        out.conversations.append(
            Conversation(key, partner, is_group, tuple(sorted(who)), f"ZWACHATSESSION Z_PK {pk}")
        )
    return found


MESSAGE_PARSERS.register(WhatsAppIos)
