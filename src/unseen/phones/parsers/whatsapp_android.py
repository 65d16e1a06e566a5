"""WhatsApp for Android: ``msgstore.db`` (messages, chats, media) with ``wa.db``
(address-book names) beside it.

Two schemas are read: the current one (``message``, ``chat``, ``jid``,
``message_media``; WhatsApp moved to it in 2022) and the legacy one (``messages``
keyed by ``key_remote_jid``). Times are milliseconds since 1970; ``from_me`` is the
direction; ``message_media.file_hash`` is the base64 SHA-256 of the file, which ties
an attachment to a case item even when its path changed.

The encrypted local backups (``msgstore.db.crypt14``/``.crypt15`` in shared storage)
are decrypted with the app's key file found in the same extraction
(``data/data/com.whatsapp/files/key``) or the key given to ``unseen add --key
whatsapp=...``, into the parser's private scratch folder, and read as msgstore.db.
"""

from __future__ import annotations

import base64
import binascii
import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from unseen.core.errors import EvidenceError
from unseen.internet.base import ParseContext, ParseTask, Sibling, read_bounded
from unseen.internet.sqlite import open_copy, tables
from unseen.phones.base import (
    MESSAGE_PARSERS,
    MessageParser,
    SqliteMessageParser,
    Window,
    from_wal,
)
from unseen.phones.crypto.whatsapp_keys import (
    DamagedBackup,
    NoKeyOpens,
    TooBig,
    WrongKey,
    aes_keys,
    decrypt_backup,
    key_file_keys,
)
from unseen.phones.model import RECEIVED, SENT, Attachment, Conversation, Extract, Message
from unseen.phones.times import unix_ms

APP = "WhatsApp"
PREFS = "shared_prefs/com.whatsapp_preferences_light.xml"
PREFS_LIMIT = 4 * 1024 * 1024
GROUP_SERVER = "g.us"
STATUS = {0: "received", 4: "sent to server", 5: "delivered", 6: "control", 8: "played"}
STATUS.update({13: "read"})

CURRENT = """
SELECT m._id, m.chat_row_id, m.from_me, m.status, m.timestamp, m.text_data,
       m.message_type, cj.raw_string AS chat_jid, cj.server AS chat_server, c.subject,
       sj.raw_string AS sender_jid, {media}
FROM message m
LEFT JOIN chat c ON c._id = m.chat_row_id
LEFT JOIN jid cj ON cj._id = c.jid_row_id
LEFT JOIN jid sj ON sj._id = m.sender_jid_row_id
{join}
{where}
ORDER BY m._id
"""
MEDIA = "mm.file_path, mm.file_size, mm.mime_type, mm.file_hash, mm.media_name"
MEDIA_JOIN = "LEFT JOIN message_media mm ON mm.message_row_id = m._id"
LEGACY = """
SELECT _id, key_remote_jid, key_from_me, status, timestamp, data, remote_resource,
       media_mime_type, media_size, media_name, media_hash
FROM messages ORDER BY _id
"""
CONTACTS = "SELECT jid, display_name, wa_name FROM wa_contacts"


class WhatsAppAndroid(SqliteMessageParser):
    NAME = "whatsapp_android"
    VERSION = "1"
    DESCRIPTION = "WhatsApp for Android msgstore.db with wa.db contact names"
    APP = APP
    PATH_GLOBS = (
        "**/com.whatsapp/databases/msgstore.db",
        "**/com.whatsapp.w4b/databases/msgstore.db",
    )
    REQUIRED_TABLES: ClassVar[tuple[str, ...]] = ()
    WAL_KEYS = "SELECT _id FROM message"
    # Chunks are read only from the current schema (the one large databases have).
    CHUNK_KEYS = "SELECT _id FROM message ORDER BY _id"
    CHUNK_TABLES = ("message", "jid")

    def wal_keys(self) -> tuple[str, tuple[object, ...]]:
        where, params = window_sql("_id", self.window)
        return f"{self.WAL_KEYS} {where}", params

    @classmethod
    def sibling_paths(cls, path: str) -> tuple[str, ...]:
        folder = path[: -len("msgstore.db")]
        app = folder[: -len("databases/")]
        return (*super().sibling_paths(path), folder + "wa.db", folder + "wa.db-wal", app + PREFS)

    def parse_db(
        self, ctx: ParseContext, conn: sqlite3.Connection, checkpointed: set[object] | None
    ) -> Extract:
        return read_msgstore(
            ctx, conn, ctx.task.path[: -len("databases/msgstore.db")], checkpointed, self.window
        )


def window_sql(column: str, window: Window | None) -> tuple[str, tuple[int, ...]]:
    """The WHERE clause that keeps ``column`` inside ``window``, and its parameters."""
    low, high = window or (None, None)
    terms = [(f"{column} >= ?", low), (f"{column} < ?", high)]
    kept = [(sql, value) for sql, value in terms if value is not None]
    if not kept:
        return "", ()
    return "WHERE " + " AND ".join(sql for sql, _ in kept), tuple(v for _, v in kept)


def read_msgstore(
    ctx: ParseContext,
    conn: sqlite3.Connection,
    app: str,
    checkpointed: set[object] | None,
    window: Window | None = None,
) -> Extract:
    """Messages of an opened msgstore.db; ``app`` is the app's data folder (``.../
    com.whatsapp/``) where wa.db and the preferences are looked for. ``window`` keeps
    the messages of one chunk (current schema only: the legacy one is read whole)."""
    found = tables(conn)
    out = Extract(APP)
    names = contact_names(ctx, app)
    owner = owner_jid(ctx, app)
    if owner:
        out.contact(owner, owner=True)
    if "message" in found and "jid" in found:
        _current(conn, out, names, checkpointed, window)
    elif "messages" in found:
        if checkpointed is not None:
            checkpointed = {r[0] for r in _safe(conn, "SELECT _id FROM messages")}
        _legacy(conn, out, names, checkpointed)
    else:
        raise sqlite3.DatabaseError("not a WhatsApp msgstore.db: no message table")
    return out


def owner_jid(ctx: ParseContext, app: str) -> str | None:
    """The phone's own WhatsApp id, from the app's preferences (``registration_jid``, or
    ``cc`` + ``ph``); read as text, never parsed as XML (hostile input). Shared by the
    parser and the SQL carry (``phones.carry``), so both store the same owner."""
    text = ctx.sibling_text(app + PREFS, PREFS_LIMIT, PREFS)
    if text is None:
        return None
    values = dict(
        re.findall(r'<string name="(registration_jid|cc|ph)">([^<]{1,64})</string>', text)
    )
    if "registration_jid" in values:
        jid = values["registration_jid"]
        return jid if "@" in jid else f"{jid}@s.whatsapp.net"
    if "cc" in values and "ph" in values:
        return f"{values['cc']}{values['ph']}@s.whatsapp.net"
    return None


def _safe(conn: sqlite3.Connection, sql: str) -> list[Any]:
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.DatabaseError:
        return []


def contact_names(ctx: ParseContext, app: str) -> dict[str, str]:
    """Address-book names from the app's ``wa.db`` (empty when absent). Shared by the
    parser and the SQL carry (``phones.carry``): one reading, one recorded error."""
    sibling = ctx.sibling(app + "databases/wa.db")
    if sibling is None:
        return {}
    shadow = ParseContext(_as_task(ctx, sibling), ctx.parser_name, ctx.parser_version)
    try:
        with open_copy(shadow, WhatsAppAndroid.MAX_BYTES) as conn:
            if "wa_contacts" not in tables(conn):
                ctx.error("wa.db has no wa_contacts table: contact names not read")
                return {}
            rows = conn.execute(CONTACTS).fetchall()
    except Exception as exc:  # a broken wa.db loses names, never the messages
        ctx.error(f"wa.db not read: {exc}")
        return {}
    finally:
        shadow.cleanup()
    return {str(jid): str(disp or wa) for jid, disp, wa in rows if jid and (disp or wa)}


def _as_task(ctx: ParseContext, sibling: Sibling) -> ParseTask:
    """The task of a sibling item, to open it through its own scratch context."""
    return replace(
        ctx.task,
        item_id=sibling.item_id,
        path=sibling.path,
        locator=sibling.locator,
        size=sibling.size,
        siblings=ctx.task.siblings,
    )


def _current(
    conn: sqlite3.Connection,
    out: Extract,
    names: dict[str, str],
    checkpointed: set[object] | None,
    window: Window | None = None,
) -> None:
    """Read with SQLite's own UTF-8 decoding (a fifth of the cost of reading a million
    rows), and again with the tolerant one only when some text is not UTF-8."""
    tolerant = conn.text_factory
    contacts, counts = dict(out.contacts), (len(out.messages), len(out.conversations))
    conn.text_factory = str  # valid UTF-8 reads the same either way
    try:
        _current_rows(conn, out, names, checkpointed, window)
    except sqlite3.OperationalError as exc:
        if "decode" not in str(exc):
            raise
        out.contacts = contacts
        del out.messages[counts[0] :], out.conversations[counts[1] :]
        conn.text_factory = tolerant
        _current_rows(conn, out, names, checkpointed, window)
    finally:
        conn.text_factory = tolerant


def _current_rows(
    conn: sqlite3.Connection,
    out: Extract,
    names: dict[str, str],
    checkpointed: set[object] | None,
    window: Window | None,
) -> None:
    where, params = window_sql("m._id", window)
    if "message_media" in tables(conn):
        sql = CURRENT.format(media=MEDIA, join=MEDIA_JOIN, where=where)
    else:  # an old or damaged database: the messages still count
        sql = CURRENT.format(media="NULL, NULL, NULL, NULL, NULL", join="", where=where)
    chats: dict[str, Conversation] = {}
    members: dict[str, set[str]] = {}
    handles: dict[str, str] = {}  # sender -> its stored handle (one call per sender)
    # This loop runs once per message (millions): no per-row slicing, union types,
    # str() of known statuses or function calls that a local test can do.
    number = (int, float)
    append = out.messages.append
    for (mid, chat_id, from_me, status, ts, text, _mtype, chat_jid, server, subject,
         sender_jid, path, size, mime, fhash, mname) in conn.execute(sql, params):  # fmt: skip
        key = str(chat_jid) if chat_jid else f"chat:{chat_id}"
        is_group = server == GROUP_SERVER
        chat = chats.get(key)
        if chat is None:
            title = subject if is_group else names.get(key)
            chat = chats[key] = Conversation(key, title, is_group, (), f"chat _id {chat_id}")
            members[key] = set()
        key = chat.key  # one string per chat, shared by its (millions of) messages
        sender = None
        if not from_me:
            sender = str(sender_jid) if is_group and sender_jid else (None if is_group else key)
            if sender:
                known = handles.get(sender)
                if known is None:
                    known = handles[sender] = out.contact(sender, names.get(sender))
                sender = known
                members[key].add(sender)
        elif not is_group:
            if key not in handles:  # registered once, as a sender is
                handles[key] = out.contact(key, names.get(key))
            members[key].add(key)
        # The UTC text is derived when stored: millions of messages need not hold it here.
        raw, epoch = (ts, "unix_ms") if isinstance(ts, number) and ts else (None, None)
        media: tuple[Attachment, ...] = ()
        if path or fhash or mime:
            kind = sys.intern(mime) if isinstance(mime, str) else mime
            media = (Attachment(path, mname, kind, size, hex_sha256(fhash)),)
        label = STATUS.get(status)
        if label is None and status is not None:
            label = str(status)
        append(
            Message(
                f"message _id {mid}",
                key,
                sender,
                SENT if from_me else RECEIVED,
                None,
                raw,
                epoch,
                text,
                label,
                checkpointed is not None and mid not in checkpointed,  # from_wal
                media,
            )
        )
    for key, conv in chats.items():
        out.conversations.append(
            Conversation(
                key, conv.title, conv.is_group, tuple(sorted(members[key])), conv.record_ref
            )
        )


def _legacy(
    conn: sqlite3.Connection,
    out: Extract,
    names: dict[str, str],
    checkpointed: set[object] | None,
) -> None:
    chats: dict[str, set[str]] = {}
    for mid, jid, from_me, status, ts, text, resource, mime, size, mname, mhash in conn.execute(
        LEGACY
    ):
        key = str(jid or "unknown")
        is_group = key.endswith("@" + GROUP_SERVER)
        chats.setdefault(key, set())
        sender = None
        if not from_me:
            sender = str(resource) if is_group and resource else (None if is_group else key)
        if sender or not is_group:
            handle = sender or key
            out.contact(handle, names.get(handle))
            chats[key].add(handle)
        utc, raw, epoch = unix_ms(ts)
        media = (Attachment(None, mname, mime, size, hex_sha256(mhash)),) if mime else ()
        out.messages.append(
            Message(
                f"messages _id {mid}",
                key,
                sender,
                SENT if from_me else RECEIVED,
                utc,
                raw,
                epoch,
                text,
                STATUS.get(status),
                from_wal(mid, checkpointed),
                media,
            )
        )
    for key, who in chats.items():
        is_group = key.endswith("@" + GROUP_SERVER)
        title = None if is_group else names.get(key)
        out.conversations.append(Conversation(key, title, is_group, tuple(sorted(who)), key))


def hex_sha256(value: object) -> str | None:
    """WhatsApp's base64 SHA-256 as hex; None when it is not one. Shared by the parser
    and the SQL carry (``phones.carry``), so both store the same digests."""
    if not isinstance(value, str) or not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


class WhatsAppEncryptedBackup(MessageParser):
    """``msgstore.db.crypt12/14/15``: WhatsApp's encrypted local backups. crypt14 and
    crypt15 are decrypted with the key file of the same extraction or the key given to
    ``unseen add --key whatsapp=...`` and read as msgstore.db; without a key that opens
    them (and crypt12 always) the item is recorded with the reason, never passed over."""

    NAME = "whatsapp_android_crypt"
    VERSION = "2"
    DESCRIPTION = "WhatsApp for Android encrypted backups (msgstore.db.crypt14/15), decrypted"
    APP = APP
    PATH_GLOBS = ("**/msgstore*.db.crypt*",)
    # Decrypted and decompressed, a database is several times its backup.
    MAX_BYTES = 4 * 1024 * 1024 * 1024

    @classmethod
    def sibling_paths(cls, path: str) -> tuple[str, ...]:
        app = app_folder(path)
        if app is None:
            return ()
        return (
            *(app + name for name in KEY_FILES),
            app + "databases/wa.db",
            app + "databases/wa.db-wal",
            app + PREFS,
        )

    def parse(self, ctx: ParseContext) -> Extract:
        kind = ctx.task.path.rsplit(".", 1)[-1].lower()
        if kind not in ("crypt14", "crypt15"):
            raise EncryptedDatabase(
                f"encrypted WhatsApp backup ({kind}), not examined: only crypt14 and crypt15 "
                "backups are decrypted"
            )
        keys = _keys(ctx)
        if not keys:
            raise EncryptedDatabase(f"encrypted WhatsApp backup ({kind}), not examined: {NEEDED}")
        target = ctx.temp_dir() / "msgstore.db"
        try:
            with ctx.open() as stream, target.open("xb") as out:
                decrypt_backup(stream, keys, out, self.MAX_BYTES)
        except NoKeyOpens:
            raise EncryptedDatabase(
                f"encrypted WhatsApp backup ({kind}), not examined: no key given or found opens "
                "it; give --key whatsapp=HEX64 or whatsapp=@KEYFILE"
            ) from None
        except (DamagedBackup, TooBig) as exc:
            raise DamagedEncryptedBackup(
                f"encrypted WhatsApp backup ({kind}) not decrypted: {exc}"
            ) from None
        app = app_folder(ctx.task.path) or ""
        with _open_plain(target) as conn:
            return read_msgstore(ctx, conn, app, None)


NEEDED = "its key is needed (data/data/com.whatsapp/files/key or the end-to-end backup key)"
KEY_FILES = ("files/key", "files/encrypted_backup.key")
KEY_FILE_LIMIT = 4096
# Where shared storage starts in an extraction; the app's private folder is beside it.
# ``!`` ends the path of a container (an archive inside the evidence).
_STORAGE = re.compile(r"(?:^|[/!])(?:data/media/0|media/0|storage/emulated/0|sdcard)/", re.I)


def app_folder(path: str) -> str | None:
    """The app's data folder (``data/data/com.whatsapp/``) of the extraction a backup
    in shared storage belongs to; None when the path shows no extraction root."""
    found = _STORAGE.search(path)
    if found is None:
        return None
    root = path[: found.start() + (1 if found.group()[:1] in "/!" else 0)]
    business = "whatsapp business" in path.lower() or "com.whatsapp.w4b" in path.lower()
    return f"{root}data/data/{'com.whatsapp.w4b' if business else 'com.whatsapp'}/"


def _keys(ctx: ParseContext) -> list[bytes]:
    """AES keys to try: the one given with the source, then the extraction's key files.
    A key file that cannot be read or is not a key is recorded and skipped."""
    keys: list[bytes] = []
    given = dict(ctx.task.source.keys).get("whatsapp")
    if given:
        try:
            keys += aes_keys(given)
        except WrongKey as exc:
            ctx.error(f"the WhatsApp key given is not used: {exc}")
    app = app_folder(ctx.task.path)
    for name in KEY_FILES if app else ():
        sibling = ctx.sibling(f"{app}{name}")
        if sibling is None:
            continue
        try:
            with ctx.open_sibling(sibling) as stream:
                keys += key_file_keys(read_bounded(stream, KEY_FILE_LIMIT, sibling.path))
        except (WrongKey, OSError, EvidenceError) as exc:
            ctx.error(f"{sibling.path} is not a key WhatsApp writes: {exc}")
    return list(dict.fromkeys(keys))


@contextmanager
def _open_plain(path: Path) -> Iterator[sqlite3.Connection]:
    """The decrypted database (a private scratch file), opened as evidence copies are:
    writable by SQLite (a WAL-mode file needs its shared memory), not by statements."""
    conn = sqlite3.connect(path.as_uri(), uri=True)
    conn.text_factory = lambda raw: raw.decode("utf-8", "backslashreplace")
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        yield conn
    finally:
        conn.close()


class EncryptedDatabase(EvidenceError):
    """A database the phone keeps encrypted, and whose key we do not have."""


class DamagedEncryptedBackup(EvidenceError):
    """An encrypted backup that a key opens but whose content is damaged."""


MESSAGE_PARSERS.register(WhatsAppAndroid)
MESSAGE_PARSERS.register(WhatsAppEncryptedBackup)
