"""WhatsApp's encrypted backups: crypt14 opened by the key file of the same extraction,
crypt15 by the 64-digit backup key given to ``unseen add --key whatsapp=...`` (or its
key file); each yields the messages of the plain msgstore.db. No key, a wrong key and a
damaged backup are recorded errors, and nothing else is lost."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from sqlalchemy import select
from typer.testing import CliRunner

from fuzz.common import fuzz_settings, hostile, only
from unseen.cli.main import app
from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.phones.crypto.whatsapp_keys import JAVA_BYTE_ARRAY
from unseen.sources.base import close_sources
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import WA_DB, whatsapp_android, write
from .crypt_builders import ROOT_KEY_HEX, crypt, crypt14_keyfile

SKIP = ("deep", "internet", "correlate")
BACKUPS = "data/media/0/Android/media/com.whatsapp/WhatsApp/Databases"
runner = CliRunner()


def _plain_database(root: Path) -> bytes:
    """msgstore.db with its WAL checkpointed, as the app writes it into a backup."""
    work = root.parent / (root.name + "-db")
    work.mkdir()
    shutil.copyfile(root / WA_DB / "msgstore.db", work / "msgstore.db")
    shutil.copyfile(root / WA_DB / "msgstore.db-wal", work / "msgstore.db-wal")
    conn = sqlite3.connect(work / "msgstore.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    # The file stays in WAL mode (header bytes 18-19), as the app's copy of it does.
    data = (work / "msgstore.db").read_bytes()
    assert data[18:20] == b"\x02\x02"
    shutil.rmtree(work)
    return data


def _extraction(tmp: Path, kind: int, key_file: bool) -> Path:
    """The builders' Android WhatsApp with msgstore.db only as an encrypted backup."""
    root = tmp / f"android-{kind}"
    whatsapp_android(root)
    database = _plain_database(root)
    for name in ("msgstore.db", "msgstore.db-wal"):
        (root / WA_DB / name).unlink()
    write(root / BACKUPS / f"msgstore.db.crypt{kind}", crypt(database, kind))
    if key_file:
        write(root / "data/data/com.whatsapp/files/key", crypt14_keyfile())
    return root


def _process(tmp: Path, evidence: Path, *options: str) -> Case:
    close_sources()  # cached sources compare equal whatever their keys
    case_dir = tmp / "case"
    assert runner.invoke(app, ["init", str(case_dir), "--name", "WA"]).exit_code == 0
    result = runner.invoke(app, ["add", str(case_dir), str(evidence), *options])
    assert result.exit_code == 0, result.output
    case = Case.open(case_dir)
    process_case(case, workers=0, settings=Settings(skip=SKIP))
    return case


def _messages(case: Case) -> list[tuple[object, ...]]:
    m, conv, c, a, i = s.messages, s.msg_conversations, s.msg_contacts, s.msg_attachments, s.items
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
                m.c.text,
                m.c.status,
                a.c.sha256,
                i.c.path,
                a.c.link_method,
            )
            .join(conv, conv.c.id == m.c.conversation_id)
            .outerjoin(c, c.c.id == m.c.sender_id)
            .outerjoin(a, a.c.message_id == m.c.id)
            .outerjoin(i, i.c.id == a.c.linked_item_id)
            .order_by(m.c.record_ref)
        ).all()
        owners = conn.execute(select(c.c.handle).where(c.c.owner.is_(True))).scalars().all()
    return [tuple(r) for r in rows] + [("owner", *sorted(set(owners)))]


def _coverage(case: Case) -> list[tuple[object, ...]]:
    c, i = s.msg_coverage, s.items
    with case.engine.connect() as conn:
        rows = conn.execute(
            select(i.c.path, c.c.parser, c.c.status, c.c.records, c.c.errors)
            .join(i, i.c.id == c.c.item_id)
            .where(c.c.parser == "whatsapp_android_crypt")
        ).all()
    return [(p, parser, st, n, json.loads(e)) for p, parser, st, n, e in rows]


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[object, ...]]:
    tmp = tmp_path_factory.mktemp("plain")
    root = tmp / "android"
    whatsapp_android(root)
    return _messages(_process(tmp, root))


def test_crypt14_with_the_extractions_key_file(
    tmp_path: Path, plain: list[tuple[object, ...]]
) -> None:
    case = _process(tmp_path, _extraction(tmp_path, 14, key_file=True))
    assert _messages(case) == plain
    assert len(plain) == 7  # six messages and the owner
    assert _coverage(case) == [
        (f"{BACKUPS}/msgstore.db.crypt14", "whatsapp_android_crypt", "ok", 6, [])
    ]


@pytest.mark.parametrize("form", ["hex", "keyfile"])
def test_crypt15_with_the_backup_key(
    tmp_path: Path, plain: list[tuple[object, ...]], form: str
) -> None:
    value = ROOT_KEY_HEX.upper()
    if form == "keyfile":
        key_file = tmp_path / "encrypted_backup.key"
        root = bytes.fromhex(ROOT_KEY_HEX)
        key_file.write_bytes(JAVA_BYTE_ARRAY + len(root).to_bytes(4, "big") + root)
        value = f"@{key_file}"
    evidence = _extraction(tmp_path, 15, key_file=False)
    case = _process(tmp_path, evidence, "--key", f"whatsapp={value}")
    assert _messages(case) == plain
    log = s.audit_log
    with case.engine.connect() as conn:
        details = conn.execute(select(log.c.details).where(log.c.action == "volume keys"))
        audited = json.loads(details.scalar_one())
    stored = ROOT_KEY_HEX if form == "hex" else key_file.read_bytes().hex()
    assert audited["volumes"] == {
        "whatsapp": {"key_sha256": hashlib.sha256(stored.encode()).hexdigest()}
    }


def test_no_key_wrong_key_and_damage_are_recorded(tmp_path: Path) -> None:
    evidence = _extraction(tmp_path, 15, key_file=False)
    path = f"{BACKUPS}/msgstore.db.crypt15"
    needed = (
        "encrypted WhatsApp backup (crypt15), not examined: its key is needed "
        "(data/data/com.whatsapp/files/key or the end-to-end backup key)"
    )
    case = _process(tmp_path / "none", evidence)
    assert _coverage(case) == [(path, "whatsapp_android_crypt", "failed", 0, [needed])]
    wrong = hashlib.sha256(b"another key").hexdigest()
    case = _process(tmp_path / "wrong", evidence, "--key", f"whatsapp={wrong}")
    assert _coverage(case) == [
        (
            path,
            "whatsapp_android_crypt",
            "failed",
            0,
            [
                "encrypted WhatsApp backup (crypt15), not examined: no key given or found "
                "opens it; give --key whatsapp=HEX64 or whatsapp=@KEYFILE"
            ],
        )
    ]
    backup = evidence / path
    backup.write_bytes(backup.read_bytes()[:-700])
    case = _process(tmp_path / "cut", evidence, "--key", f"whatsapp={ROOT_KEY_HEX}")
    assert _coverage(case) == [
        (
            path,
            "whatsapp_android_crypt",
            "failed",
            0,
            [
                "encrypted WhatsApp backup (crypt15) not decrypted: the GCM tag does not "
                "verify: corrupt or truncated"
            ],
        )
    ]
    with case.engine.connect() as conn:  # the rest of the extraction is still read
        paths = conn.execute(select(s.items.c.path)).scalars().all()
    assert "data/data/com.whatsapp/databases/wa.db" in paths


def test_key_option_refuses_what_is_not_a_key(tmp_path: Path) -> None:
    case_dir = tmp_path / "case"
    runner.invoke(app, ["init", str(case_dir)])
    secret = "zz" * 32
    result = runner.invoke(
        app, ["add", str(case_dir), str(tmp_path), "--key", f"whatsapp={secret}"]
    )
    assert result.exit_code != 0
    assert "not 64 hex digits nor a WhatsApp key file" in result.output
    assert secret not in result.output


def test_crypt12_is_recorded_as_not_decrypted(tmp_path: Path) -> None:
    evidence = tmp_path / "android"
    write(evidence / "data/media/0/WhatsApp/Databases/msgstore.db.crypt12", b"\x00\x01" * 200)
    write(evidence / "data/data/com.whatsapp/files/key", crypt14_keyfile())
    case = _process(tmp_path, evidence)
    assert _coverage(case) == [
        (
            "data/media/0/WhatsApp/Databases/msgstore.db.crypt12",
            "whatsapp_android_crypt",
            "failed",
            0,
            [
                "encrypted WhatsApp backup (crypt12), not examined: only crypt14 and "
                "crypt15 backups are decrypted"
            ],
        )
    ]


def test_key_file_in_an_archive_of_the_extraction(tmp_path: Path) -> None:
    """Inside a ZIP the app folder is found beside shared storage as in a folder."""
    import zipfile

    root = _extraction(tmp_path, 14, key_file=True)
    archive = tmp_path / "extraction.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(root).as_posix())
    holder = tmp_path / "evidence"
    holder.mkdir()
    shutil.copyfile(archive, holder / "extraction.zip")
    case = _process(tmp_path, holder)
    (row,) = _coverage(case)
    assert row[1:] == ("whatsapp_android_crypt", "ok", 6, [])
    assert row[0] == f"extraction.zip!{BACKUPS}/msgstore.db.crypt14"


def test_header_layouts() -> None:
    """The IV is found in crypt14's and crypt15's protobuf headers whatever else a later
    app version adds to them, and at crypt14's fixed offsets when there is none."""
    from unseen.phones.crypto.whatsapp_keys import Header, read_header

    iv = bytes(range(16))
    later = bytes.fromhex("2d01020304") + bytes.fromhex("310102030405060708")  # fixed32/64
    proto = bytes.fromhex("0801") + b"\x1a\x12\x0a\x10" + iv + later
    assert read_header(bytes([len(proto), 1]) + proto + b"\x00" * 300)[0] == Header(
        iv, 2 + len(proto)
    )
    fixed = b"\xff" * 67 + iv + b"\x00" * 200
    assert read_header(fixed) == [Header(iv, 191)]


CRYPT15_SEED = crypt(b"SQLite format 3\x00" + bytes(2000), 15)


@fuzz_settings()
@given(hostile(CRYPT15_SEED))
def test_hostile_backups_only_raise_recorded_errors(data: bytes) -> None:
    """A damaged or crafted backup ends in one of the recorded errors, never another
    exception, a hang or an unbounded output."""
    from unseen.phones.crypto.whatsapp_keys import (
        DamagedBackup,
        NoKeyOpens,
        TooBig,
        crypt15_key,
        decrypt_backup,
    )

    key = crypt15_key(bytes.fromhex(ROOT_KEY_HEX))
    only(
        (DamagedBackup, NoKeyOpens, TooBig),
        lambda: decrypt_backup(io.BytesIO(data), [key], io.BytesIO(), 64 * 1024),
    )
