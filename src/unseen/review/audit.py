"""The case's audit log: an append-only, hash-chained record of who did what.

Every entry stores the hash of the entry before it; its own hash is the SHA-256 of a
canonical serialisation of all its fields, ``prev_hash`` included. Editing any entry
changes its hash and breaks the link to the next one; deleting one breaks the link
across the gap. The first entry links to a genesis hash derived from the case's
UUID, so a log cannot be moved to another case unnoticed. Cutting entries off the
end leaves a shorter valid chain: that is caught against a head hash recorded
elsewhere (the summary report prints it; ``verify(expect_head=...)`` checks it).

Logged actions: ``login``, ``login_failed``, ``logout``, ``reveal``, ``categorise``,
``undo``, ``export``, ``user_add``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, text, update

from unseen.core.timeconv import utc_now
from unseen.store import schema as s

GENESIS_PREFIX = "unseen-audit-genesis:"
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
    """The ``prev_hash`` of the first entry: SHA-256 of the case UUID, prefixed."""
    uuid = conn.execute(select(s.case_info.c.value).where(s.case_info.c.key == "uuid")).scalar()
    return hashlib.sha256(f"{GENESIS_PREFIX}{uuid or ''}".encode()).hexdigest()


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
    entry = {**row, "id": int(new_id), "prev_hash": prev or genesis_hash(conn)}
    digest = entry_hash(entry)
    conn.execute(
        update(s.audit_log)
        .where(s.audit_log.c.id == new_id)
        .values(prev_hash=entry["prev_hash"], hash=digest)
    )
    return digest


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


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of checking the chain: ``ok``, or the first bad entry and why."""

    ok: bool
    entries: int
    head: str
    bad_entry: int | None = None
    problem: str | None = None


def verify(conn: Connection, expect_head: str | None = None) -> Verdict:
    """Recompute the chain from the genesis hash; stop at the first broken entry.

    Also checks that every reviewer decision in ``reviews`` was logged (a decision
    row added or removed behind the log's back is found), and, with ``expect_head``,
    that the chain still contains that earlier head (entries cut off the end).
    """
    prev, prev_id = genesis_hash(conn), None
    count = 0
    seen_head = expect_head is None
    logged_reviews: set[int] = set()
    for entry in entries(conn):
        count += 1
        if entry_hash(entry) != entry["hash"]:
            return _broken(count, prev, entry["id"], "was changed after it was written")
        if entry["prev_hash"] != prev:
            after = f"entry {prev_id}" if prev_id is not None else "the start of the log"
            why = f"does not follow {after}: an entry between them was removed or changed"
            return _broken(count, prev, entry["id"], why)
        prev, prev_id = entry["hash"], entry["id"]
        seen_head = seen_head or prev == expect_head
        logged_reviews.update(_review_ids(entry))
    if not seen_head:
        return Verdict(False, count, prev, None, f"head {expect_head} is not in the chain")
    stored = set(conn.execute(select(s.reviews.c.id)).scalars())
    if unlogged := sorted(stored - logged_reviews):
        return Verdict(False, count, prev, None, f"review {unlogged[0]} has no audit entry")
    if missing := sorted(logged_reviews - stored):
        return Verdict(False, count, prev, None, f"review {missing[0]} was deleted")
    return Verdict(True, count, prev)


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
