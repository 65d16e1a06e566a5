"""The demo phone: a synthetic, benign iPhone backup (iTunes/Finder folder) for the
conversation view, the people list and the Communications section.

Sam (the laptop's user) talks with Alex Morgan on WhatsApp about the community
garden: Sam sends a photo the phone's camera took (re-encoded and stripped of EXIF, as
WhatsApp does) and receives two; a group "Garden club" holds plain text. In Messages,
Jamie sends a photo and asks Sam not to tell anyone about a surprise party (a benign
line that the "secrecy" indicator counts: indicators are not findings). One attachment
is named by the database but absent from the backup. Everything is generated here,
deterministically; every name and number is fictitious (Ofcom drama ranges).
"""

from __future__ import annotations

import hashlib
import io
import plistlib
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from unseen.demo.cameras import CAMERAS, exif_for
from unseen.demo.synth import render_scene
from unseen.phones.appschemas import CHATSTORAGE_DDL, MANIFEST_DDL, SMS_DDL

UDID = "00008101-000D3M0C0FFEE001"
WA_GROUP = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared"
ALEX = "447700900123@s.whatsapp.net"
PRIYA = "447700900124@s.whatsapp.net"
GARDEN = "120363000000000077@g.us"
JAMIE = "+447700900456"
START = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)
APPLE_2001 = datetime(2001, 1, 1, tzinfo=UTC)
CAMERA = CAMERAS["iphone-12"]
SIZE = (1600, 1200)


@dataclass
class _Backup:
    """Files of the backup by domain path, written as hashed blobs at the end."""

    files: dict[str, bytes]

    def add(self, domain_path: str, data: bytes) -> str:
        self.files[domain_path] = data
        return domain_path


def _apple(moment: datetime) -> float:
    return (moment - APPLE_2001).total_seconds()


def _camera_photo(scene: int, when: datetime) -> tuple[Image.Image, bytes]:
    pixels = render_scene(scene, SIZE)
    out = io.BytesIO()
    pixels.save(out, "JPEG", exif=exif_for(CAMERA, when), **CAMERA.jpeg_params())
    return pixels, out.getvalue()


def _as_sent(pixels: Image.Image) -> bytes:
    """How a messenger sends a photo: smaller, recompressed, no EXIF."""
    small = pixels.resize((800, 600), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()


def _received(scene: int) -> bytes:
    return _as_sent(render_scene(scene, SIZE))


def build_demo_phone(target: Path) -> str:
    """Write the backup folder at ``target`` (must not exist); returns a description."""
    backup = _Backup({})
    taken = START + timedelta(minutes=5)
    pixels, original = _camera_photo(901, taken)
    backup.add("CameraRollDomain/Media/DCIM/100APPLE/IMG_0101.JPG", original)
    backup.add("CameraRollDomain/Media/DCIM/100APPLE/IMG_0102.JPG", _camera_photo(902, taken)[1])
    messages = _whatsapp(backup, _as_sent(pixels))
    messages += _imessage(backup)
    _write(target, backup)
    return f"an iPhone backup with {messages} messages in {target}"


def _whatsapp(backup: _Backup, sent: bytes) -> int:
    media = {
        2: (f"Message/Media/{ALEX}/4/2/4f2a9c10-sent.jpg", sent),
        3: (f"Message/Media/{ALEX}/8/1/81b7e2d4-recv.jpg", _received(903)),
        5: (f"Message/Media/{ALEX}/c/3/c39e5a77-recv.jpg", _received(904)),
    }
    for path, data in media.values():
        backup.add(f"{WA_GROUP}/{path}", data)
    rows = [  # pk, session, from_me, minutes after START, text, member
        (1, 1, 0, 20, "Morning! Did the new raised beds go in?", None),
        (2, 1, 1, 22, "Yes, here they are", None),
        (3, 1, 0, 30, "Lovely. This is the shed roof after the storm", None),
        (4, 1, 1, 31, "Ouch. I'll bring tools on Saturday", None),
        (5, 1, 0, 95, "The beans are finally up", None),
        (6, 2, 0, 120, "Reminder: garden club meeting on Thursday at 7", 1),
        (7, 2, 1, 125, "I'll bring the seed catalogue", None),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ChatStorage.sqlite"
        conn = sqlite3.connect(db)
        conn.executescript(CHATSTORAGE_DDL)
        conn.executemany(
            "INSERT INTO ZWACHATSESSION (Z_PK, Z_ENT, ZSESSIONTYPE, ZCONTACTJID, ZPARTNERNAME)"
            " VALUES (?, 4, ?, ?, ?)",
            [(1, 0, ALEX, "Alex Morgan"), (2, 1, GARDEN, "Garden club")],
        )
        conn.execute(
            "INSERT INTO ZWAGROUPMEMBER (Z_PK, ZCHATSESSION, ZMEMBERJID, ZCONTACTNAME)"
            " VALUES (1, 2, ?, 'Priya')",
            (PRIYA,),
        )
        for pk, session, me, minutes, text, member in rows:
            jid = None if me else (GARDEN if session == 2 else ALEX)
            conn.execute(
                "INSERT INTO ZWAMESSAGE (Z_PK, Z_ENT, ZCHATSESSION, ZISFROMME, ZMESSAGEDATE,"
                " ZTEXT, ZFROMJID, ZGROUPMEMBER, ZMESSAGESTATUS, ZMEDIAITEM, ZMESSAGETYPE)"
                " VALUES (?, 9, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (pk, session, me, _apple(START + timedelta(minutes=minutes)), text, jid, member,
                 3 if me else 0, pk if pk in media else None, 1 if pk in media else 0),
            )  # fmt: skip
        for pk, (path, data) in media.items():
            conn.execute(
                "INSERT INTO ZWAMEDIAITEM (Z_PK, ZMESSAGE, ZMEDIALOCALPATH, ZFILESIZE)"
                " VALUES (?, ?, ?, ?)",
                (pk, pk, path[len("Message/") :], len(data)),
            )
        conn.commit()
        conn.close()
        backup.add(f"{WA_GROUP}/ChatStorage.sqlite", db.read_bytes())
    return len(rows)


def _imessage(backup: _Backup) -> int:
    attachment = "Library/SMS/Attachments/3e/14/7C2D-11/IMG_2231.jpeg"
    backup.add(f"MediaDomain/{attachment}", _received(905))
    ns = 1_000_000_000
    rows = [  # rowid, from_me, minutes, text, attachment
        (1, 0, 200, "Is Saturday still OK for the party prep?", None),
        (2, 1, 204, "Yes! What should I bring?", None),
        (3, 0, 210, "This cake stand, if you still have it", "~/" + attachment),
        (4, 0, 212, "And don't tell mum, it's a surprise party", None),
        (5, 0, 300, "Photo of the venue", "~/Library/SMS/Attachments/9a/02/55EE/IMG_2240.jpeg"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sms.db"
        conn = sqlite3.connect(db)
        conn.executescript(SMS_DDL)
        conn.execute("INSERT INTO handle VALUES (1, ?, 'gb', 'iMessage', NULL, NULL)", (JAMIE,))
        conn.execute(
            "INSERT INTO chat (ROWID, guid, style, chat_identifier, service_name, display_name)"
            " VALUES (1, ?, 45, ?, 'iMessage', '')",
            (f"iMessage;-;{JAMIE}", JAMIE),
        )
        conn.execute("INSERT INTO chat_handle_join VALUES (1, 1)")
        for rowid, me, minutes, text, filename in rows:
            date = int(_apple(START + timedelta(minutes=minutes))) * ns
            conn.execute(
                "INSERT INTO message (ROWID, guid, text, handle_id, service, date, is_from_me,"
                " is_read, is_delivered, is_sent) VALUES (?, ?, ?, 1, 'iMessage', ?, ?, 1, 1, ?)",
                (rowid, f"DEMO-{rowid}", text, date, me, me),
            )
            conn.execute("INSERT INTO chat_message_join VALUES (1, ?, ?)", (rowid, date))
            if filename:
                conn.execute(
                    "INSERT INTO attachment (ROWID, guid, filename, mime_type, transfer_name)"
                    " VALUES (?, ?, ?, 'image/jpeg', ?)",
                    (rowid, f"AT-{rowid}", filename, filename.rsplit("/", 1)[-1]),
                )
                conn.execute("INSERT INTO message_attachment_join VALUES (?, ?)", (rowid, rowid))
        conn.commit()
        conn.close()
        backup.add("HomeDomain/Library/SMS/sms.db", db.read_bytes())
    return len(rows)


def _write(target: Path, backup: _Backup) -> None:
    target.mkdir(parents=True)
    info = {
        "Device Name": "Sam's iPhone", "Product Type": "iPhone13,2", "Product Version": "17.5",
        "Serial Number": "DEMO0SERIAL1", "IMEI": "350000000000001",
        "Phone Number": "+44 7700 900999", "Unique Identifier": UDID,
        "Last Backup Date": START + timedelta(days=2),
    }  # fmt: skip
    (target / "Info.plist").write_bytes(plistlib.dumps(info))
    (target / "Manifest.plist").write_bytes(
        plistlib.dumps({"IsEncrypted": False, "Version": "10.0"}, fmt=plistlib.FMT_BINARY)
    )
    (target / "Status.plist").write_bytes(plistlib.dumps({"IsFullBackup": False}))
    manifest = sqlite3.connect(target / "Manifest.db")
    manifest.executescript(MANIFEST_DDL)
    for display, data in sorted(backup.files.items()):
        domain, rel = display.split("/", 1)
        file_id = hashlib.sha1(f"{domain}-{rel}".encode()).hexdigest()
        blob = target / file_id[:2] / file_id
        blob.parent.mkdir(exist_ok=True)
        blob.write_bytes(data)
        manifest.execute("INSERT INTO Files VALUES (?, ?, ?, 1, NULL)", (file_id, domain, rel))
    manifest.commit()
    manifest.close()
