"""Android ``mmssms.db``: SMS and MMS with their ``app_parts`` file, in a real case."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import select

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.phones.appschemas import MEDIASTORE_DDL, MMSSMS_DDL
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import T0_MS, picture, write

TELEPHONY = "data/user_de/0/com.android.providers.telephony"
PART = f"{TELEPHONY}/app_parts/PART_1709291000000_IMG_0042.jpg"


def _mmssms(root: Path) -> None:
    write(root / PART, picture(6))
    db = root / TELEPHONY / "databases/mmssms.db"
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.executescript(MMSSMS_DDL)
    conn.execute("INSERT INTO canonical_addresses VALUES (1, '+447700900777')")
    conn.execute("INSERT INTO threads (_id, recipient_ids) VALUES (1, '1')")
    conn.executemany(
        "INSERT INTO sms (_id, thread_id, address, date, type, body, read)"
        " VALUES (?, 1, '+447700900777', ?, ?, ?, ?)",
        [(1, T0_MS, 1, "bus is late, ten minutes", 1), (2, T0_MS + 30_000, 2, "no problem", 1)],
    )
    conn.execute(
        "INSERT INTO pdu (_id, thread_id, date, msg_box, read, m_type)"
        " VALUES (1, 1, ?, 1, 0, 132)",
        (T0_MS // 1000 + 200,),
    )
    conn.executemany(
        "INSERT INTO part (_id, mid, seq, ct, name, cl, _data, text)"
        " VALUES (?, 1, ?, ?, ?, ?, ?, ?)",
        [
            (1, -1, "application/smil", None, "smil.xml", None, "<smil/>"),
            (2, 0, "image/jpeg", "IMG_0042.jpg", "IMG_0042.jpg", "/" + PART, None),
            (3, 1, "text/plain", None, "text_0.txt", None, "the view from the bus stop"),
        ],
    )
    conn.execute("INSERT INTO addr VALUES (1, 1, NULL, '+447700900777', 137, 106)")
    conn.execute("INSERT INTO addr VALUES (2, 1, NULL, 'insert-address-token', 151, 106)")
    conn.commit()
    conn.close()


def test_android_sms_and_mms(tmp_path: Path) -> None:
    _mmssms(tmp_path / "android")
    case = Case.create(tmp_path / "case", name="SMS")
    repo.add_source(case, "folder", str(tmp_path / "android"), "ANDROID", "tester")
    process_case(case, workers=0, settings=Settings(skip=("deep", "internet", "correlate")))
    m, c, conv, a, i = s.messages, s.msg_contacts, s.msg_conversations, s.msg_attachments, s.items
    with case.engine.connect() as conn:
        rows = conn.execute(
            select(
                m.c.record_ref,
                conv.c.key,
                c.c.handle,
                m.c.direction,
                m.c.ts_utc,
                m.c.ts_epoch,
                m.c.text,
                m.c.status,
            )
            .outerjoin(conv, conv.c.id == m.c.conversation_id)
            .outerjoin(c, c.c.id == m.c.sender_id)
            .order_by(m.c.id)
        ).all()
        files = conn.execute(
            select(a.c.mime, a.c.link_method, i.c.path).join(i, i.c.id == a.c.linked_item_id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (
            "sms _id 1",
            "thread:1",
            "+447700900777",
            "received",
            "2024-03-01T11:00:00.000000Z",
            "unix_ms",
            "bus is late, ten minutes",
            "read",
        ),
        (
            "sms _id 2",
            "thread:1",
            None,
            "sent",
            "2024-03-01T11:00:30.000000Z",
            "unix_ms",
            "no problem",
            "sent",
        ),
        (
            "pdu _id 1",
            "thread:1",
            "+447700900777",
            "received",
            "2024-03-01T11:03:20.000000Z",
            "unix_s",
            "the view from the bus stop",
            "unread",
        ),
    ]
    assert [tuple(f) for f in files] == [("image/jpeg", "path", PART)]


def test_android_mediastore_provenance(tmp_path: Path) -> None:
    root = tmp_path / "android"
    write(root / "data/media/0/DCIM/Camera/PXL_20240301_110000.jpg", picture(7))
    write(root / "data/media/0/Pictures/WhatsApp/IMG-20240301-WA0009.jpg", picture(8))
    db = root / "data/data/com.android.providers.media.module/databases/external.db"
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.executescript(MEDIASTORE_DDL)
    rows = [  # id, path, owner, taken, trashed
        (1, "/storage/emulated/0/DCIM/Camera/PXL_20240301_110000.jpg",
         "com.google.android.GoogleCamera", T0_MS, 0),
        (2, "/storage/emulated/0/Pictures/WhatsApp/IMG-20240301-WA0009.jpg", "com.whatsapp",
         T0_MS + 60_000, 1),
        (3, "/storage/emulated/0/Download/tiles.jpg", "com.android.chrome", T0_MS + 120_000, 0),
    ]  # fmt: skip
    for rowid, path, owner, taken, trashed in rows:
        conn.execute(
            "INSERT INTO files (_id, _data, media_type, owner_package_name, datetaken,"
            " is_trashed, mime_type) VALUES (?, ?, 1, ?, ?, ?, 'image/jpeg')",
            (rowid, path, owner, taken, trashed),
        )
    conn.execute("INSERT INTO files (_id, _data, media_type) VALUES (4, '/storage/x.txt', 0)")
    conn.commit()
    conn.close()
    case = Case.create(tmp_path / "case", name="MEDIA")
    repo.add_source(case, "folder", str(root), "ANDROID", "tester")
    process_case(case, workers=0, settings=Settings(skip=("deep", "internet", "correlate")))
    ma, i = s.media_assets, s.items
    with case.engine.connect() as conn2:
        assets = conn2.execute(
            select(ma.c.ref_path, ma.c.direction, ma.c.app, ma.c.ts_utc, ma.c.deleted,
                   i.c.path)
            .outerjoin(i, i.c.id == ma.c.linked_item_id)
            .order_by(ma.c.id)
        ).all()  # fmt: skip
    assert [tuple(r) for r in assets] == [
        ("DCIM/Camera/PXL_20240301_110000.jpg", "captured", "com.google.android.GoogleCamera",
         "2024-03-01T11:00:00.000000Z", False, "data/media/0/DCIM/Camera/PXL_20240301_110000.jpg"),
        ("Pictures/WhatsApp/IMG-20240301-WA0009.jpg", "saved", "com.whatsapp",
         "2024-03-01T11:01:00.000000Z", True,
         "data/media/0/Pictures/WhatsApp/IMG-20240301-WA0009.jpg"),
        ("Download/tiles.jpg", "downloaded", "com.android.chrome", "2024-03-01T11:02:00.000000Z",
         False, None),
    ]  # fmt: skip
