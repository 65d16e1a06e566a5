"""Accounts, roles and server-side sessions.

Passwords are stored as argon2id hashes (``argon2-cffi``). A session cookie holds a
random token; the case stores only its SHA-256, so a copy of the case database
cannot be used to log in. Sessions end on logout or after an idle timeout.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, insert, select, update

from unseen.core.errors import UserError
from unseen.core.timeconv import utc_now
from unseen.review.throttle import unlock
from unseen.store import audit
from unseen.store import schema as s
from unseen.store.case import Case, write_engine

ADMIN, EXAMINER, REVIEWER, READ_ONLY = "admin", "examiner", "reviewer", "read-only"
ROLES = (ADMIN, EXAMINER, REVIEWER, READ_ONLY)
_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as long as a
# wrong password and response times do not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD = 8
# Stored for removed accounts: not a PHC string, so no password ever verifies.
REMOVED_HASH = "!removed"


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


def user_exists(conn: Connection, name: str) -> bool:
    """Whether an account (enabled or not, removed included) has this name."""
    return conn.execute(select(s.users.c.id).where(s.users.c.name == name)).first() is not None


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
    """Every account without its password hash, by name, with its state and live
    sessions (``active``, ``disabled``, ``removed``; ``locked`` after failed logins)."""
    u, rs, t = s.users, s.review_sessions, s.login_throttle
    query = select(u.c.id, u.c.name, u.c.role, u.c.created_at, u.c.created_by, u.c.disabled)
    query = query.add_columns(u.c.removed_at)
    locked = {
        k[len("user:") :]
        for k in conn.execute(select(t.c.key).where(t.c.locked_at.is_not(None))).scalars()
    }
    live: dict[int, int] = {}
    for uid in conn.execute(select(rs.c.user_id).where(rs.c.ended_at.is_(None))).scalars():
        live[uid] = live.get(uid, 0) + 1
    users = []
    for r in conn.execute(query.order_by(u.c.name)):
        row = dict(r._mapping)
        state = "removed" if r.removed_at else "disabled" if r.disabled else "active"
        row["state"] = state + (", locked" if r.name in locked else "")
        row["sessions"] = live.get(r.id, 0)
        users.append(row)
    return users


def get_account(conn: Connection, name: str) -> Row[Any]:
    """The account's row (any state), or a UserError naming the missing user."""
    row = conn.execute(select(s.users).where(s.users.c.name == name)).first()
    if row is None:
        raise UserError(f"the case has no user named {name!r}")
    return row


def revoke_sessions(conn: Connection, user_id: int) -> int:
    """End every open session of the user now (their next request logs them out)."""
    rs = s.review_sessions
    done = conn.execute(
        update(rs)
        .where(rs.c.user_id == user_id, rs.c.ended_at.is_(None))
        .values(ended_at=utc_now())
    )
    return int(done.rowcount or 0)


def open_sessions(conn: Connection, name: str) -> list[dict[str, object]]:
    """The user's sessions that have not ended, oldest first."""
    rs = s.review_sessions
    account = get_account(conn, name)
    rows = conn.execute(
        select(rs.c.id, rs.c.created_at, rs.c.last_seen)
        .where(rs.c.user_id == account.id, rs.c.ended_at.is_(None))
        .order_by(rs.c.id)
    )
    return [dict(r._mapping) for r in rows]


def set_disabled(conn: Connection, name: str, disabled: bool) -> int:
    """Disable (sessions revoked at once) or re-enable an account; returns sessions ended."""
    account = get_account(conn, name)
    if account.removed_at and not disabled:
        raise UserError(f"{name!r} was removed; add a new account instead")
    conn.execute(update(s.users).where(s.users.c.id == account.id).values(disabled=disabled))
    return revoke_sessions(conn, account.id) if disabled else 0


def remove_user(conn: Connection, name: str) -> int:
    """Remove an account: it can never log in again, its sessions end now. The row and
    its name stay, so the audit log's entries by that name keep meaning one person."""
    account = get_account(conn, name)
    conn.execute(
        update(s.users)
        .where(s.users.c.id == account.id)
        .values(disabled=True, removed_at=utc_now(), password_hash=REMOVED_HASH)
    )
    return revoke_sessions(conn, account.id)


def reset_password(conn: Connection, name: str, password: str) -> int:
    """Give the account a new password; its open sessions end (whoever held them)."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password has at least {MIN_PASSWORD} characters")
    account = get_account(conn, name)
    if account.removed_at:
        raise UserError(f"{name!r} was removed; add a new account instead")
    conn.execute(
        update(s.users)
        .where(s.users.c.id == account.id)
        .values(password_hash=_hasher.hash(password))
    )
    return revoke_sessions(conn, account.id)


def set_role(conn: Connection, name: str, role: str) -> tuple[str, int]:
    """Change the account's role; returns the old role and the sessions ended (pages
    open and media links granted under the old role must not outlive it)."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    account = get_account(conn, name)
    conn.execute(update(s.users).where(s.users.c.id == account.id).values(role=role))
    return str(account.role), revoke_sessions(conn, account.id)


# Account changes made outside the server (the account commands, the screenshot tool).
# Each runs with its audit entry in one immediate transaction on the write engine, so
# an account never changes without the log saying who changed it, and a change that
# fails leaves no entry behind. The actor is how the log names whoever ran it, e.g.
# ``cli:<operating-system user>``.


def _audited(
    case: Case, actor: str, action: str, name: str, change: Callable[[Connection], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``change`` (it returns the audit details) and append its audit entry."""
    engine = write_engine(case.engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:  # BEGIN IMMEDIATE: the write lock is held already
            details = change(conn)
            audit.append(conn, actor, action, name, details)
    finally:
        engine.dispose()
    return details


def create_account(
    case: Case, actor: str, name: str, role: str, password: str, created_by: str
) -> None:
    """Add an account (``created_by``: the person, as the users table shows them)."""

    def change(conn: Connection) -> dict[str, Any]:
        add_user(conn, name, role, password, created_by=created_by)
        return {"role": role}

    _audited(case, actor, "user_add", name, change)


def disable_account(case: Case, actor: str, name: str) -> int:
    """Disable the account; returns the open sessions ended."""
    done = _audited(
        case,
        actor,
        "user_disable",
        name,
        lambda c: {"sessions_ended": set_disabled(c, name, True)},
    )
    return int(done["sessions_ended"])


def enable_account(case: Case, actor: str, name: str) -> None:
    """Enable a disabled account again."""

    def change(conn: Connection) -> dict[str, Any]:
        set_disabled(conn, name, False)
        return {}

    _audited(case, actor, "user_enable", name, change)


def remove_account(case: Case, actor: str, name: str) -> int:
    """Remove the account for good; returns the open sessions ended."""
    done = _audited(
        case, actor, "user_remove", name, lambda c: {"sessions_ended": remove_user(c, name)}
    )
    return int(done["sessions_ended"])


def reset_account(case: Case, actor: str, name: str, password: str) -> int:
    """Set a new password; returns the open sessions ended."""
    done = _audited(
        case,
        actor,
        "user_reset",
        name,
        lambda c: {"sessions_ended": reset_password(c, name, password)},
    )
    return int(done["sessions_ended"])


def change_role(case: Case, actor: str, name: str, role: str) -> tuple[str, int]:
    """Give the account another role; returns the old role and the sessions ended."""

    def change(conn: Connection) -> dict[str, Any]:
        old, ended = set_role(conn, name, role)
        return {"from": old, "to": role, "sessions_ended": ended}

    done = _audited(case, actor, "user_role", name, change)
    return str(done["from"]), int(done["sessions_ended"])


def revoke_account(case: Case, actor: str, name: str) -> int:
    """End every open session of the account now; returns how many."""
    done = _audited(
        case,
        actor,
        "user_revoke",
        name,
        lambda c: {"sessions_ended": revoke_sessions(c, get_account(c, name).id)},
    )
    return int(done["sessions_ended"])


def unlock_account(case: Case, actor: str, name: str) -> bool:
    """Lift the account's login lockout; returns whether it was locked."""

    def change(conn: Connection) -> dict[str, Any]:
        get_account(conn, name)
        return {"was_locked": unlock(conn, name)}

    return bool(_audited(case, actor, "user_unlock", name, change)["was_locked"])
