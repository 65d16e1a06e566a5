"""``unseen add --key VOLUME=KEY``: keys for encrypted volumes, kept out of the logs.

The keys are stored with the source (workers reopen its volumes in other processes
and later runs), and the audit log records which volumes got a key and each key's
SHA-256, never the key itself. The same store carries the keys of encrypted phone
data: ``whatsapp`` (``--key whatsapp=HEX64`` or ``=@KEYFILE``, the file read here so
workers need not reach it) and ``password`` (an iOS backup's, from ``--password``'s
prompt or ``--password-stdin``, never from the command line where ``ps`` shows it).
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import update

from unseen.core.errors import UserError
from unseen.core.models import SourceSpec
from unseen.sources.crypt import key_digest
from unseen.store import schema as s
from unseen.store.case import Case

_VOLUME = re.compile(r"p\d{1,4}|whole|\*|whatsapp")
WHATSAPP = "whatsapp"
PASSWORD = "password"
KEY_FILE_LIMIT = 4096


def parse_keys(values: list[str]) -> dict[str, str]:
    """``VOLUME=KEY`` options as ``{volume: key}``; errors never echo the key.

    Raises:
        UserError: an option is not ``VOLUME=KEY`` with a known volume name.
    """
    keys: dict[str, str] = {}
    for value in values:
        volume, sep, key = value.partition("=")
        if not sep or not key or not _VOLUME.fullmatch(volume):
            raise UserError(
                "--key takes VOLUME=KEY, VOLUME being p1, p2... (a partition), whole "
                "(an image that is one encrypted volume), * (any encrypted volume) or "
                "whatsapp (WhatsApp's backup key: 64 hex digits, or @KEYFILE)"
            )
        keys[volume] = _whatsapp_key(key) if volume == WHATSAPP else key
    return keys


def _whatsapp_key(value: str) -> str:
    """WhatsApp's key as stored (and digested for the audit log): the 64 hex digits
    or a key file's bytes, in lower-case hex.

    Raises:
        UserError: not a key WhatsApp writes (the message never quotes it).
    """
    from pathlib import Path

    from unseen.phones.crypto.whatsapp_keys import WrongKey, aes_keys

    if value.startswith("@"):
        try:
            with Path(value[1:]).expanduser().open("rb") as f:
                value = f.read(KEY_FILE_LIMIT + 1).hex()  # key files are a few bytes
        except OSError as exc:
            raise UserError(
                f"--key whatsapp=@FILE: cannot read {value[1:]}: {exc.strerror}"
            ) from exc
    try:
        aes_keys(value)
    except WrongKey as exc:
        raise UserError(f"--key whatsapp: {exc}") from None
    return value.lower()


def backup_password(prompt: bool, from_stdin: bool) -> dict[str, str]:
    """``{"password": ...}`` from the prompt or standard input; empty when neither.

    Raises:
        UserError: both asked for, or an empty password.
    """
    import sys

    import typer

    if prompt and from_stdin:
        raise UserError("choose --password or --password-stdin, not both")
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    elif prompt:
        secret = str(typer.prompt("backup password", hide_input=True))
    else:
        return {}
    if not secret:
        raise UserError("the backup password is empty")
    return {PASSWORD: secret}


def password_warning(kind: str, path: str, keys: dict[str, str]) -> str | None:
    """What the examiner should hear at once about a backup password given to a
    source: it does not open the backup, or the source is no backup."""
    from pathlib import Path

    from unseen.phones.sources.ios_backup import AppleBackupSource, password_problem

    password = keys.get(PASSWORD)
    if password is None:
        return None
    if kind != AppleBackupSource.NAME:
        return f"--password is for an iOS backup folder; this source is {kind}: not used"
    problem = password_problem(Path(path), password)
    return f"{problem}; the backup is recorded as not examined" if problem else None


def store_keys(case: Case, spec: SourceSpec, keys: dict[str, str], user: str) -> None:
    """Keep the keys with the source and audit their use by digest only."""
    from unseen.store import audit

    details: dict[str, Any] = {
        "source": spec.label,
        "volumes": {volume: {"key_sha256": key_digest(key)} for volume, key in keys.items()},
    }
    with case.engine.begin() as conn:
        audit.append(conn, f"cli:{user}", "volume keys", spec.label, details)
        conn.execute(
            update(s.sources)
            .where(s.sources.c.id == spec.id)
            .values(volume_keys=json.dumps(keys, sort_keys=True))
        )
