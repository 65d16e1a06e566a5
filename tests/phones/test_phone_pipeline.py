"""Phone extractions through the real pipeline: an Android extraction (WhatsApp) and an
iOS file system (Messages) processed by ``process_case``; exact messages, times,
directions, attachment links and provenance."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, insert, select

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.phones.stage import PhonesStage
from unseen.sources.base import detect_kind
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import (
    CAMERA_ORIGINAL,
    JO,
    SAM,
    SMS_ATTACHMENT,
    WA_MEDIA,
    ios_sms,
    whatsapp_android,
    write,
)

SKIP = ("deep", "internet")
BUILD_PROP = b"""# begin build properties
ro.build.id=UP1A.231005.007
ro.build.version.release=14
ro.product.manufacturer=Google
ro.product.model=Pixel 7
ro.product.name=panther
ro.serialno=28021FDH300XYZ
"""


@dataclass
class Built:
    case: Case
    pics: dict[str, bytes]
    sms_pic: bytes


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("phones")
    android = root / "android"
    pics = whatsapp_android(android)
    write(android / "system/build.prop", BUILD_PROP)
    write(
        android / "data/media/0/WhatsApp/Databases/msgstore-2024-02-29.1.db.crypt14", b"\x00" * 300
    )
    # A damaged copy of a database elsewhere: recorded, nothing else lost.
    write(
        android / "data/data/com.whatsapp.w4b/databases/msgstore.db",
        b"SQLite format 3\x00" + b"\x07" * 2000,
    )
    # An Android extraction as acquisition tools write it: a TAR made by GNU tar.
    tar = root / "android.tar"
    subprocess.run(["tar", "-cf", str(tar), "-C", str(android), "data", "system"], check=True)
    iphone = root / "iphone"
    sms_pic = ios_sms(iphone / "private/var/mobile")
    case = Case.create(root / "case", name="PHONES")
    repo.add_source(case, detect_kind(tar), str(tar), "ANDROID", "tester")
    repo.add_source(case, "folder", str(iphone), "IPHONE", "tester")
    process_case(case, workers=0, settings=Settings(skip=SKIP))
    return Built(case, pics, sms_pic)


def _messages(case: Case, app: str) -> list[tuple[object, ...]]:
    m, c, conv = s.messages, s.msg_contacts, s.msg_conversations
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
                m.c.from_wal,
            )
            .outerjoin(conv, conv.c.id == m.c.conversation_id)
            .outerjoin(c, c.c.id == m.c.sender_id)
            .where(m.c.app == app)
            .order_by(m.c.id)
        )
        return [tuple(r) for r in rows]


def test_whatsapp_android_messages(built: Built) -> None:
    assert _messages(built.case, "WhatsApp") == [
        (
            "message _id 1",
            SAM,
            SAM,
            "received",
            "2024-03-01T11:00:00.000000Z",
            "unix_ms",
            "hello, are you at the allotment?",
            False,
        ),
        (
            "message _id 2",
            SAM,
            None,
            "sent",
            "2024-03-01T11:01:00.000000Z",
            "unix_ms",
            "the new raised beds",
            False,
        ),
        (
            "message _id 3",
            SAM,
            SAM,
            "received",
            "2024-03-01T11:02:00.000000Z",
            "unix_ms",
            None,
            False,
        ),
        (
            "message _id 4",
            JO,
            JO,
            "received",
            "2024-03-01T11:03:00.000000Z",
            "unix_ms",
            None,
            False,
        ),
        (
            "message _id 5",
            "120363000000000001@g.us",
            JO,
            "received",
            "2024-03-01T11:04:00.000000Z",
            "unix_ms",
            "meeting at six by the shed",
            False,
        ),
        (
            "message _id 6",
            SAM,
            None,
            "sent",
            "2024-03-01T11:05:00.000000Z",
            "unix_ms",
            "see you there",
            True,
        ),
    ]


def test_whatsapp_contacts_and_conversations(built: Built) -> None:
    c, conv = s.msg_contacts, s.msg_conversations
    with built.case.engine.connect() as conn:
        contacts = conn.execute(
            select(c.c.handle, c.c.name, c.c.owner)
            .where(c.c.app == "WhatsApp")
            .order_by(c.c.handle)
        ).all()
        chats = conn.execute(
            select(conv.c.key, conv.c.title, conv.c.is_group)
            .where(conv.c.app == "WhatsApp")
            .order_by(conv.c.id)
        ).all()
    assert [tuple(r) for r in contacts] == [
        (SAM, "Sam Carter", False),
        (JO, "Jo", False),
        ("447700900999@s.whatsapp.net", None, True),
    ]
    assert [tuple(r) for r in chats] == [
        (SAM, "Sam Carter", False),
        (JO, "Jo", False),
        ("120363000000000001@g.us", "Allotment club", True),
    ]


def _attachments(case: Case) -> list[tuple[object, ...]]:
    a, m, i = s.msg_attachments, s.messages, s.items
    with case.engine.connect() as conn:
        rows = conn.execute(
            select(m.c.record_ref, a.c.ref_path, i.c.path, a.c.link_method, a.c.absent)
            .join(m, m.c.id == a.c.message_id)
            .outerjoin(i, i.c.id == a.c.linked_item_id)
            .order_by(a.c.id)
        )
        return [tuple(r) for r in rows]


def test_attachments_tied_by_hash_and_path(built: Built) -> None:
    sent = f"{WA_MEDIA}/Media/WhatsApp Images/Sent/IMG-20240301-WA0002.jpg"
    got = f"{WA_MEDIA}/Media/WhatsApp Images/IMG-20240301-WA0003.jpg"
    assert _attachments(built.case) == [
        (
            "message _id 2",
            "Media/WhatsApp Images/Sent/IMG-20240301-WA0002.jpg",
            sent,
            "sha256",
            False,
        ),
        ("message _id 3", "Media/WhatsApp Images/IMG-20240301-WA0003.jpg", got, "path", False),
        ("message _id 4", "Media/WhatsApp Images/IMG-20240301-WA0004.jpg", None, None, True),
        (
            "message ROWID 4",
            "~/" + SMS_ATTACHMENT,
            "private/var/mobile/" + SMS_ATTACHMENT,
            "path",
            False,
        ),
        (
            "message ROWID 5",
            "~/Library/SMS/Attachments/1b/11/77AA/IMG_0009.jpeg",
            None,
            None,
            True,
        ),
    ]


def test_imessage_times_directions_and_typedstream(built: Built) -> None:
    assert _messages(built.case, "iMessage/SMS") == [
        (
            "message ROWID 1",
            "iMessage;-;+447700900333",
            "+447700900333",
            "received",
            "2024-03-01T01:00:00.000000Z",
            "mac_absolute_ns",
            "is the library open today?",
            False,
        ),
        (
            "message ROWID 2",
            "iMessage;-;+447700900333",
            None,
            "sent",
            "2024-03-01T02:00:00.000000Z",
            "mac_absolute_s",
            "yes until five",
            False,
        ),
        (
            "message ROWID 3",
            "iMessage;-;+447700900333",
            "+447700900333",
            "received",
            "2024-03-01T03:00:00.000000Z",
            "mac_absolute_ns",
            "thanks, see you there",
            False,
        ),
        (
            "message ROWID 4",
            "iMessage;-;+447700900333",
            None,
            "sent",
            "2024-03-01T04:00:00.000000Z",
            "mac_absolute_ns",
            "\ufffc",
            False,
        ),
        (
            "message ROWID 5",
            "iMessage;+;chat901",
            "alex@example.com",
            "received",
            "2024-03-01T05:00:00.000000Z",
            "mac_absolute_ns",
            "our next book",
            False,
        ),
    ]


def test_media_provenance(built: Built) -> None:
    p, i, c, conv = s.media_provenance, s.items, s.msg_contacts, s.msg_conversations
    with built.case.engine.connect() as conn:
        rows = conn.execute(
            select(
                i.c.sha256,
                p.c.app,
                p.c.direction,
                c.c.handle,
                conv.c.key,
                p.c.ts_utc,
                p.c.source_of_record,
            )
            .join(i, i.c.id == p.c.item_id)
            .outerjoin(c, c.c.id == p.c.contact_id)
            .outerjoin(conv, conv.c.id == p.c.conversation_id)
            .order_by(p.c.id)
        ).all()
    sha = {k: hashlib.sha256(v).hexdigest() for k, v in built.pics.items()}
    sent, got = sorted(sha, key=lambda k: "Sent" not in k)
    assert [tuple(r) for r in rows] == [
        (
            sha[sent],
            "WhatsApp",
            "sent",
            SAM,
            SAM,
            "2024-03-01T11:01:00.000000Z",
            "data/data/com.whatsapp/databases/msgstore.db: message _id 2",
        ),
        (
            sha[got],
            "WhatsApp",
            "received",
            SAM,
            SAM,
            "2024-03-01T11:02:00.000000Z",
            "data/data/com.whatsapp/databases/msgstore.db: message _id 3",
        ),
        (
            hashlib.sha256(built.sms_pic).hexdigest(),
            "iMessage/SMS",
            "sent",
            "+447700900333",
            "iMessage;-;+447700900333",
            "2024-03-01T04:00:00.000000Z",
            "private/var/mobile/Library/SMS/sms.db: message ROWID 4",
        ),
    ]


def test_rerun_changes_nothing(built: Built) -> None:
    before = _attachments(built.case), _messages(built.case, "WhatsApp")
    summary = process_case(built.case, workers=0, settings=Settings(skip=SKIP))
    assert summary.stages["phones"] == "5 databases matched, none new: links and text index kept"
    assert (_attachments(built.case), _messages(built.case, "WhatsApp")) == before


def test_links_are_made_again_when_an_item_comes_that_an_attachment_may_be(built: Built) -> None:
    before = _attachments(built.case)
    i = s.items
    with built.case.engine.begin() as conn:
        new = conn.execute(
            insert(i).values(source_id=1, path="later.jpg", locator=b"later", kind="file")
        ).inserted_primary_key[0]
    assert "0 parsed" in PhonesStage().run(built.case, Settings(skip=SKIP), 0)
    with built.case.engine.begin() as conn:
        conn.execute(delete(i).where(i.c.id == new))
    assert "0 parsed" in PhonesStage().run(built.case, Settings(skip=SKIP), 0)
    assert "none new" in PhonesStage().run(built.case, Settings(skip=SKIP), 0)
    assert _attachments(built.case) == before


def test_device_identity(built: Built) -> None:
    d = s.phone_devices
    with built.case.engine.connect() as conn:
        rows = conn.execute(
            select(d.c.platform, d.c.name, d.c.model, d.c.os_version, d.c.serial).order_by(d.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("android", "panther", "Google Pixel 7", "14", "28021FDH300XYZ")
    ]


def test_encrypted_and_malformed_databases_are_recorded(built: Built) -> None:
    c, i = s.msg_coverage, s.items
    with built.case.engine.connect() as conn:
        rows = conn.execute(
            select(i.c.path, c.c.parser, c.c.status, c.c.records, c.c.errors)
            .join(i, i.c.id == c.c.item_id)
            .order_by(i.c.path)
        ).all()
    assert [tuple(r) for r in rows] == [
        (
            "data/data/com.whatsapp.w4b/databases/msgstore.db",
            "whatsapp_android",
            "failed",
            0,
            '["DatabaseError: file is not a database"]',
        ),
        ("data/data/com.whatsapp/databases/msgstore.db", "whatsapp_android", "ok", 6, "[]"),
        (
            "data/media/0/WhatsApp/Databases/msgstore-2024-02-29.1.db.crypt14",
            "whatsapp_android_crypt",
            "failed",
            0,
            '["encrypted WhatsApp backup (crypt14), not examined: its key is '
            'needed (data/data/com.whatsapp/files/key or the end-to-end backup key)"]',
        ),
        ("private/var/mobile/Library/SMS/sms.db", "ios_sms", "ok", 5, "[]"),
        ("system/build.prop", "android_build_prop", "ok", 1, "[]"),
    ]


def _clusters(case: Case) -> list[tuple[object, ...]]:
    c, m, i = s.clusters, s.cluster_members, s.items
    with case.engine.connect() as conn:
        rows = conn.execute(
            select(c.c.kind, c.c.key, c.c.label, i.c.path, m.c.reason)
            .join(m, m.c.cluster_id == c.c.id)
            .join(i, i.c.id == m.c.item_id)
            .where(c.c.kind.in_(("contact", "conversation")))
            .order_by(c.c.kind, c.c.key, i.c.path)
        )
        return [tuple(r) for r in rows]


def _phone_reasons(case: Case) -> list[tuple[str, str, str, str]]:
    import json

    ld, i = s.leads, s.items
    with case.engine.connect() as conn:
        rows = conn.execute(
            select(i.c.path, ld.c.reasons)
            .join(i, i.c.id == ld.c.target_id)
            .where(ld.c.target_kind == "item")
            .order_by(i.c.path)
        ).all()
    out = []
    for path, reasons in rows:
        for r in json.loads(reasons):
            if r["signal"] in (
                "sent_by_owner",
                "received_from_prolific_sender",
                "camera_original_sent",
                "seized_phone_model",
            ):
                out.append((path, r["signal"], r["detail"], r.get("provenance", "")))
    return out


GOT = f"{WA_MEDIA}/Media/WhatsApp Images/IMG-20240301-WA0003.jpg"
SENT = f"{WA_MEDIA}/Media/WhatsApp Images/Sent/IMG-20240301-WA0002.jpg"
GOT_REASON = (
    "received from Sam Carter (447700900111@s.whatsapp.net) in chat with Sam Carter via "
    "WhatsApp at 2024-03-01T11:02:00.000000Z"
)
SENT_REASON = (
    "sent by the owner to Sam Carter (447700900111@s.whatsapp.net) in chat with Sam Carter "
    "via WhatsApp at 2024-03-01T11:01:00.000000Z"
)


def test_contact_and_conversation_clusters(built: Built) -> None:
    contact = "WhatsApp contact Sam Carter (447700900111@s.whatsapp.net)"
    chat = "WhatsApp chat with Sam Carter"
    assert _clusters(built.case) == [
        ("contact", f"WhatsApp|{SAM}", contact, GOT, GOT_REASON),
        ("contact", f"WhatsApp|{SAM}", contact, SENT, SENT_REASON),
        ("conversation", f"{_db_id(built.case)}|{SAM}", chat, GOT, GOT_REASON),
        ("conversation", f"{_db_id(built.case)}|{SAM}", chat, SENT, SENT_REASON),
    ]


def _db_id(case: Case) -> int:
    with case.engine.connect() as conn:
        return int(
            conn.execute(
                select(s.items.c.id).where(
                    s.items.c.path == "data/data/com.whatsapp/databases/msgstore.db"
                )
            ).scalar_one()
        )


def test_phone_signals_on_leads(built: Built) -> None:
    msgstore = "data/data/com.whatsapp/databases/msgstore.db: message _id 2"
    assert _phone_reasons(built.case) == [
        (SENT, "sent_by_owner", SENT_REASON, msgstore),
        (
            CAMERA_ORIGINAL,
            "camera_original_sent",
            f"camera original (Google Pixel 7) sent as a copy (PDQ distance 0), {SENT_REASON}",
            msgstore,
        ),
        (
            CAMERA_ORIGINAL,
            "seized_phone_model",
            "EXIF camera Google Pixel 7 is the model of the seized phone Google Pixel 7 "
            "(serial 28021FDH300XYZ)",
            "system/build.prop",
        ),
        (
            "private/var/mobile/" + SMS_ATTACHMENT,
            "sent_by_owner",
            "sent by the owner to +447700900333 in chat with +447700900333 via iMessage/SMS at "
            "2024-03-01T04:00:00.000000Z",
            "private/var/mobile/Library/SMS/sms.db: message ROWID 4",
        ),
    ]


def test_prolific_sender_signal() -> None:
    """Two unknown pictures from one contact: each names the other; a known one does not count."""
    from unseen.correlation.facts import ItemFacts
    from unseen.phones.facts import Exchange
    from unseen.phones.leads import _prolific

    def ex(item: int) -> Exchange:
        return Exchange(
            item,
            "WhatsApp",
            "received",
            "WhatsApp|x",
            "Kim (x)",
            1,
            "9|x",
            "chat with Kim",
            f"2024-03-0{item}T00:00:00.000000Z",
            f"db: row {item}",
        )

    facts = {n: ItemFacts(n, 1, f"p{n}.jpg", "aa", "image/jpeg") for n in (1, 2, 3)}
    facts[3] = ItemFacts(3, 1, "p3.jpg", "bb", "image/jpeg", matched=True)
    found = list(_prolific([ex(1), ex(2), ex(3)], facts))
    assert [(f.item_id, f.signal, f.detail, f.provenance) for f in found] == [
        (
            1,
            "received_from_prolific_sender",
            "received from Kim (x) in chat with Kim via "
            "WhatsApp at 2024-03-01T00:00:00.000000Z, who sent 1 other unknown picture(s)",
            "db: row 1",
        ),
        (
            2,
            "received_from_prolific_sender",
            "received from Kim (x) in chat with Kim via "
            "WhatsApp at 2024-03-02T00:00:00.000000Z, who sent 1 other unknown picture(s)",
            "db: row 2",
        ),
    ]


def test_owner_account(built: Built) -> None:
    c = s.msg_contacts
    with built.case.engine.connect() as conn:
        owners = conn.execute(select(c.c.app, c.c.handle).where(c.c.owner)).all()
    assert sorted(tuple(r) for r in owners) == [
        ("WhatsApp", "447700900999@s.whatsapp.net"),
        ("iMessage/SMS", "owner@example.com"),
    ]
