"""Kik for iOS (``kik.sqlite``, the schema plaso documents): a one-to-one chat with a
picture and a group chat, in an iOS file-system folder."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import select

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.phones.appschemas import KIK_DDL
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import APPLE_T0_S, picture, write

DOCS = "private/var/mobile/Containers/Data/Application/0B7A1C2D-3E4F-4A5B-8C9D-0E1F2A3B4C5D"
CONTENT = "6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"


def test_kik_ios(tmp_path: Path) -> None:
    root = tmp_path / "iphone"
    write(root / DOCS / "Documents/Attachments" / CONTENT, picture(9))
    db = root / DOCS / "Documents/kik.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(KIK_DDL)
    conn.executemany(
        "INSERT INTO ZKIKUSER (Z_PK, ZUSERNAME, ZDISPLAYNAME, ZJID, ZGROUPTAG)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (1, "river_otter", "River", "river_otter_x1@talk.kik.com", None),
            (2, None, "Hiking group", "1100abc_g@groups.kik.com", "#hiking"),
            (3, "trail_mix", "Trail", "trail_mix_y2@talk.kik.com", None),
        ],
    )
    conn.executemany("INSERT INTO ZKIKCHAT (Z_PK, ZUSER) VALUES (?, ?)", [(1, 1), (2, 2)])
    rows = [  # pk, type, seconds after T0, body, user, chat
        (1, 1, 100.0, "hi, is the trail open?", 1, 1),
        (2, 2, 160.5, "yes, photo from this morning", 1, 1),
        (3, 4, 400.0, "meet at the car park", 3, 2),
    ]
    for pk, kind, after, body, user, chat in rows:
        conn.execute(
            "INSERT INTO ZKIKMESSAGE (Z_PK, ZTYPE, ZTIMESTAMP, ZBODY, ZUSER, ZSTATE)"
            " VALUES (?, ?, ?, ?, ?, 1)",
            (pk, kind, APPLE_T0_S + after, body, user),
        )
        conn.execute("INSERT INTO Z_3MESSAGES VALUES (?, ?)", (chat, pk))
    conn.execute(
        "INSERT INTO ZKIKATTACHMENT (Z_PK, ZMESSAGE, ZCONTENT) VALUES (1, 2, ?)", (CONTENT,)
    )
    conn.commit()
    conn.close()
    case = Case.create(tmp_path / "case", name="KIK")
    repo.add_source(case, "folder", str(root), "IPHONE", "tester")
    process_case(case, workers=0, settings=Settings(skip=("deep", "internet", "correlate")))
    m, c, conv, a, i = s.messages, s.msg_contacts, s.msg_conversations, s.msg_attachments, s.items
    with case.engine.connect() as conn2:
        got = conn2.execute(
            select(m.c.record_ref, conv.c.title, conv.c.is_group, c.c.handle, m.c.direction,
                   m.c.ts_utc, m.c.text)
            .join(conv, conv.c.id == m.c.conversation_id)
            .outerjoin(c, c.c.id == m.c.sender_id)
            .where(m.c.app == "Kik")
            .order_by(m.c.id)
        ).all()  # fmt: skip
        tied = (
            conn2.execute(select(i.c.path).join(a, a.c.linked_item_id == i.c.id)).scalars().all()
        )
    assert [tuple(r) for r in got] == [
        ("ZKIKMESSAGE Z_PK 1", "River", False, "river_otter", "received",
         "2024-03-01T00:01:40.000000Z", "hi, is the trail open?"),
        ("ZKIKMESSAGE Z_PK 2", "River", False, None, "sent", "2024-03-01T00:02:40.500000Z",
         "yes, photo from this morning"),
        ("ZKIKMESSAGE Z_PK 3", "Hiking group", True, "trail_mix", "received",
         "2024-03-01T00:06:40.000000Z", "meet at the car park"),
    ]  # fmt: skip
    assert list(tied) == [f"{DOCS}/Documents/Attachments/{CONTENT}"]
