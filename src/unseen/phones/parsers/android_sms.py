"""Android SMS and MMS: ``mmssms.db`` of the telephony provider, with the MMS parts kept
as files in its ``app_parts`` folder.

``sms``: ``thread_id``, ``address``, ``date`` (milliseconds since 1970), ``type`` (1
received, 2 sent, 3 draft, 4 outbox, 5 failed, 6 queued), ``body``. ``pdu`` (MMS):
``thread_id``, ``date`` in SECONDS, ``msg_box`` (1 received, 2 sent); its ``part`` rows
(``ct`` content type, ``text``, ``_data`` the file under ``app_parts``) and ``addr`` rows
(``type`` 137 is the sender). ``threads.recipient_ids`` lists ``canonical_addresses``.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any, ClassVar

from unseen.internet.base import ParseContext
from unseen.internet.sqlite import tables
from unseen.phones.base import MESSAGE_PARSERS, SqliteMessageParser, from_wal
from unseen.phones.model import RECEIVED, SENT, Attachment, Conversation, Extract, Message
from unseen.phones.times import unix_ms

APP = "Android SMS/MMS"
SMS_TYPES = {1: "received", 2: "sent", 3: "draft", 4: "outbox", 5: "failed", 6: "queued"}
OUTGOING = {2, 3, 4, 5, 6}
MMS_SENT_BOX = 2
FROM = 137

SMS = "SELECT _id, thread_id, address, date, type, body, read FROM sms ORDER BY _id"
MMS = "SELECT _id, thread_id, date, msg_box, read FROM pdu ORDER BY _id"
PARTS = "SELECT mid, ct, name, cl, _data, text FROM part ORDER BY mid, seq, _id"
ADDRS = "SELECT msg_id, address, type FROM addr"
THREADS = "SELECT _id, recipient_ids FROM threads"
CANONICAL = "SELECT _id, address FROM canonical_addresses"


class AndroidSms(SqliteMessageParser):
    NAME = "android_sms"
    VERSION = "1"
    DESCRIPTION = "Android mmssms.db: SMS and MMS with their app_parts attachments"
    APP = APP
    PATH_GLOBS = ("**/com.android.providers.telephony/databases/mmssms.db",)
    REQUIRED_TABLES: ClassVar[tuple[str, ...]] = ("sms",)
    WAL_KEYS = "SELECT _id FROM sms"

    def parse_db(
        self, ctx: ParseContext, conn: sqlite3.Connection, checkpointed: set[object] | None
    ) -> Extract:
        out = Extract(APP)
        found = tables(conn)
        keys = _threads(conn, out, found)
        for mid, thread, address, date, kind, body, read in conn.execute(SMS):
            sent = kind in OUTGOING
            sender = None if sent or not address else out.contact(str(address))
            utc, raw, epoch = unix_ms(date)
            out.messages.append(
                Message(
                    f"sms _id {mid}", keys.get(thread) or _key(out, thread, address), sender,
                    SENT if sent else RECEIVED, utc, raw, epoch, body,
                    SMS_TYPES.get(kind, str(kind)) if sent else ("read" if read else "unread"),
                    from_wal(mid, checkpointed),
                )
            )  # fmt: skip
        if {"pdu", "part"} <= found:
            _mms(conn, out, keys, found)
        return out


def _key(out: Extract, thread: object, address: object) -> str:
    """A conversation for a message whose thread the threads table does not list."""
    key = f"thread:{thread}"
    if not any(c.key == key for c in out.conversations):
        who = (out.contact(str(address)),) if address else ()
        out.conversations.append(Conversation(key, str(address or ""), False, who, key))
    return key


def _threads(conn: sqlite3.Connection, out: Extract, found: set[str]) -> dict[Any, str]:
    if not {"threads", "canonical_addresses"} <= found:
        return {}
    addresses = {int(i): str(a) for i, a in conn.execute(CANONICAL) if a}
    keys: dict[Any, str] = {}
    for tid, recipients in conn.execute(THREADS):
        who = [addresses[int(x)] for x in str(recipients or "").split() if x.isdigit()]
        who = [out.contact(w) for w in who if w]
        key = f"thread:{tid}"
        keys[tid] = key
        out.conversations.append(
            Conversation(key, ", ".join(who) or None, len(who) > 1, tuple(sorted(who)),
                         f"threads _id {tid}")
        )  # fmt: skip
    return keys


def _mms(conn: sqlite3.Connection, out: Extract, keys: dict[Any, str], found: set[str]) -> None:
    texts: dict[int, list[str]] = defaultdict(list)
    files: dict[int, list[Attachment]] = defaultdict(list)
    for mid, ct, name, cl, data, text in conn.execute(PARTS):
        if ct == "text/plain" and text:
            texts[int(mid)].append(str(text))
        elif ct and ct != "application/smil" and data:
            files[int(mid)].append(Attachment(str(data), name or cl, ct))
    senders: dict[int, str] = {}
    if "addr" in found:
        for msg_id, address, kind in conn.execute(ADDRS):
            if kind == FROM and address and address != "insert-address-token":
                senders[int(msg_id)] = str(address)
    for mid, thread, date, box, read in conn.execute(MMS):
        sent = box == MMS_SENT_BOX
        sender = None if sent or mid not in senders else out.contact(senders[mid])
        utc = unix_ms(date * 1000 if isinstance(date, int | float) else date)[0]
        out.messages.append(
            Message(
                f"pdu _id {mid}", keys.get(thread) or _key(out, thread, senders.get(mid)),
                sender, SENT if sent else RECEIVED, utc, str(date), "unix_s",
                "\n".join(texts.get(mid, [])) or None, "read" if read or sent else "unread",
                False, tuple(files.get(mid, [])),
            )
        )  # fmt: skip


MESSAGE_PARSERS.register(AndroidSms)
