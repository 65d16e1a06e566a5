"""Login throttling: exponential back-off per account and per address, and lockout.

Each failed login counts against the account (``user:NAME``, when it exists) and the
client address (``addr:IP``). After ``login_free_failures`` failures every further
attempt must wait ``login_backoff_s * 2**(n - free)`` seconds (capped) since the last
failure; attempts during the wait are refused without checking the password, so a
guesser gets a handful of tries an hour instead of thousands a second. An account
with ``login_lockout_after`` failures is locked until an admin unlocks it
(``unseen user unlock``). A success clears both counters.

Failed logins for names no account has are not audited one by one: an attacker
choosing names could flood the audit log and push real entries off its page. They
are counted per hour in ``login_unknown`` (a few distinct names kept, truncated and
escaped), and the audit log gets one entry per hour that had any.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from unseen.core.timeconv import utc_now
from unseen.review.config import ReviewConfig
from unseen.store import schema as s

NAMES_KEPT = 20  # distinct unknown names remembered per window
NAME_CHARS = 40  # of each


@dataclass(frozen=True, slots=True)
class Block:
    """Why an attempt may not be checked now: locked, or seconds left to wait."""

    locked: bool
    wait_s: int


def user_key(name: str) -> str:
    return f"user:{name[:128]}"


def addr_key(address: str) -> str:
    return f"addr:{address[:64]}"


def blocked(conn: Connection, keys: list[str], config: ReviewConfig) -> Block | None:
    """The block on any of ``keys`` now, or None when the attempt may be checked."""
    t = s.login_throttle
    rows = conn.execute(select(t).where(t.c.key.in_(keys))).all()
    wait = 0.0
    for row in rows:
        if row.locked_at is not None:
            return Block(True, 0)
        extra = row.failures - config.login_free_failures
        if extra >= 0:
            delay = min(config.login_backoff_max_s, config.login_backoff_s * 2**extra)
            wait = max(wait, row.last_failure + delay - time.time())
    return Block(False, int(wait) + 1) if wait > 0 else None


def record_failure(conn: Connection, key: str, lock_after: int | None = None) -> bool:
    """Count one failure for ``key``; True when this one locks it (accounts only)."""
    t = s.login_throttle
    now = time.time()
    row = conn.execute(select(t).where(t.c.key == key)).first()
    failures = (row.failures if row is not None else 0) + 1
    lock = lock_after is not None and failures >= lock_after and not (row and row.locked_at)
    values = {"failures": failures, "last_failure": now}
    if lock:
        values["locked_at"] = utc_now()
    if row is None:
        conn.execute(insert(t).values(key=key, **values))
    else:
        conn.execute(update(t).where(t.c.key == key).values(**values))
    return lock


def clear(conn: Connection, *keys: str) -> None:
    """Forget the failures of ``keys`` (after a successful login)."""
    conn.execute(delete(s.login_throttle).where(s.login_throttle.c.key.in_(keys)))


def unlock(conn: Connection, name: str) -> bool:
    """Lift the account's lockout and back-off; True when there was anything to lift."""
    t = s.login_throttle
    done = conn.execute(delete(t).where(t.c.key == user_key(name)))
    return bool(done.rowcount)


def locked_accounts(conn: Connection) -> list[str]:
    t = s.login_throttle
    rows = conn.execute(select(t.c.key).where(t.c.locked_at.is_not(None), t.c.key.like("user:%")))
    return sorted(k[len("user:") :] for k in rows.scalars())


def shown_name(name: str) -> str:
    """An attacker-chosen name made safe to keep: truncated, non-printables escaped."""
    cut = name[:NAME_CHARS]
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in cut)
    return text + ("..." if len(name) > NAME_CHARS else "")


def record_unknown(conn: Connection, name: str) -> str | None:
    """Count a failed login for a name no account has; returns the hour window when
    this is its first failure (the caller audits that once), else None."""
    u = s.login_unknown
    window = utc_now()[:13] + ":00:00Z"
    row = conn.execute(select(u).where(u.c.window == window)).first()
    shown = shown_name(name)
    if row is None:
        conn.execute(
            insert(u).values(
                window=window, failures=1, names=json.dumps([shown], ensure_ascii=False)
            )
        )
        return window
    names = json.loads(row.names)
    if shown not in names and len(names) < NAMES_KEPT:
        names.append(shown)
    conn.execute(
        update(u)
        .where(u.c.window == window)
        .values(failures=row.failures + 1, names=json.dumps(names, ensure_ascii=False))
    )
    return None


def unknown_windows(conn: Connection, limit: int = 48) -> list[dict[str, object]]:
    """The latest hours with failed logins for unknown names (for the users page)."""
    u = s.login_unknown
    rows = conn.execute(select(u).order_by(u.c.window.desc()).limit(limit))
    return [
        {"window": r.window, "failures": r.failures, "names": json.loads(r.names)} for r in rows
    ]
