"""The agency key: private on disk, never overwritten, signatures that verify."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unseen.cli.main import app
from unseen.core import keys
from unseen.core.errors import UserError

runner = CliRunner()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_private_key_and_folder_with_owner_only_modes(tmp_path: Path) -> None:
    pub = keys.init_keys(tmp_path, "Test Unit")
    assert pub == tmp_path / "keys" / "agency.pub"
    assert _mode(tmp_path / "keys") == 0o700
    assert _mode(tmp_path / "keys" / "agency.key") == 0o600
    assert _mode(pub) == 0o644
    assert (
        (tmp_path / "keys" / "agency.key")
        .read_bytes()
        .startswith(b"-----BEGIN PRIVATE KEY-----\n")
    )
    assert pub.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")
    info = json.loads((tmp_path / "keys" / "agency.json").read_text())
    assert info["agency"] == "Test Unit"
    assert info["fingerprint"] == keys.fingerprint(keys.load_public(pub))


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    keys.init_keys(tmp_path, "A")
    before = (tmp_path / "keys" / "agency.key").read_bytes()
    with pytest.raises(UserError, match="an agency key already exists"):
        keys.init_keys(tmp_path, "B")
    assert (tmp_path / "keys" / "agency.key").read_bytes() == before


def test_sign_verify_round_trip_and_tamper(tmp_path: Path) -> None:
    pub = keys.load_public(keys.init_keys(tmp_path, "A"))
    sig = keys.sign(b"head 42", library=tmp_path)
    assert len(sig) == 64
    assert keys.verify(pub, b"head 42", sig) is True
    assert keys.verify(pub, b"head 43", sig) is False
    assert keys.verify(pub, b"head 42", sig[:-1] + bytes([sig[-1] ^ 1])) is False
    assert keys.verify(pub, b"head 42", b"short") is False
    other = keys.load_public(keys.init_keys(tmp_path / "other", "B"))
    assert keys.verify(other, b"head 42", sig) is False


def test_fingerprint_is_sha256_of_the_raw_public_key(tmp_path: Path) -> None:
    import hashlib

    pub = keys.load_public(keys.init_keys(tmp_path, "A"))
    raw = keys.raw_public(pub)
    assert len(raw) == 32
    assert keys.fingerprint(pub) == hashlib.sha256(raw).hexdigest()


def test_load_private_refuses_a_widened_key(tmp_path: Path) -> None:
    keys.init_keys(tmp_path, "A")
    key = tmp_path / "keys" / "agency.key"
    key.chmod(0o644)
    with pytest.raises(UserError) as err:
        keys.load_private(tmp_path)
    assert str(err.value) == (
        f"the agency key {key} is accessible to other users (mode 0644); run: chmod 600 {key}"
    )


def test_load_private_without_keys_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        keys.load_private(tmp_path)
    assert str(err.value) == (
        f"no agency key in {tmp_path / 'keys'}: run `unseen keys init` first"
    )


def test_cli_init_prints_pub_path_and_show_prints_fingerprint(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "init", "--agency", "Unit 7", "--library", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "keys" / "agency.pub")
    fp = keys.fingerprint(keys.load_public(tmp_path / "keys" / "agency.pub"))
    shown = runner.invoke(app, ["keys", "show", "--library", str(tmp_path)])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[:3] == [
        "agency: Unit 7",
        f"public key: {tmp_path / 'keys' / 'agency.pub'}",
        f"fingerprint: {fp}",
    ]
    again = runner.invoke(app, ["keys", "init", "--library", str(tmp_path)])
    assert again.exit_code == 2
