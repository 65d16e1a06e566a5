"""Telegram for Android ``cache4.db`` in an Android TAR extraction: the database is built
with the app's tables, its message objects written by a small TL writer below (the
constructors and field order of Telegram's public schema), its media saved where
Telegram saves them; exact messages, times, directions, texts and links, and every
unreadable object or database a recorded error."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import sqlite3
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from sqlalchemy import select

from fuzz.common import fuzz_settings, hostile, only
from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.phones.appschemas import TELEGRAM_DDL
from unseen.phones.parsers.telegram_tl import decode_message, proper_name, user_id
from unseen.phones.parsers.tl import TLError
from unseen.sources.base import detect_kind
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import picture, write

T0 = 1_709_290_800  # 2024-03-01T11:00:00Z, Telegram's seconds since 1970
APP_DIR = "data/data/org.telegram.messenger/files"
MEDIA = "data/media/0/Android/data/org.telegram.messenger/files/Telegram"
SECRET = 1 << 62
PHOTO_ID = 5_000_000_001
VIDEO_ID = 7_000_000_001
PDF_ID = 7_000_000_002
SAM, JO, RILEY, ALEX = 1001, 1002, 1003, 1000  # ALEX: the phone's own account
CLUB = 2001


# --- a test-side TL writer ---------------------------------------------------------


def i32(v: int) -> bytes:
    return struct.pack("<i", v)


def u32(v: int) -> bytes:
    return struct.pack("<I", v)


def i64(v: int) -> bytes:
    return struct.pack("<q", v)


def tl_bytes(raw: bytes) -> bytes:
    head = bytes([len(raw)]) if len(raw) < 254 else b"\xfe" + len(raw).to_bytes(3, "little")
    body = head + raw
    return body + b"\x00" * (-len(body) % 4)


def tl_str(text: str) -> bytes:
    return tl_bytes(text.encode())


def vector(items: list[bytes]) -> bytes:
    return u32(0x1CB5C415) + i32(len(items)) + b"".join(items)


def user(uid: int) -> bytes:
    return u32(0x59511722) + i64(uid)


def chat(cid: int) -> bytes:
    return u32(0x36C6019A) + i64(cid)


def bits(*numbers: int) -> int:
    return sum(1 << n for n in numbers)


def message(
    peer: bytes,
    date: int,
    text: str,
    *,
    out: bool = False,
    sender: bytes | None = None,
    media: bytes | None = None,
    forward: bytes | None = None,
    reply: bytes | None = None,
    layer: str = "flags2",
) -> bytes:
    """A ``message`` object: the layout with ``flags2`` (layer 218's constructor) or
    the one before it (layer 160s)."""
    flags = bits(*(n for n, on in ((1, out), (8, sender), (9, media), (2, forward),
                                   (3, reply)) if on))  # fmt: skip
    head = (
        u32(0xB92F76CF) + u32(flags) + u32(0)
        if layer == "flags2"
        else u32(0x38116EE0) + u32(flags)
    )
    body = head + i32(date % 100_000) + (sender or b"") + peer + (forward or b"") + (reply or b"")
    body += i32(date) + tl_str(text) + (media or b"")
    return body + i32(0)  # views and the rest: never read


def forward_header(name: str, date: int) -> bytes:
    return u32(0x4E4DF4BB) + u32(bits(5)) + tl_str(name) + i32(date)


def reply_header(to_mid: int) -> bytes:
    return u32(0xAFBC09DB) + u32(bits(4)) + i32(to_mid)


def photo_media(photo_id: int) -> bytes:
    sizes = [
        u32(0xE0B0BC2E) + tl_str("i") + tl_bytes(b"\x01\x28\x1e"),
        u32(0x75C78E60) + tl_str("s") + i32(90) + i32(68) + i32(2_100),
        u32(0xFA3EFB95) + tl_str("y") + i32(1280) + i32(960) + vector([i32(9_000), i32(81_234)]),
        u32(0x75C78E60) + tl_str("m") + i32(320) + i32(240) + i32(15_000),
    ]
    photo = u32(0xFB197A65) + u32(0) + i64(photo_id) + i64(99) + tl_bytes(b"ref") + i32(T0)
    photo += vector(sizes) + i32(2)
    return u32(0x695150D7) + u32(bits(0)) + photo


def document_media(doc_id: int, mime: str, name: str, video: bool) -> bytes:
    attributes = [u32(0x15590068) + tl_str(name)]
    if video:
        attributes.insert(
            0, u32(0xD38FF1C2) + u32(0) + struct.pack("<d", 4.5) + i32(640) + i32(480)
        )
    doc = u32(0x8FD4C4D8) + u32(0) + i64(doc_id) + i64(7) + tl_bytes(b"ref") + i32(T0)
    doc += tl_str(mime) + i64(123_456) + i32(4) + vector(attributes)
    return u32(0xDD570BD5) + u32(bits(0)) + doc


def service(peer: bytes, date: int) -> bytes:
    return u32(0x2B085862) + u32(0) + i32(6) + peer + i32(date) + u32(0xB6AEF7B0)


# --- the extraction -------------------------------------------------------------------


@dataclass
class Built:
    case: Case
    photo: bytes
    video: bytes


def _cache4(path: Path) -> None:
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.executescript(TELEGRAM_DDL)
    # Names as written are in the objects (layouts with and without flags2, a constructor
    # id the reader need not know); jo's object is damaged, so the search key is kept.
    sam = u32(0x12345678) + u32(bits(0, 1, 2)) + u32(0) + i64(SAM) + i64(5)
    sam += tl_str("Sam") + tl_str("Taylor") + tl_str("samt")
    riley = u32(0x0BADCAFE) + u32(bits(1)) + i64(RILEY) + tl_str("Riley")
    alex = u32(0x0BADCAFE) + u32(bits(1)) + i64(ALEX) + tl_str("Alex")
    conn.executemany(
        "INSERT INTO users (uid, name, status, data) VALUES (?, ?, 0, ?)",
        [(SAM, "sam taylor;;;samt", sam), (JO, "jo;;;", b"\x01\x02"),
         (RILEY, "riley;;;rileyb", riley), (ALEX, "alex;;;", alex)],
    )  # fmt: skip
    club = u32(0x41CBF256) + u32(0) + i64(CLUB) + tl_str("Allotment Club") + i32(3)
    conn.execute(
        "INSERT INTO chats (uid, name, data) VALUES (?, 'allotment club', ?)", (CLUB, club)
    )
    conn.executemany(
        "INSERT INTO enc_chats (uid, user, name) VALUES (?, ?, ?)",
        [(77, RILEY, "riley"), (78, JO, None)],
    )
    conn.executemany(
        "INSERT INTO dialogs (did, date) VALUES (?, ?)",
        [(SAM, T0), (-CLUB, T0), (SECRET | 77, T0), (JO, T0)],
    )
    rows = [
        (1, SAM, T0, 0, message(user(SAM), T0, "hello from the allotment")),
        (2, SAM, T0 + 60, 1, message(user(SAM), T0 + 60, "the new raised beds", out=True,
                                     media=photo_media(PHOTO_ID))),
        (3, -CLUB, T0 + 120, 0, message(chat(CLUB), T0 + 120, "meeting at six by the shed",
                                        sender=user(JO), layer="plain",
                                        forward=forward_header("a neighbour", T0 - 3600))),
        (4, -CLUB, T0 + 180, 0, message(chat(CLUB), T0 + 180, "", sender=user(SAM),
                                        reply=reply_header(3),
                                        media=document_media(VIDEO_ID, "video/mp4",
                                                             "garden.mp4", True))),
        (5, -CLUB, T0 + 240, 1, message(chat(CLUB), T0 + 240, "the plan", out=True,
                                        media=document_media(PDF_ID, "application/pdf",
                                                             "plan.pdf", False))),
        (6, SAM, T0 + 300, 0, service(user(SAM), T0 + 300)),
        (7, SAM, T0 + 360, 0, message(user(SAM), T0 + 360, "cut short")[:30]),  # malformed
        (1, SECRET | 77, T0 + 420, 0, u32(0x555555FA) + b"\x00" * 40),  # secret-chat layout
        (8, SAM, T0 + 480, 0, u32(0xDEADBEEF) + b"\x00" * 12),  # a constructor not known
        (1, 78 << 32, T0 + 540, 1, u32(0x555555F9) + b"\x00" * 40),  # secret, old dialog id
    ]  # fmt: skip
    conn.executemany(
        "INSERT INTO messages_v2 (mid, uid, date, out, data, read_state, send_state)"
        " VALUES (?, ?, ?, ?, ?, 1, 0)",
        rows,
    )
    conn.commit()
    conn.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("telegram")
    android = root / "android"
    _cache4(android / APP_DIR / "cache4.db")
    account = base64.b64encode(u32(0x12345678) + u32(0) + u32(0) + i64(ALEX)).decode()
    write(
        android / "data/data/org.telegram.messenger/shared_prefs/userconfing.xml",
        f"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
        f'    <string name="user">{account}</string>\n</map>\n'.encode(),
    )
    photo, video = picture(3), b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8
    write(android / MEDIA / f"Telegram Images/{-PHOTO_ID}_{ord('y')}.jpg", photo)
    write(android / MEDIA / f"Telegram Video/4_{VIDEO_ID}.mp4", video)
    # A damaged copy of the database in a second Telegram install: recorded, not fatal.
    write(
        android / "data/data/org.telegram.messenger.web/files/cache4.db",
        b"SQLite format 3\x00" + b"\x07" * 2000,
    )
    tar = root / "android.tar"
    subprocess.run(["tar", "-cf", str(tar), "-C", str(android), "data"], check=True)
    case = Case.create(root / "case", name="TELEGRAM")
    repo.add_source(case, detect_kind(tar), str(tar), "ANDROID", "tester")
    process_case(case, workers=0, settings=Settings(skip=("deep", "internet")))
    return Built(case, photo, video)


def test_messages_times_directions_and_texts(built: Built) -> None:
    m, c, conv = s.messages, s.msg_contacts, s.msg_conversations
    with built.case.engine.connect() as conn:
        rows = conn.execute(
            select(
                m.c.record_ref, conv.c.key, c.c.handle, m.c.direction, m.c.ts_utc, m.c.ts_raw,
                m.c.ts_epoch, m.c.text, m.c.status, m.c.app,
            )
            .outerjoin(conv, conv.c.id == m.c.conversation_id)
            .outerjoin(c, c.c.id == m.c.sender_id)
            .order_by(m.c.id)
        ).all()  # fmt: skip
    group = f"dialog:{-CLUB}"
    assert [tuple(r[:9]) for r in rows] == [
        ("messages_v2 mid 1 uid 1001", "dialog:1001", "1001", "received",
         "2024-03-01T11:00:00.000000Z", str(T0), "unix_s", "hello from the allotment", None),
        ("messages_v2 mid 2 uid 1001", "dialog:1001", None, "sent",
         "2024-03-01T11:01:00.000000Z", str(T0 + 60), "unix_s", "the new raised beds", None),
        ("messages_v2 mid 3 uid -2001", group, "1002", "received",
         "2024-03-01T11:02:00.000000Z", str(T0 + 120), "unix_s", "meeting at six by the shed",
         None),
        ("messages_v2 mid 4 uid -2001", group, "1001", "received",
         "2024-03-01T11:03:00.000000Z", str(T0 + 180), "unix_s", "", None),
        ("messages_v2 mid 5 uid -2001", group, None, "sent",
         "2024-03-01T11:04:00.000000Z", str(T0 + 240), "unix_s", "the plan", None),
        ("messages_v2 mid 6 uid 1001", "dialog:1001", "1001", "received",
         "2024-03-01T11:05:00.000000Z", str(T0 + 300), "unix_s", None, "service"),
        ("messages_v2 mid 7 uid 1001", "dialog:1001", "1001", "received",
         "2024-03-01T11:06:00.000000Z", str(T0 + 360), "unix_s", None, None),
        (f"messages_v2 mid 1 uid {SECRET | 77}", "secret:77", "1003", "received",
         "2024-03-01T11:07:00.000000Z", str(T0 + 420), "unix_s", None, None),
        ("messages_v2 mid 8 uid 1001", "dialog:1001", "1001", "received",
         "2024-03-01T11:08:00.000000Z", str(T0 + 480), "unix_s", None, None),
        (f"messages_v2 mid 1 uid {78 << 32}", "secret:78", None, "sent",
         "2024-03-01T11:09:00.000000Z", str(T0 + 540), "unix_s", None, None),
    ]  # fmt: skip
    assert {r.app for r in rows} == {"Telegram"}


def test_conversations_and_contacts(built: Built) -> None:
    conv, pt, c = s.msg_conversations, s.msg_participants, s.msg_contacts
    with built.case.engine.connect() as conn:
        chats = conn.execute(
            select(
                conv.c.id, conv.c.key, conv.c.title, conv.c.is_group, conv.c.record_ref
            ).order_by(conv.c.id)
        ).all()
        members = conn.execute(
            select(pt.c.conversation_id, c.c.handle).join(c, c.c.id == pt.c.contact_id)
        ).all()
        contacts = conn.execute(
            select(c.c.handle, c.c.name, c.c.app, c.c.owner).order_by(c.c.id)
        ).all()
    who: dict[str, list[str]] = {}
    for conv_id, handle in members:
        key = next(k for i, k, *_ in chats if i == conv_id)
        who.setdefault(key, []).append(handle)
    assert [tuple(r[1:]) for r in chats] == [
        (f"dialog:{-CLUB}", "Allotment Club", True, f"dialog {-CLUB}"),
        ("dialog:1001", "Sam Taylor", False, "dialog 1001"),
        ("dialog:1002", "jo", False, "dialog 1002"),
        ("secret:77", "secret chat with riley", False, f"dialog {SECRET | 77}"),
        ("secret:78", "secret chat with jo", False, f"dialog {78 << 32}"),
    ]
    assert {k: sorted(v) for k, v in who.items()} == {
        f"dialog:{-CLUB}": ["1001", "1002"],
        "dialog:1001": ["1001"],
        "dialog:1002": ["1002"],
        "secret:77": ["1003"],
        "secret:78": ["1002"],
    }
    assert [tuple(r) for r in contacts] == [
        ("1000", "Alex", "Telegram", True),
        ("1001", "Sam Taylor", "Telegram", False),
        ("1002", "jo", "Telegram", False),
        ("1003", "Riley", "Telegram", False),
    ]


def test_media_tied_by_the_names_telegram_saves_them_under(built: Built) -> None:
    a, m, i = s.msg_attachments, s.messages, s.items
    with built.case.engine.connect() as conn:
        rows = conn.execute(
            select(m.c.record_ref, a.c.ref_path, a.c.name, a.c.mime, a.c.size, i.c.path,
                   i.c.sha256, a.c.link_method, a.c.absent)
            .join(m, m.c.id == a.c.message_id)
            .outerjoin(i, i.c.id == a.c.linked_item_id)
            .order_by(a.c.id)
        ).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        ("messages_v2 mid 2 uid 1001", f"Telegram/Telegram Images/{-PHOTO_ID}_121.jpg",
         f"{-PHOTO_ID}_121.jpg", "image/jpeg", 81_234,
         f"{MEDIA}/Telegram Images/{-PHOTO_ID}_121.jpg",
         hashlib.sha256(built.photo).hexdigest(), "path", False),
        ("messages_v2 mid 4 uid -2001", f"Telegram/Telegram Video/4_{VIDEO_ID}.mp4",
         "garden.mp4", "video/mp4", 123_456, f"{MEDIA}/Telegram Video/4_{VIDEO_ID}.mp4",
         hashlib.sha256(built.video).hexdigest(), "path", False),
        ("messages_v2 mid 5 uid -2001", f"Telegram/Telegram Documents/4_{PDF_ID}.pdf",
         "plan.pdf", "application/pdf", 123_456, None, None, None, True),
    ]  # fmt: skip


def test_unreadable_objects_and_a_damaged_database_are_recorded(built: Built) -> None:
    cov, i = s.msg_coverage, s.items
    with built.case.engine.connect() as conn:
        rows = conn.execute(
            select(i.c.path, cov.c.parser, cov.c.status, cov.c.records, cov.c.errors)
            .join(i, i.c.id == cov.c.item_id)
            .order_by(i.c.path)
        ).all()
    assert [tuple(r[:4]) for r in rows] == [
        ("data/data/org.telegram.messenger.web/files/cache4.db", "telegram_android", "failed", 0),
        (f"{APP_DIR}/cache4.db", "telegram_android", "ok", 10),
    ]
    assert json.loads(rows[0].errors) == ["DatabaseError: file is not a database"]
    assert json.loads(rows[1].errors) == [
        "messages_v2 mid 7 uid 1001: text not read: truncated: 4 bytes wanted at offset 28 of 30",
        f"messages_v2 mid 1 uid {SECRET | 77}: text not read: unknown secret-chat message "
        "constructor 0x555555fa",
        "messages_v2 mid 8 uid 1001: text not read: unknown message constructor 0xdeadbeef",
        f"messages_v2 mid 1 uid {78 << 32}: text not read: unknown secret-chat message "
        "constructor 0x555555f9",
    ]


def test_reader_is_bounded_on_hostile_blobs() -> None:
    good = message(user(SAM), T0, "hello", media=photo_media(PHOTO_ID))
    assert decode_message(good).text == "hello"
    # Every truncation of a good object, and lengths and counts far past the end, are
    # errors of the reader, never another exception and never a large allocation.
    for end in range(len(good)):
        with contextlib.suppress(TLError):
            decode_message(good[:end])
    huge_string = u32(0x38116EE0) + u32(0) + i32(1) + user(SAM) + i32(T0) + b"\xfe\xff\xff\xff"
    with pytest.raises(TLError, match="truncated"):
        decode_message(huge_string)
    sizes_past_the_end = u32(0x1CB5C415) + i32(2**30)
    photo = u32(0xFB197A65) + u32(0) + i64(PHOTO_ID) + i64(99) + tl_bytes(b"r") + i32(T0)
    blob = message(
        user(SAM), T0, "hi", media=u32(0x695150D7) + u32(1) + photo + sizes_past_the_end
    )
    decoded = decode_message(blob)
    assert (decoded.text, decoded.media) == ("hi", None)
    assert decoded.media_error == "implausible vector of 1073741824 elements at offset 84"


SEEDS = (
    message(user(SAM), T0, "hello", media=photo_media(PHOTO_ID)),
    message(chat(CLUB), T0, "the plan", sender=user(JO), layer="plain",
            forward=forward_header("a neighbour", T0), reply=reply_header(3),
            media=document_media(VIDEO_ID, "video/mp4", "garden.mp4", True)),
)  # fmt: skip


@fuzz_settings()
@given(hostile(*SEEDS))
def test_hostile_message_objects_only_raise_reader_errors(data: bytes) -> None:
    """A crafted message object is that message's recorded loss (a ``TLError``), never
    another exception; names and the account id are None, never an error."""
    only((TLError,), lambda: decode_message(data))
    assert proper_name(data, SAM, "sam taylor", "user") in (None, "Sam Taylor", "sam taylor")
    only((), lambda: proper_name(data, CLUB, "allotment club", "chat"))
    assert user_id(data, {SAM, JO}) in (None, SAM, JO)
