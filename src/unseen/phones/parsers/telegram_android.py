"""Telegram for Android: ``files/cache4.db`` of ``org.telegram.messenger``.

``messages_v2`` holds one row per message (``mid`` and ``uid``, the dialog, as key;
``date`` in seconds since 1970; ``out``; ``data``, the message object in Telegram's TL
serialisation, read by ``telegram_tl``). The dialog id says what the chat is: a
positive id is a user, a negative one a group or channel (``-chat id``), and one with
bit 62 set a secret chat (its low 32 bits the ``enc_chats`` id; before 2021 the secret
chat id was the high 32 bits, the low ones zero). ``users`` and ``chats`` give names
(``name`` is Telegram's lower-cased search key, the username after ``;;;``; the name as
written is taken from the row's object when its layout checks out); ``dialogs`` lists
the chats; ``enc_chats`` the secret chats (recorded as conversations; their messages
use their own layouts).

A message whose object cannot be read is still recorded (time, direction, dialog),
with its text absent and the reason in the item's errors. Photos and documents are
attachments named as Telegram saves them under ``Telegram/`` (``telegram_tl``), tied
to case items by that path; those that cannot be named are recorded absent.
"""

from __future__ import annotations

import base64
import binascii
import re
import sqlite3
from collections import Counter, defaultdict
from typing import Any, ClassVar

from unseen.internet.base import ParseContext
from unseen.internet.sqlite import tables
from unseen.phones.base import MESSAGE_PARSERS, SqliteMessageParser, from_wal
from unseen.phones.model import RECEIVED, SENT, Attachment, Conversation, Extract, Message
from unseen.phones.parsers.telegram_tl import (
    Decoded,
    Media,
    decode_message,
    proper_name,
    user_id,
)
from unseen.phones.parsers.tl import TLError

APP = "Telegram"
SECRET_BIT = 1 << 62
ERRORS_LISTED = 50  # per-message reasons written out; the rest are counted
MAX_BLOB = 1024 * 1024  # a message object is a few hundred bytes; larger is not read
DB = "files/cache4.db"
# The first account's preferences (Telegram's own spelling); "user" is its serialised
# user object, base64.
PREFS = "shared_prefs/userconfing.xml"
PREFS_LIMIT = 4 * 1024 * 1024

MESSAGES = "SELECT mid, uid, date, out, data FROM messages_v2 ORDER BY date, uid, mid"
USERS = "SELECT uid, name, data FROM users ORDER BY uid"
CHATS = "SELECT uid, name, data FROM chats ORDER BY uid"
DIALOGS = "SELECT did FROM dialogs ORDER BY did"
SECRET_CHATS = "SELECT uid, user, name FROM enc_chats ORDER BY uid"


class TelegramAndroid(SqliteMessageParser):
    NAME = "telegram_android"
    VERSION = "1"
    DESCRIPTION = "Telegram for Android cache4.db: users, chats, secret chats, messages, media"
    APP = APP
    PATH_GLOBS = ("**/org.telegram.messenger*/files/cache4.db",)
    REQUIRED_TABLES: ClassVar[tuple[str, ...]] = ("messages_v2",)
    WAL_KEYS = "SELECT uid || ':' || mid FROM messages_v2"

    @classmethod
    def sibling_paths(cls, path: str) -> tuple[str, ...]:
        return (*super().sibling_paths(path), path[: -len(DB)] + PREFS)

    def parse_db(
        self, ctx: ParseContext, conn: sqlite3.Connection, checkpointed: set[object] | None
    ) -> Extract:
        found = tables(conn)
        out = Extract(APP)
        users = _names(conn, USERS, "user") if "users" in found else {}
        chats = _names(conn, CHATS, "chat") if "chats" in found else {}
        owner = _owner(ctx, set(users))
        if owner is not None:  # registered first: a known contact keeps its flags
            out.contact(str(owner), users.get(owner), owner=True)
        for uid, name in users.items():
            out.contact(str(uid), name)
        secret = _secret_chats(conn) if "enc_chats" in found else {}
        dialogs = [int(r[0]) for r in conn.execute(DIALOGS)] if "dialogs" in found else []
        losses = _Losses(ctx)
        members: dict[str, set[str]] = defaultdict(set)
        seen: dict[int, str] = {}
        for mid, uid, date, is_out, blob in conn.execute(MESSAGES):
            dialog = uid if isinstance(uid, int) else 0  # hostile: a row without one
            key = seen.setdefault(dialog, _key(dialog))
            ref = f"messages_v2 mid {mid} uid {uid}"
            decoded = _decode(blob, ref, losses)
            sender = None
            if not is_out:
                sender = _sender(out, dialog, decoded, users, secret)
                if sender and dialog < 0:
                    members[key].add(sender)
            files: tuple[Attachment, ...] = ()
            if decoded and decoded.media:
                files = (_attachment(decoded.media),)
                if decoded.media.local_name is None:
                    losses.add(ref, "its photo could not be named (no stored size)")
            elif decoded and decoded.media_error:
                losses.add(ref, f"its media not read: {decoded.media_error}")
            stamp = date if isinstance(date, int) and date else None
            out.messages.append(
                Message(
                    ref,
                    key,
                    sender,
                    SENT if is_out else RECEIVED,
                    None,
                    stamp,
                    "unix_s" if stamp is not None else None,
                    decoded.text if decoded else None,
                    "service" if decoded and decoded.service else None,
                    from_wal(f"{uid}:{mid}", checkpointed),
                    files,
                )
            )
        for did in dialogs:
            seen.setdefault(did, _key(did))
        for chat_id, (user, _name) in secret.items():
            key = seen.setdefault(SECRET_BIT | chat_id, _key(SECRET_BIT | chat_id))
            if user is not None:
                members[key].add(out.contact(str(user), users.get(user)))
        # One conversation per key: a secret chat may appear under both id schemes.
        first = {key: dialog for dialog, key in sorted(seen.items(), reverse=True)}
        for key, dialog in sorted(first.items()):
            if dialog > 0 and _secret_id(dialog) is None:  # a one-to-one chat: its user
                members[key].add(out.contact(str(dialog), users.get(dialog)))
            out.conversations.append(
                Conversation(
                    key,
                    _title(dialog, users, chats, secret),
                    dialog < 0,
                    tuple(sorted(members[key])),
                    f"dialog {dialog}",
                )
            )
        losses.close()
        return out


class _Losses:
    """Per-message losses: the first ``ERRORS_LISTED`` written out, all counted by reason."""

    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx
        self.listed = 0
        self.unlisted: Counter[str] = Counter()

    def add(self, ref: str, reason: str) -> None:
        if self.listed < ERRORS_LISTED:
            self.listed += 1
            self.ctx.error(f"{ref}: {reason}")
        else:
            self.unlisted[reason.split(":")[0]] += 1

    def close(self) -> None:
        for reason, count in sorted(self.unlisted.items()):
            self.ctx.error(f"{count} more messages: {reason}")


def _decode(blob: object, ref: str, losses: _Losses) -> Decoded | None:
    if not isinstance(blob, bytes) or not blob:
        losses.add(ref, "text not read: no message object stored")
        return None
    if len(blob) > MAX_BLOB:
        losses.add(ref, f"text not read: a {len(blob)}-byte message object, over the limit")
        return None
    try:
        return decode_message(blob)
    except TLError as exc:
        losses.add(ref, f"text not read: {exc}")
        return None


def _owner(ctx: ParseContext, known: set[int]) -> int | None:
    """The account's own user id, from the app's preferences; read as text, never
    parsed as XML (hostile input)."""
    text = ctx.sibling_text(ctx.task.path[: -len(DB)] + PREFS, PREFS_LIMIT, PREFS)
    if text is None:
        return None
    found = re.search(r'<string name="user">([A-Za-z0-9+/=\s]{8,200000})</string>', text)
    if found is None:
        return None
    try:
        blob = base64.b64decode("".join(found.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        ctx.error(f"{PREFS}: the account's user object is not base64")
        return None
    owner = user_id(blob, known)
    if owner is None:
        ctx.error(f"{PREFS}: the account's user object names no user of cache4.db")
    return owner


def _secret_id(dialog: int) -> int | None:
    """The ``enc_chats`` id of a secret chat's dialog id, else None."""
    if dialog <= 0:
        return None
    if dialog & SECRET_BIT:
        return dialog & 0xFFFFFFFF
    if not dialog & 0xFFFFFFFF:
        return dialog >> 32
    return None


def _key(dialog: int) -> str:
    secret = _secret_id(dialog)
    return f"dialog:{dialog}" if secret is None else f"secret:{secret}"


def _sender(
    out: Extract,
    dialog: int,
    decoded: Decoded | None,
    users: dict[int, str],
    secret: dict[int, tuple[int | None, str | None]],
) -> str | None:
    """Who sent a received message: the other user of a one-to-one or secret chat,
    the ``from_id`` of the object in a group (None when it could not be read)."""
    chat_id = _secret_id(dialog)
    if chat_id is not None:
        user = secret.get(chat_id, (None, None))[0]
        return None if user is None else out.contact(str(user), users.get(user))
    if dialog > 0:
        return out.contact(str(dialog), users.get(dialog))
    if decoded is None or decoded.sender is None:
        return None
    kind, peer_id = decoded.sender
    if kind == "user":
        return out.contact(str(peer_id), users.get(peer_id))
    return out.contact(f"{kind}:{peer_id}")


def _attachment(media: Media) -> Attachment:
    path = f"{media.folder}/{media.local_name}" if media.local_name else None
    return Attachment(path, media.original_name or media.local_name, media.mime, media.size)


def _title(
    dialog: int,
    users: dict[int, str],
    chats: dict[int, str],
    secret: dict[int, tuple[int | None, str | None]],
) -> str | None:
    chat_id = _secret_id(dialog)
    if chat_id is not None:
        user, name = secret.get(chat_id, (None, None))
        who = name or (users.get(user) if user is not None else None)
        return f"secret chat with {who}" if who else "secret chat"
    if dialog > 0:
        return users.get(dialog)
    return chats.get(-dialog)


def _names(conn: sqlite3.Connection, sql: str, kind: str) -> dict[int, str]:
    """id -> name: as written, from the object, where its layout checks out against the
    row; else the row's lower-cased search key (``name`` up to ``;;;``)."""
    found: dict[int, str] = {}
    for uid, name, blob in conn.execute(sql):
        shown = str(name).split(";;;", 1)[0].strip() if name is not None else ""
        if isinstance(uid, int) and shown:
            found[uid] = proper_name(blob, uid, shown, kind) or shown
    return found


def _secret_chats(conn: sqlite3.Connection) -> dict[int, tuple[int | None, str | None]]:
    rows: list[Any] = conn.execute(SECRET_CHATS).fetchall()
    return {
        int(uid): (user if isinstance(user, int) else None, str(name) if name else None)
        for uid, user, name in rows
        if isinstance(uid, int)
    }


MESSAGE_PARSERS.register(TelegramAndroid)
