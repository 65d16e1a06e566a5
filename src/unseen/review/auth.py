"""Accounts, roles and server-side sessions.

Passwords are stored as argon2id hashes (``argon2-cffi``). A session cookie holds a
random token; the case stores only its SHA-256, so a copy of the case database
cannot be used to log in. Sessions end on logout or after an idle timeout.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update

from unseen.core.errors import UserError
from unseen.core.timeconv import utc_now
from unseen.store import schema as s

ADMIN, EXAMINER, REVIEWER, READ_ONLY = "admin", "examiner", "reviewer", "read-only"
ROLES = (ADMIN, EXAMINER, REVIEWER, READ_ONLY)
_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as long as a
# wrong password and response times do not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 8


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    blur_px: int


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in session as the request handlers see it."""

    id: int
    user: User
    csrf_token: str
    last_seen: float


def generate_password() -> str:
    """A random password of about 120 bits, easy to type (URL-safe characters)."""
    return secrets.token_urlsafe(15)


def add_user(
    conn: Connection, name: str, role: str, password: str, created_by: str, blur_px: int = 16
) -> int:
    """Create an account; names are unique and passwords at least 8 characters."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    if not name or len(name) > 128 or not name.isprintable():
        raise UserError("a user name is 1 to 128 printable characters")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")
    if conn.execute(select(s.users.c.id).where(s.users.c.name == name)).first():
        raise UserError(f"the case already has a user named {name!r}")
    new_id = conn.execute(
        insert(s.users).values(
            name=name,
            role=role,
            password_hash=_hasher.hash(password),
            created_at=utc_now(),
            created_by=created_by,
            disabled=False,
            blur_px=blur_px,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    return int(new_id)


def authenticate(conn: Connection, name: str, password: str) -> User | None:
    """The enabled user with this name and password, or None."""
    row = conn.execute(select(s.users).where(s.users.c.name == name)).first()
    stored = row.password_hash if row is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    return User(row.id, row.name, row.role, row.blur_px)


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a session token: what the case stores instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(conn: Connection, user: User) -> str:
    """Open a session for ``user``; returns the cookie token (shown to no one else)."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        insert(s.review_sessions).values(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=utc_now(),
            last_seen=time.time(),
            break_mark=0,
        )
    )
    return token


def find_session(conn: Connection, token: str) -> Session | None:
    """The open session for a cookie token, with its (enabled) user."""
    u, rs = s.users, s.review_sessions
    row = conn.execute(
        select(rs.c.id, rs.c.csrf_token, rs.c.last_seen, u.c.id.label("uid"), u.c.name)
        .add_columns(u.c.role, u.c.blur_px, u.c.disabled)
        .select_from(rs.join(u, u.c.id == rs.c.user_id))
        .where(rs.c.token_hash == token_hash(token), rs.c.ended_at.is_(None))
    ).first()
    if row is None or row.disabled:
        return None
    return Session(
        row.id, User(row.uid, row.name, row.role, row.blur_px), row.csrf_token, row.last_seen
    )


def touch_session(conn: Connection, session_id: int) -> None:
    """Record activity now (the idle timeout counts from here)."""
    conn.execute(
        update(s.review_sessions)
        .where(s.review_sessions.c.id == session_id)
        .values(last_seen=time.time())
    )


def end_session(conn: Connection, session_id: int) -> None:
    """Close a session (logout, timeout); its cookie no longer works."""
    conn.execute(
        update(s.review_sessions)
        .where(s.review_sessions.c.id == session_id, s.review_sessions.c.ended_at.is_(None))
        .values(ended_at=utc_now())
    )


def set_blur(conn: Connection, user_id: int, blur_px: int) -> None:
    """Store the user's own thumbnail blur (CSS pixels)."""
    conn.execute(update(s.users).where(s.users.c.id == user_id).values(blur_px=blur_px))


def list_users(conn: Connection) -> list[dict[str, object]]:
    """Every account without its password hash, by name."""
    u = s.users
    query = select(u.c.id, u.c.name, u.c.role, u.c.created_at, u.c.created_by, u.c.disabled)
    return [dict(r._mapping) for r in conn.execute(query.order_by(u.c.name))]
