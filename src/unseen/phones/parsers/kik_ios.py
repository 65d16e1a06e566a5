"""Kik for iOS: ``kik.sqlite`` (a Core Data store in the app's Documents).

``ZKIKMESSAGE``: ``ZBODY``, ``ZTYPE`` (1 received, 2 sent, 3 group admin, 4 received in
a group), ``ZTIMESTAMP`` (seconds since 2001-01-01 UTC), ``ZUSER`` -> ``ZKIKUSER``
(``ZUSERNAME``, ``ZDISPLAYNAME``, ``ZJID``); chats in ``ZKIKCHAT`` (``ZUSER``: the
partner or the group) joined to messages through ``Z_3MESSAGES``; attachments in
``ZKIKATTACHMENT`` (``ZMESSAGE``, ``ZCONTENT``: the content id its file is named by,
under the app's ``Attachments`` folder).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any, ClassVar

from unseen.internet.base import ParseContext
from unseen.internet.sqlite import tables
from unseen.phones.base import MESSAGE_PARSERS, SqliteMessageParser, from_wal
from unseen.phones.model import RECEIVED, SENT, Attachment, Conversation, Extract, Message
from unseen.phones.times import apple

APP = "Kik"
SENT_TYPE = 2
GROUP_TYPES = {3, 4}
USERS = "SELECT Z_PK, ZUSERNAME, ZDISPLAYNAME, ZJID, ZGROUPTAG FROM ZKIKUSER"
CHATS = "SELECT Z_PK, ZUSER FROM ZKIKCHAT"
CHAT_MESSAGES = "SELECT Z_3CHAT, Z_5MESSAGES FROM Z_3MESSAGES"
ATTACHMENTS = "SELECT ZMESSAGE, ZCONTENT FROM ZKIKATTACHMENT WHERE ZCONTENT IS NOT NULL"
MESSAGES = "SELECT Z_PK, ZTYPE, ZTIMESTAMP, ZBODY, ZUSER, ZSTATE FROM ZKIKMESSAGE ORDER BY Z_PK"


class KikIos(SqliteMessageParser):
    NAME = "kik_ios"
    VERSION = "1"
    DESCRIPTION = "Kik for iOS kik.sqlite: chats, users, messages, attachments"
    APP = APP
    PATH_GLOBS = ("**/kik.sqlite",)
    REQUIRED_TABLES: ClassVar[tuple[str, ...]] = ("ZKIKMESSAGE", "ZKIKUSER")
    WAL_KEYS = "SELECT Z_PK FROM ZKIKMESSAGE"

    def parse_db(
        self, ctx: ParseContext, conn: sqlite3.Connection, checkpointed: set[object] | None
    ) -> Extract:
        out = Extract(APP)
        users = {
            int(pk): (str(name or jid or f"user:{pk}"), display, bool(group))
            for pk, name, display, jid, group in conn.execute(USERS)
        }
        found = tables(conn)
        chat_of = _chats(conn, out, users, found)
        files: dict[int, list[Attachment]] = defaultdict(list)
        if "ZKIKATTACHMENT" in found:
            for message, content in conn.execute(ATTACHMENTS):
                files[int(message)].append(Attachment(f"Attachments/{content}", str(content)))
        for pk, kind, stamp, body, user, state in conn.execute(MESSAGES):
            sent = kind == SENT_TYPE
            who = users.get(user)
            sender = None
            if not sent and who and not who[2]:
                sender = out.contact(who[0], who[1])
            key = chat_of.get(pk) or (_direct(out, who) if who else None)
            utc, raw, epoch = apple(stamp)
            out.messages.append(
                Message(
                    f"ZKIKMESSAGE Z_PK {pk}", key, sender, SENT if sent else RECEIVED, utc, raw,
                    epoch, body, None if state is None else f"state {state}",
                    from_wal(pk, checkpointed), tuple(files.get(pk, ())),
                )
            )  # fmt: skip
        return out


def _direct(out: Extract, who: tuple[str, Any, bool]) -> str:
    """The one-to-one conversation with a user, created on first use."""
    key = f"user:{who[0]}"
    if not any(c.key == key for c in out.conversations):
        handle = out.contact(who[0], who[1])
        out.conversations.append(Conversation(key, who[1] or who[0], False, (handle,), key))
    return key


def _chats(
    conn: sqlite3.Connection, out: Extract, users: dict[int, tuple[str, Any, bool]],
    found: set[str],
) -> dict[Any, str]:  # fmt: skip
    """Message Z_PK -> conversation key, from ZKIKCHAT and Z_3MESSAGES."""
    if not {"ZKIKCHAT", "Z_3MESSAGES"} <= found:
        return {}
    keys: dict[int, str] = {}
    for pk, user in conn.execute(CHATS):
        who = users.get(user, (f"chat:{pk}", None, False))
        keys[int(pk)] = f"chat:{who[0]}"
        members = () if who[2] else (out.contact(who[0], who[1]),)
        out.conversations.append(
            Conversation(keys[int(pk)], who[1] or who[0], who[2], members, f"ZKIKCHAT Z_PK {pk}")
        )
    return {msg: keys[chat] for chat, msg in conn.execute(CHAT_MESSAGES) if chat in keys}


MESSAGE_PARSERS.register(KikIos)
