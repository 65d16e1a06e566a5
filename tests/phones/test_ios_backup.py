"""iOS backups: items under their domain paths, Manifest-listed files that are absent,
device identity, messages tied to attachments, and encrypted backups recorded."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.sources.base import detect_kind
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import (
    CHOIR,
    MORGAN,
    RILEY,
    SMS_ATTACHMENT,
    WA_GROUP,
    WA_IOS_MEDIA,
    ios_backup,
)

SKIP = ("deep", "internet", "correlate")
PHOTOS = "CameraRollDomain/Media/PhotoData/Photos.sqlite"


def _case(tmp_path: Path, encrypted: bool) -> tuple[Case, dict[str, bytes]]:
    backup = tmp_path / "00008110-000A1B2C3D4E5F6G"
    files = ios_backup(backup, encrypted=encrypted)
    assert detect_kind(backup) == "apple_backup"
    case = Case.create(tmp_path / "case", name="IOS")
    repo.add_source(case, "apple_backup", str(backup), "IPHONE", "tester")
    process_case(case, workers=0, settings=Settings(skip=SKIP))
    return case, files


def _items(case: Case) -> list[tuple[object, ...]]:
    i, e = s.items, s.item_errors
    with case.engine.connect() as conn:
        rows = conn.execute(select(i.c.id, i.c.path, i.c.kind, i.c.sha256).order_by(i.c.path))
        errors = conn.execute(select(e.c.item_id, e.c.message)).all()
    by_item: dict[int, list[str]] = {}
    for item_id, message in errors:
        by_item.setdefault(item_id, []).append(message)
    return [(p, k, sha, tuple(by_item.get(n, ()))) for n, p, k, sha in rows]


def test_backup_items_under_domain_paths(tmp_path: Path) -> None:
    case, files = _case(tmp_path, encrypted=False)
    sha = {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    assert _items(case) == [
        (f"{WA_GROUP}/ChatStorage.sqlite", "file", sha[f"{WA_GROUP}/ChatStorage.sqlite"], ()),
        (f"{WA_GROUP}/{WA_IOS_MEDIA}", "file", sha[f"{WA_GROUP}/{WA_IOS_MEDIA}"], ()),
        (
            "CameraRollDomain/Media/DCIM/100APPLE/IMG_0001.JPG",
            "file",
            sha["CameraRollDomain/Media/DCIM/100APPLE/IMG_0001.JPG"],
            (),
        ),
        (
            "CameraRollDomain/Media/DCIM/100APPLE/IMG_0002.JPG",
            "other",
            None,
            ("listed in Manifest.db but its file is not in the backup",),
        ),
        (PHOTOS, "file", sha[PHOTOS], ()),
        ("HomeDomain/Library/SMS/sms.db", "file", sha["HomeDomain/Library/SMS/sms.db"], ()),
        ("Info.plist", "file", _sha(case, "Info.plist"), ()),
        ("Manifest.db", "file", _sha(case, "Manifest.db"), ()),
        ("Manifest.plist", "file", _sha(case, "Manifest.plist"), ()),
        (f"MediaDomain/{SMS_ATTACHMENT}", "file", sha[f"MediaDomain/{SMS_ATTACHMENT}"], ()),
        ("Status.plist", "file", _sha(case, "Status.plist"), ()),
    ]
    d = s.phone_devices
    with case.engine.connect() as conn:
        devices = conn.execute(
            select(
                d.c.platform,
                d.c.name,
                d.c.model,
                d.c.os_version,
                d.c.serial,
                d.c.imei,
                d.c.phone_number,
            )
        ).all()
        tied = conn.execute(
            select(s.items.c.path, s.msg_attachments.c.link_method).join(
                s.items, s.items.c.id == s.msg_attachments.c.linked_item_id
            )
        ).all()
        count = conn.execute(select(s.messages.c.id)).all()
    assert [tuple(r) for r in devices] == [
        (
            "ios",
            "Test iPhone",
            "iPhone14,5",
            "17.3.1",
            "F2LZK0TESTXX",
            "356789012345678",
            "+44 7700 900444",
        )
    ]
    assert sorted(tuple(r) for r in tied) == [
        (f"{WA_GROUP}/{WA_IOS_MEDIA}", "path"),
        (f"MediaDomain/{SMS_ATTACHMENT}", "path"),
    ]
    assert len(count) == 8


def _sha(case: Case, path: str) -> str | None:
    with case.engine.connect() as conn:
        return conn.execute(select(s.items.c.sha256).where(s.items.c.path == path)).scalar()


def test_encrypted_backup_is_listed_and_recorded(tmp_path: Path) -> None:
    case, files = _case(tmp_path, encrypted=True)
    items = _items(case)
    manifest = [r for r in items if r[0] == "Manifest.db"]
    assert manifest == [
        (
            "Manifest.db",
            "file",
            _sha(case, "Manifest.db"),
            ("encrypted backup, not examined: give --password",),
        )
    ]
    # Every stored blob is still an item, under its stored name: nothing is lost.
    blobs = sorted(r[0] for r in items if "/" in r[0])
    expected = sorted(
        f"{h[:2]}/{h}"
        for h in (hashlib.sha1(d.replace("/", "-", 1).encode()).hexdigest() for d in files)
    )
    assert blobs == expected
    with case.engine.connect() as conn:
        assert conn.execute(select(s.messages.c.id)).all() == []


@pytest.mark.parametrize("name", ["Manifest.db"])
def test_unreadable_manifest_keeps_stored_names(tmp_path: Path, name: str) -> None:
    backup = tmp_path / "b"
    ios_backup(backup)
    (backup / name).write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    case = Case.create(tmp_path / "case", name="IOS")
    repo.add_source(case, "apple_backup", str(backup), "IPHONE", "tester")
    process_case(case, workers=0, settings=Settings(skip=SKIP))
    (row,) = [r for r in _items(case) if r[0] == "Manifest.db"]
    assert row[3][0].startswith("Manifest.db not readable, files keep their stored names: ")
    assert len([r for r in _items(case) if "/" in r[0]]) == 6


def test_whatsapp_ios_messages(tmp_path: Path) -> None:
    case, _ = _case(tmp_path, encrypted=False)
    m, c, conv = s.messages, s.msg_contacts, s.msg_conversations
    with case.engine.connect() as conn:
        rows = conn.execute(
            select(
                m.c.record_ref,
                conv.c.key,
                conv.c.title,
                c.c.handle,
                c.c.name,
                m.c.direction,
                m.c.ts_utc,
                m.c.ts_epoch,
                m.c.text,
                m.c.status,
            )
            .join(conv, conv.c.id == m.c.conversation_id)
            .outerjoin(c, c.c.id == m.c.sender_id)
            .where(m.c.record_ref.like("ZWAMESSAGE%"))
            .order_by(m.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (
            "ZWAMESSAGE Z_PK 1",
            RILEY,
            "Riley",
            RILEY,
            "Riley",
            "received",
            "2024-03-01T00:16:40.500000Z",
            "mac_absolute_s",
            "rehearsal moved to Thursday",
            "pending",
        ),
        (
            "ZWAMESSAGE Z_PK 2",
            RILEY,
            "Riley",
            None,
            None,
            "sent",
            "2024-03-01T00:33:20.000000Z",
            "mac_absolute_s",
            None,
            "read",
        ),
        (
            "ZWAMESSAGE Z_PK 3",
            CHOIR,
            "Choir",
            MORGAN,
            "Morgan",
            "received",
            "2024-03-01T00:50:00.000000Z",
            "mac_absolute_s",
            "bring the sheet music",
            "pending",
        ),
    ]


def test_photos_library_provenance_and_signals(tmp_path: Path) -> None:
    from unseen.correlation.facts import StoredFacts
    from unseen.phones.leads import PhoneSignals

    case, _ = _case(tmp_path, encrypted=False)
    ma, i, p = s.media_assets, s.items, s.media_provenance
    with case.engine.connect() as conn:
        assets = conn.execute(
            select(
                ma.c.ref_path,
                ma.c.direction,
                ma.c.app,
                ma.c.ts_utc,
                ma.c.hidden,
                ma.c.deleted,
                ma.c.gps_lat,
                ma.c.original_name,
                i.c.path,
                ma.c.absent,
            )
            .outerjoin(i, i.c.id == ma.c.linked_item_id)
            .order_by(ma.c.id)
        ).all()
        facts = conn.execute(
            select(i.c.path, p.c.app, p.c.direction, p.c.ts_utc, p.c.source_of_record)
            .join(i, i.c.id == p.c.item_id)
            .where(p.c.message_id.is_(None))
        ).all()
        signals = [
            (sig.signal, sig.detail, sig.provenance)
            for sig in PhoneSignals().signals(StoredFacts(conn), conn)
            if sig.signal in ("hidden_album", "recently_deleted")
        ]
    camera = "CameraRollDomain/Media/DCIM/100APPLE/IMG_0001.JPG"
    assert [tuple(r) for r in assets] == [
        (
            "Media/DCIM/100APPLE/IMG_0001.JPG",
            "captured",
            "Camera",
            "2024-03-01T00:10:00.000000Z",
            True,
            False,
            53.8,
            "IMG_0001.JPG",
            camera,
            False,
        ),
        (
            "Media/DCIM/100APPLE/IMG_0002.JPG",
            "saved",
            "net.whatsapp.WhatsApp",
            "2024-03-01T00:20:00.000000Z",
            False,
            True,
            None,
            "photo.jpg",
            None,
            True,
        ),
        (
            "Media/DCIM/100APPLE/IMG_0003.JPG",
            "downloaded",
            "com.apple.mobilesafari",
            "2024-03-01T00:30:00.000000Z",
            False,
            False,
            None,
            "tiles.jpg",
            None,
            True,
        ),
    ]
    assert [tuple(r) for r in facts] == [
        (camera, "Camera", "captured", "2024-03-01T00:10:00.000000Z", f"{PHOTOS}: ZASSET Z_PK 1")
    ]
    assert signals == [
        ("hidden_album", "in the photo library's Hidden album", f"{PHOTOS}: ZASSET Z_PK 1")
    ]


def test_hostile_manifest_paths_stay_inside_their_domain(tmp_path: Path) -> None:
    """Manifest.db is evidence: ``..`` parts, empty parts and NULs never shape a path."""
    from unseen.phones.sources.ios_backup import read_manifest

    backup = tmp_path / "b"
    ios_backup(backup)
    with sqlite3.connect(backup / "Manifest.db") as db:
        db.execute(
            "INSERT INTO Files VALUES ('ff' || hex(randomblob(19)), 'HomeDomain', ?, 1, NULL)",
            ("../../..//etc/./pass\x00wd",),
        )
        db.execute("INSERT INTO Files VALUES ('ab', NULL, NULL, 1, x'00ff')")
    paths = {m.path for m in read_manifest(backup / "Manifest.db").values()}
    assert "HomeDomain/etc/pass\\x00wd" in paths
    assert "UnknownDomain" in paths
    assert not any(".." in p.split("/") for p in paths)
