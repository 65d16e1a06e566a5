"""WhatsApp for Android before 2022 (the legacy ``messages`` table): directions, group
senders, times and a picture tied by its base64 SHA-256."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from pathlib import Path

from sqlalchemy import select

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.phones.appschemas import MSGSTORE_LEGACY_DDL
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import T0_MS, picture, write

DB = "data/data/com.whatsapp/databases/msgstore.db"
PIC = "data/media/0/WhatsApp/Media/WhatsApp Images/IMG-20190301-WA0001.jpg"


def test_whatsapp_legacy_schema(tmp_path: Path) -> None:
    root = tmp_path / "android"
    data = picture(10)
    write(root / PIC, data)
    (root / DB).parent.mkdir(parents=True)
    conn = sqlite3.connect(root / DB)
    conn.executescript(MSGSTORE_LEGACY_DDL)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    rows = [  # id, jid, from_me, status, ms after T0, text, resource, mime, hash
        (1, "447700900111@s.whatsapp.net", 0, 0, 0, "old phone, same garden", None, None, None),
        (2, "447700900111@s.whatsapp.net", 1, 13, 5_000, None, None, "image/jpeg", digest),
        (3, "120363000000000009@g.us", 0, 0, 9_000, "hello all", "447700900222@s.whatsapp.net",
         None, None),
    ]  # fmt: skip
    for mid, jid, me, status, after, text, resource, mime, mhash in rows:
        conn.execute(
            "INSERT INTO messages (_id, key_remote_jid, key_from_me, key_id, status, data,"
            " timestamp, remote_resource, media_mime_type, media_size, media_name, media_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (mid, jid, me, f"K{mid}", status, text, T0_MS + after, resource, mime,
             len(data) if mime else None, "IMG-20190301-WA0001.jpg" if mime else None, mhash),
        )  # fmt: skip
    conn.commit()
    conn.close()
    case = Case.create(tmp_path / "case", name="LEGACY")
    repo.add_source(case, "folder", str(root), "ANDROID", "tester")
    process_case(case, workers=0, settings=Settings(skip=("deep", "internet", "correlate")))
    m, c, conv, a, i = s.messages, s.msg_contacts, s.msg_conversations, s.msg_attachments, s.items
    with case.engine.connect() as conn2:
        got = conn2.execute(
            select(m.c.record_ref, conv.c.key, c.c.handle, m.c.direction, m.c.ts_utc, m.c.text,
                   m.c.status)
            .join(conv, conv.c.id == m.c.conversation_id)
            .outerjoin(c, c.c.id == m.c.sender_id)
            .order_by(m.c.id)
        ).all()  # fmt: skip
        tied = conn2.execute(
            select(i.c.path, a.c.link_method).join(a, a.c.linked_item_id == i.c.id)
        ).all()
    assert [tuple(r) for r in got] == [
        ("messages _id 1", "447700900111@s.whatsapp.net", "447700900111@s.whatsapp.net",
         "received", "2024-03-01T11:00:00.000000Z", "old phone, same garden", "received"),
        ("messages _id 2", "447700900111@s.whatsapp.net", None, "sent",
         "2024-03-01T11:00:05.000000Z", None, "read"),
        ("messages _id 3", "120363000000000009@g.us", "447700900222@s.whatsapp.net",
         "received", "2024-03-01T11:00:09.000000Z", "hello all", "received"),
    ]  # fmt: skip
    assert [tuple(r) for r in tied] == [(PIC, "sha256")]
