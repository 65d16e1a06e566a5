"""Encrypted iOS backups opened with ``unseen add --password``: a backup encrypted by
code with a known password yields exactly the items and messages of the same backup
unencrypted; a wrong or missing password is recorded, and nothing is lost."""

from __future__ import annotations

import hashlib
import io
import plistlib
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from fuzz.common import fuzz_settings, hostile, only
from unseen.cli.main import app
from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.phones.crypto.ios_backup_keys import CbcReader
from unseen.sources.base import close_sources
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import ios_backup
from .crypt_builders import ITER, PASSWORD, cbc_encrypt, encrypt_backup, keybag, tlv

SKIP = ("deep", "internet", "correlate")
TOP = ("Info.plist", "Manifest.db", "Manifest.plist", "Status.plist")
runner = CliRunner()


@pytest.fixture(scope="module")
def backups(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("backups")
    plain = root / "plain" / "00008110-000A1B2C3D4E5F6G"
    ios_backup(plain)
    encrypted = root / "encrypted" / "00008110-000A1B2C3D4E5F6G"
    encrypted.parent.mkdir()
    encrypt_backup(plain, encrypted)
    return plain, encrypted


def _add(tmp: Path, backup: Path, *options: str, stdin: str | None = None) -> Case:
    # Sources are cached per process by spec, and a spec's equality leaves its keys
    # out: each case here opens the same backup path as source 1 with other keys.
    close_sources()
    case_dir = tmp / "case"
    result = runner.invoke(app, ["init", str(case_dir), "--name", "IOS"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["add", str(case_dir), str(backup), *options], input=stdin)
    assert result.exit_code == 0, result.output
    case = Case.open(case_dir)
    process_case(case, workers=0, settings=Settings(skip=SKIP))
    return case


def _items(case: Case) -> list[tuple[object, ...]]:
    i, e = s.items, s.item_errors
    with case.engine.connect() as conn:
        rows = conn.execute(
            select(i.c.id, i.c.path, i.c.kind, i.c.size, i.c.sha256).order_by(i.c.path)
        ).all()
        errors = conn.execute(select(e.c.item_id, e.c.message)).all()
    by_item: dict[int, list[str]] = {}
    for item_id, message in errors:
        by_item.setdefault(item_id, []).append(message)
    return [(p, k, n, sha, tuple(by_item.get(x, ()))) for x, p, k, n, sha in rows]


def _messages(case: Case) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    m, conv, c, a, i = (
        s.messages,
        s.msg_conversations,
        s.msg_contacts,
        s.msg_attachments,
        s.items,
    )
    with case.engine.connect() as conn:
        rows = conn.execute(
            select(m.c.record_ref, conv.c.key, c.c.handle, m.c.direction, m.c.ts_utc, m.c.text)
            .join(conv, conv.c.id == m.c.conversation_id)
            .outerjoin(c, c.c.id == m.c.sender_id)
            .order_by(m.c.record_ref)
        ).all()
        links = conn.execute(
            select(i.c.path, i.c.sha256, a.c.link_method)
            .join(i, i.c.id == a.c.linked_item_id)
            .order_by(i.c.path)
        ).all()
    return [tuple(r) for r in rows], [tuple(r) for r in links]


def test_encrypted_backup_reads_as_the_plain_one(
    tmp_path: Path, backups: tuple[Path, Path]
) -> None:
    plain_backup, encrypted_backup = backups
    plain = _add(tmp_path / "plain", plain_backup)
    opened = _add(tmp_path / "enc", encrypted_backup, "--password-stdin", stdin=PASSWORD + "\n")
    domain = [r for r in _items(opened) if r[0] not in TOP]
    assert domain == [r for r in _items(plain) if r[0] not in TOP]
    assert len(domain) == 7
    assert ("CameraRollDomain/Media/DCIM/100APPLE/IMG_0001.JPG", "file") in {r[:2] for r in domain}
    # Manifest.db reads as its plaintext (a SQLite database), with no error.
    (manifest,) = [r for r in _items(opened) if r[0] == "Manifest.db"]
    assert manifest[4] == ()
    messages, links = _messages(opened)
    assert (messages, links) == _messages(plain)
    assert (len(messages), len(links)) == (8, 2)


def test_password_only_as_digest(tmp_path: Path, backups: tuple[Path, Path]) -> None:
    """The password reaches the audit log as its SHA-256; neither the log nor the
    process log holds it in clear."""
    case = _add(tmp_path, backups[1], "--password-stdin", stdin=PASSWORD + "\n")
    log = s.audit_log
    with case.engine.connect() as conn:
        entries = conn.execute(select(log.c.action, log.c.details)).all()
    text = "".join(str(tuple(r)) for r in entries)
    text += (
        (case.logs_dir / "process.log").read_text()
        if (case.logs_dir / "process.log").exists()
        else ""
    )
    assert PASSWORD not in text
    assert hashlib.sha256(PASSWORD.encode()).hexdigest() in text


def test_wrong_password_is_recorded(tmp_path: Path, backups: tuple[Path, Path]) -> None:
    case = _add(tmp_path, backups[1], "--password-stdin", stdin="not the password\n")
    items = _items(case)
    (manifest,) = [r for r in items if r[0] == "Manifest.db"]
    assert manifest[4] == ("encrypted backup: wrong password",)
    # Every stored blob is still an item under its stored name: nothing is lost.
    assert len([r for r in items if r[0] not in TOP]) == 6
    assert all("Domain" not in str(r[0]) for r in items)
    with case.engine.connect() as conn:
        assert conn.execute(select(s.messages.c.id)).all() == []


def test_no_password_keeps_todays_record(tmp_path: Path, backups: tuple[Path, Path]) -> None:
    case = _add(tmp_path, backups[1])
    (manifest,) = [r for r in _items(case) if r[0] == "Manifest.db"]
    assert manifest[4] == ("encrypted backup, not examined: give --password",)


def test_prompt_and_stdin_exclusive(tmp_path: Path, backups: tuple[Path, Path]) -> None:
    case_dir = tmp_path / "case"
    runner.invoke(app, ["init", str(case_dir)])
    result = runner.invoke(
        app, ["add", str(case_dir), str(backups[1]), "--password", "--password-stdin"]
    )
    assert result.exit_code != 0
    assert "choose --password or --password-stdin, not both" in result.output


def test_cbc_reader_reads_anywhere() -> None:
    """Positional decryption: any offset and length reads the plaintext there."""
    plain = bytes(range(256)) * 41 + b"tail"
    key = hashlib.sha256(b"k").digest()
    reader = CbcReader(io.BytesIO(cbc_encrypt(key, plain)), key, None)
    assert reader.size == len(plain)
    for offset, n in ((0, 5), (15, 2), (16, 16), (17, 100), (len(plain) - 3, 10), (9000, 700)):
        reader.seek(offset)
        assert reader.read(n) == plain[offset : offset + n]
    reader.seek(0)
    assert reader.read() == plain
    cut = CbcReader(io.BytesIO(cbc_encrypt(key, plain)), key, 1000)
    assert cut.read() == plain[:1000]


def test_password_prompt(tmp_path: Path, backups: tuple[Path, Path]) -> None:
    case = _add(tmp_path, backups[1], "--password", stdin=PASSWORD + "\n")
    (manifest,) = [r for r in _items(case) if r[0] == "Manifest.db"]
    assert manifest[4] == ()
    assert len([r for r in _items(case) if str(r[0]).startswith("CameraRollDomain/")]) == 3


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda bag: bag[:-10], "keybag record b'WPKY' runs past the end"),
        (
            lambda bag: bag.replace(tlv(b"ITER", ITER), tlv(b"ITER", 2**31)),
            "implausible keybag iteration count 2147483648",
        ),
    ],
)
def test_damaged_keybag_is_recorded(
    tmp_path: Path, backups: tuple[Path, Path], damage: Any, reason: str
) -> None:
    hostile = tmp_path / "backup"
    shutil.copytree(backups[1], hostile)
    info = plistlib.loads((hostile / "Manifest.plist").read_bytes())
    info["BackupKeyBag"] = damage(info["BackupKeyBag"])
    (hostile / "Manifest.plist").write_bytes(plistlib.dumps(info, fmt=plistlib.FMT_BINARY))
    case = _add(tmp_path, hostile, "--password-stdin", stdin=PASSWORD + "\n")
    items = _items(case)
    (manifest,) = [r for r in items if r[0] == "Manifest.db"]
    assert manifest[4] == (f"encrypted backup not opened: {reason}",)
    assert len([r for r in items if r[0] not in TOP]) == 6


def test_add_warns_at_once_of_a_wrong_password(tmp_path: Path, backups: tuple[Path, Path]) -> None:
    case_dir = tmp_path / "case"
    runner.invoke(app, ["init", str(case_dir)])
    result = runner.invoke(
        app, ["add", str(case_dir), str(backups[1]), "--password-stdin"], input="nope\n"
    )
    assert result.exit_code == 0, result.output
    assert "encrypted backup: wrong password; the backup is recorded as not examined" in (
        result.output
    )
    assert "nope" not in result.output


@fuzz_settings()
@given(hostile(keybag(PASSWORD, b"seed")[0]), st.integers(0, 5000) | st.none())
def test_hostile_keybags_and_files_only_raise_recorded_errors(
    data: bytes, size: int | None
) -> None:
    """A crafted keybag is a recorded reason; a crafted file reads as what it holds."""
    from unseen.phones.crypto.ios_backup_keys import DamagedKeybag, parse_keybag

    only((DamagedKeybag,), lambda: parse_keybag(data))
    reader = CbcReader(io.BytesIO(data), hashlib.sha256(data).digest(), size)
    assert len(reader.read()) == reader.size <= len(data)
