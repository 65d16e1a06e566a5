"""The case's audit log: an append-only, hash-chained record of who did what.

Every entry stores the hash of the entry before it; its own hash is the SHA-256 of a
canonical serialisation of all its fields, ``prev_hash`` included. Editing any entry
changes its hash and breaks the link to the next one; deleting one breaks the link
across the gap.

The first entry links to a genesis hash made from the case UUID and a random secret
nonce drawn when the log starts (kept in ``case_info`` as ``audit_genesis``, the nonce
itself is discarded): nobody holding only public case data (UUID, name, reports) can
build a chain that starts right. Cases whose log began before that keep the UUID-only
genesis.

What the chain alone cannot catch (entries cut off the end; the whole chain rewritten
and re-hashed by someone who can write the database) is caught against the heads
recorded outside the database: every append also writes a signed head line
(``audit_heads``) when its transaction commits, and reports and exports carry the
signed head of their moment. ``verify(..., recorded=...)`` checks the chain against
every one of them.

Logged actions: ``login``, ``login_failed``, ``login_locked``, ``login_failed_unknown``
(one per hour), ``logout``, ``reveal``, ``reveal_thumbs`` (one per batch),
``serve_refused``, ``search``, ``view_leads``, ``report``, ``categorise``, ``undo``,
``export``, ``user_add`` and the other ``user_*`` account changes (and whatever other
review actions append).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, insert, select, text, update

from unseen.core import keys
from unseen.core.timeconv import utc_now
from unseen.store import audit_heads
from unseen.store import schema as s
from unseen.store.audit_heads import HeadRecord, Recorded
from unseen.store.case import Case, write_engine

GENESIS_PREFIX = "unseen-audit-genesis:"
GENESIS_KEY = "audit_genesis"  # case_info key of the secret genesis
# Key of the PostgreSQL advisory lock that serialises appends ("unsn").
_PG_LOCK_KEY = 0x756E736E
_FIELDS = ("id", "at", "user", "action", "target", "details", "prev_hash")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and raw UTF-8: one text per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 (hex) of an entry's canonical form: every field except ``hash``."""
    payload = canonical_json({k: entry[k] for k in _FIELDS})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def genesis_hash(conn: Connection) -> str:
    """The ``prev_hash`` of the first entry.

    The secret genesis when the log has one; else (a log begun before there was one,
    or none begun yet) the SHA-256 of the case UUID, prefixed.
    """
    info = _case_info(conn, "uuid", GENESIS_KEY)
    if info.get(GENESIS_KEY):
        return info[GENESIS_KEY]
    return _legacy_genesis(info.get("uuid", ""))


def _legacy_genesis(uuid: str) -> str:
    return hashlib.sha256(f"{GENESIS_PREFIX}{uuid}".encode()).hexdigest()


def _case_info(conn: Connection, *wanted: str) -> dict[str, str]:
    rows = conn.execute(
        select(s.case_info.c.key, s.case_info.c.value).where(s.case_info.c.key.in_(wanted))
    )
    return {str(k): str(v) for k, v in rows}


def _start_genesis(conn: Connection, uuid: str) -> str:
    """Draw the secret genesis for a log that has no entry yet (inside the append)."""
    nonce = secrets.token_hex(32)
    genesis = hashlib.sha256(f"{GENESIS_PREFIX}{uuid}:{nonce}".encode()).hexdigest()
    conn.execute(insert(s.case_info).values(key=GENESIS_KEY, value=genesis))
    return genesis


def append(conn: Connection, user: str, action: str, target: str, details: dict[str, Any]) -> str:
    """Append one entry inside the caller's transaction; returns its hash.

    Make this the transaction's first write (or use an immediate transaction): the
    placeholder row is inserted first so that, on SQLite, the write lock is held
    before the previous hash is read.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    row = {
        "at": utc_now(),
        "user": user,
        "action": action,
        "target": target,
        "details": canonical_json(details),
    }
    new_id = conn.execute(
        insert(s.audit_log).values(**row, prev_hash="", hash="")
    ).inserted_primary_key[0]  # type: ignore[index]
    prev = conn.execute(
        select(s.audit_log.c.hash)
        .where(s.audit_log.c.id < new_id)
        .order_by(s.audit_log.c.id.desc())
        .limit(1)
    ).scalar()
    info = _case_info(conn, "uuid", GENESIS_KEY)
    uuid = info.get("uuid", "")
    if info.get(GENESIS_KEY):
        genesis = info[GENESIS_KEY]
    elif prev is None:
        genesis = _start_genesis(conn, uuid)
    else:
        genesis = _legacy_genesis(uuid)
    entry = {**row, "id": int(new_id), "prev_hash": prev or genesis}
    digest = entry_hash(entry)
    conn.execute(
        update(s.audit_log)
        .where(s.audit_log.c.id == new_id)
        .values(prev_hash=entry["prev_hash"], hash=digest)
    )
    url = conn.engine.url.render_as_string(hide_password=False)
    record = audit_heads.make_record(uuid, int(new_id), digest, genesis)
    audit_heads.record_on_commit(conn, audit_heads.head_files(uuid, url), record)
    return digest


def append_alone(case: Case, user: str, action: str, target: str, details: dict[str, Any]) -> str:
    """Append one entry in its own immediate transaction on a write engine: for commands
    and tools that act outside the review server; returns its hash."""
    engine = write_engine(case.engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:
            return append(conn, user, action, target, details)
    finally:
        engine.dispose()


def audit_head(conn: Connection) -> str:
    """The hash of the latest entry (the genesis hash while the log is empty).

    Reports print it: anyone holding a printed head can later prove that no entry up
    to it was changed or removed (``unseen audit verify CASE --expect-head HASH``).
    """
    head = conn.execute(
        select(s.audit_log.c.hash).order_by(s.audit_log.c.id.desc()).limit(1)
    ).scalar()
    return str(head) if head else genesis_hash(conn)


def entries(conn: Connection, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every entry in chain order, read in pages so memory stays flat."""
    after = 0
    while True:
        rows = conn.execute(
            select(s.audit_log)
            .where(s.audit_log.c.id > after)
            .order_by(s.audit_log.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for r in rows:
            yield dict(r._mapping)
        after = rows[-1].id


def signed_head(conn: Connection) -> HeadRecord:
    """The current head as a record signed now (entry 0: the log is still empty).

    Reports and exports embed it: a copy that leaves the machine and can later be
    checked with ``unseen audit verify CASE --head FILE``.
    """
    last = conn.execute(
        select(s.audit_log.c.id, s.audit_log.c.hash).order_by(s.audit_log.c.id.desc()).limit(1)
    ).first()
    uuid = _case_info(conn, "uuid").get("uuid", "")
    genesis = genesis_hash(conn)
    entry, head = (int(last.id), str(last.hash)) if last is not None else (0, genesis)
    return audit_heads.make_record(uuid, entry, head, genesis)


def recorded_heads(conn: Connection, extra: Sequence[Path] = ()) -> Recorded:
    """Every head recorded for this case: its two heads files plus ``extra`` files."""
    uuid = _case_info(conn, "uuid").get("uuid", "")
    url = conn.engine.url.render_as_string(hide_password=False)
    return audit_heads.read_records([*audit_heads.head_files(uuid, url), *extra])


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of checking the chain: ``ok``, or the first bad entry and why.

    ``signed_heads``/``unsigned_heads`` count the distinct recorded heads checked and
    ``last_recorded`` is the newest entry one of them covers (0: none).
    """

    ok: bool
    entries: int
    head: str
    bad_entry: int | None = None
    problem: str | None = None
    signed_heads: int = 0
    unsigned_heads: int = 0
    last_recorded: int = 0


@dataclass(slots=True)
class _Heads:
    """Recorded heads after their own checks, indexed by the entry they cover."""

    by_entry: dict[int, list[HeadRecord]]
    signed: int
    unsigned: int


def verify(
    conn: Connection,
    expect_head: str | None = None,
    recorded: Recorded | None = None,
    public_keys: Sequence[Ed25519PublicKey] = (),
) -> Verdict:
    """Recompute the chain from the genesis hash; stop at the first broken entry.

    Also checks that every reviewer decision in ``reviews`` was logged (a decision
    row added or removed behind the log's back is found), and, with ``expect_head``,
    that the chain still contains that earlier head (entries cut off the end). With
    ``recorded`` (``recorded_heads``), every recorded head must carry a valid signature
    by one of ``public_keys`` and match the chain: this catches entries cut off the
    end, rows deleted and the whole chain rewritten and re-hashed.
    """
    genesis = genesis_hash(conn)
    heads = _Heads({}, 0, 0)
    if recorded is not None:
        checked = _check_records(conn, recorded, public_keys, genesis)
        if isinstance(checked, str):
            return Verdict(False, 0, genesis, None, checked)
        heads = checked
    prev, prev_id = genesis, None
    count = 0
    seen_head = expect_head is None
    logged_reviews: set[int] = set()
    matched: set[int] = set()
    for entry in entries(conn):
        count += 1
        if entry_hash(entry) != entry["hash"]:
            return _broken(count, prev, entry["id"], "was changed after it was written")
        if entry["prev_hash"] != prev:
            after = f"entry {prev_id}" if prev_id is not None else "the start of the log"
            why = f"does not follow {after}: an entry between them was removed or changed"
            return _broken(count, prev, entry["id"], why)
        for record in heads.by_entry.get(entry["id"], []):
            if record.head != entry["hash"]:
                why = f"differs from its signed head of {record.at}: the log was rewritten"
                return _broken(count, prev, entry["id"], why)
            matched.add(entry["id"])
        prev, prev_id = entry["hash"], entry["id"]
        seen_head = seen_head or prev == expect_head
        logged_reviews.update(_review_ids(entry))
    if not seen_head:
        return Verdict(False, count, prev, None, f"head {expect_head} is not in the chain")
    if problem := _unmatched(heads, matched, prev_id or 0):
        return Verdict(False, count, prev, None, problem)
    if recorded is not None and count and not heads.by_entry and _has_secret_genesis(conn):
        where = " and ".join(str(p) for p in recorded.missing_files) or "the heads files"
        problem = f"no recorded head for a log of {count} entries ({where} missing or emptied)"
        return Verdict(False, count, prev, None, problem)
    stored = set(conn.execute(select(s.reviews.c.id)).scalars())
    if unlogged := sorted(stored - logged_reviews):
        return Verdict(False, count, prev, None, f"review {unlogged[0]} has no audit entry")
    if missing := sorted(logged_reviews - stored):
        return Verdict(False, count, prev, None, f"review {missing[0]} was deleted")
    last = max(heads.by_entry, default=0)
    return Verdict(True, count, prev, None, None, heads.signed, heads.unsigned, last)


def _has_secret_genesis(conn: Connection) -> bool:
    return bool(_case_info(conn, GENESIS_KEY))


def _unmatched(heads: _Heads, matched: set[int], last_id: int) -> str | None:
    """A recorded head whose entry is gone: cut off the end, or deleted."""
    gone = sorted(set(heads.by_entry) - matched - {0})
    if not gone:
        return None
    if gone[-1] > last_id:
        record = heads.by_entry[gone[-1]][0]
        ends = f"ends at entry {last_id}" if last_id else "is empty"
        return (
            f"the log {ends} but a signed head of {record.at} records entry {record.entry}: "
            "entries were cut off the end"
        )
    record = heads.by_entry[gone[0]][0]
    return f"entry {record.entry} is missing but a signed head of {record.at} records it"


def _check_records(
    conn: Connection, recorded: Recorded, public_keys: Sequence[Ed25519PublicKey], genesis: str
) -> _Heads | str:
    """Check each recorded head on its own: it belongs here, is signed, starts right.

    Returns the heads by entry, or the first problem found.
    """
    if recorded.bad_lines:
        path, number = recorded.bad_lines[0]
        return f"line {number} of {path} is not a head record"
    uuid = _case_info(conn, "uuid").get("uuid", "")
    unique = dict.fromkeys(record for _path, record in recorded.records)  # copies agree
    where: dict[HeadRecord, Path] = {}
    for path, record in recorded.records:
        where.setdefault(record, path)  # name the first file that holds it
    first_signed = min((r.entry for r in unique if r.sig is not None), default=None)
    by_fp = {keys.fingerprint(k): k for k in public_keys}
    heads = _Heads({}, 0, 0)
    for record in unique:
        name = f"the head of entry {record.entry} in {where[record]}"
        if record.case != uuid:
            return f"{name} belongs to another case ({record.case})"
        if record.sig is None:
            if first_signed is not None and record.entry >= first_signed:
                return f"{name} is unsigned although earlier heads were signed"
            heads.unsigned += 1
        else:
            if not by_fp:
                return "cannot check the signed heads: no agency public key (give --key FILE)"
            pub = by_fp.get(record.key or "")
            if pub is None:
                return f"{name} was signed by an unknown key {record.key}"
            if not record.signature_ok(pub):
                return f"{name} has a bad signature"
            heads.signed += 1
        if record.genesis != genesis:
            return f"{name} starts from another genesis: the whole log was rebuilt"
        heads.by_entry.setdefault(record.entry, []).append(record)
    return heads


def _broken(count: int, head: str, entry_id: int, why: str) -> Verdict:
    return Verdict(False, count, head, entry_id, f"entry {entry_id} {why}")


def _review_ids(entry: dict[str, Any]) -> list[int]:
    if entry["action"] not in ("categorise", "undo"):
        return []
    try:
        details = json.loads(entry["details"])
    except ValueError:
        return []
    return [int(i) for i in details.get("reviews", [])]
