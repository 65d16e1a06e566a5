"""``unseen add --key VOLUME=KEY``: keys for encrypted volumes, kept out of the logs.

The keys are stored with the source (workers reopen its volumes in other processes
and later runs), and the audit log records which volumes got a key and each key's
SHA-256, never the key itself.
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

_VOLUME = re.compile(r"p\d{1,4}|whole|\*")


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
                "(an image that is one encrypted volume) or * (any encrypted volume)"
            )
        keys[volume] = key
    return keys


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
