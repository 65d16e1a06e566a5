"""Reveal grants: short-lived, signed tokens naming a session, its items and a purpose.

An audited reveal hands the browser a token; the media route serves the clear picture
only with it. The token carries everything needed to check it (purpose, session,
items, expiry), signed with HMAC-SHA256 under the case's review key, so any server
process of the case checks what another one issued: several ``unseen serve``
processes (``--processes``, or servers behind one address) need no shared memory and
no sticky sessions. The purpose is signed too, so a thumbnail grant never opens a
full-size medium. The key is a random file in the case folder (owner-only, like the
case itself): whoever can read it can already read the thumbnails and the database.

The meter that caps thumbnail reveals per session and minute lives in the case
database (``reveal_meter``) for the same reason: one count over all processes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from sqlalchemy import Connection, delete, func, insert, select

from unseen.store import schema as s
from unseen.store.privacy import FILE_MODE

KEY_FILE = "review.key"
KEY_BYTES = 32
MAX_ITEMS = 256  # items one token may name (a thumbnail batch is far below it)
WINDOW_S = 60  # the thumbnail meter's window
KEPT_S = 2 * WINDOW_S  # meter rows older than this are dropped as new ones come


def review_key(case_root: Path) -> bytes:
    """The case's review key, made on first use; every server process reads the same.

    Created exclusively (``O_EXCL``), so two processes starting at once agree on one
    key: the loser of the race reads the winner's file.
    """
    path = case_root / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(KEY_BYTES))
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    deadline = time.monotonic() + 5
    while True:  # a racing creator may not have written its bytes yet
        key = path.read_bytes()
        if len(key) >= KEY_BYTES or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    if len(key) < KEY_BYTES:
        raise OSError(f"{path} holds no review key; remove it to make a new one")
    return key


class Grants:
    """Issue and check signed grants of one purpose (``full`` or ``thumb``)."""

    def __init__(self, key: bytes, purpose: str, lifetime_s: int) -> None:
        self._key = key
        self.purpose = purpose
        self.lifetime_s = lifetime_s

    def issue(self, session_id: int, items: int | frozenset[int]) -> str:
        named = sorted([items] if isinstance(items, int) else items)
        if not named or len(named) > MAX_ITEMS:
            raise ValueError(f"a grant names 1 to {MAX_ITEMS} items")
        expires = int(time.time()) + self.lifetime_s
        body = f"{expires}.{session_id}.{'-'.join(map(str, named))}"
        return f"{body}.{self._mac(body)}"

    def check(self, token: str, session_id: int, item_id: int) -> bool:
        """True when ``token`` is this purpose's, unexpired, for this session and item."""
        body, _, mac = token.rpartition(".")
        if not body or not token.isascii() or not hmac.compare_digest(mac, self._mac(body)):
            return False
        expires, session, items = body.split(".", 2)
        return (
            int(expires) > time.time()
            and int(session) == session_id
            and str(item_id) in items.split("-")
        )

    def _mac(self, body: str) -> str:
        message = f"{self.purpose}.{body}".encode("ascii", "replace")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def meter_allows(conn: Connection, session_id: int, count: int, limit: int) -> bool:
    """Count ``count`` thumbnail reveals against the session's last minute, in the
    caller's write transaction; False (nothing counted) when that would pass ``limit``."""
    now = time.time()
    m = s.reveal_meter.c
    conn.execute(delete(s.reveal_meter).where(m.at < now - KEPT_S))
    recent = select(func.coalesce(func.sum(m.count), 0)).where(
        m.session_id == session_id, m.at > now - WINDOW_S
    )
    if int(conn.execute(recent).scalar_one()) + count > limit:
        return False
    conn.execute(insert(s.reveal_meter).values(session_id=session_id, at=now, count=count))
    return True
