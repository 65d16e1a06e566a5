"""Attachments tied to case items, and the provenance facts that follow from them.

An attachment is tied first by the SHA-256 its database holds (exact content, wherever
the file went), else by path: the path the app wrote, stripped of its home prefix
(``~/``, ``/var/mobile/``), must end the item's path in the same source (an iOS
backup shows ``MediaDomain/Library/SMS/Attachments/...``, an extraction
``private/var/mobile/Library/SMS/Attachments/...``). Nothing tied: ``absent``.
Provenance is derived again whole on every run, so it always agrees with the links.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, null, select, update

from unseen.internet.plan import item_pages
from unseen.store import schema as s

_HOMES = ("/private/var/mobile/", "/var/mobile/", "~/", "/")
IN_CHUNK = 500


@dataclass
class Links:
    """What relinking found: the rows whose links change, per table, and the counts."""

    changes: list[tuple[Any, list[dict[str, Any]]]]
    tied: int
    absent: int


def find_links(conn: Connection) -> Links:
    """Tie every attachment and photo-library asset to an item where possible: read
    only (so it can run while another connection writes the text index); the changes
    are written by ``store_links``."""
    a, m, i, ma = s.msg_attachments, s.messages, s.items, s.media_assets
    attachments = conn.execute(
        select(
            a.c.id, a.c.ref_path, a.c.sha256, a.c.linked_item_id, a.c.link_method, i.c.source_id
        )
        .join(m, m.c.id == a.c.message_id)
        .join(i, i.c.id == m.c.item_id)
    ).all()
    assets = conn.execute(
        select(
            ma.c.id, ma.c.ref_path, null().label("sha256"), ma.c.linked_item_id,
            ma.c.link_method, i.c.source_id,
        ).join(i, i.c.id == ma.c.db_item_id)
    ).all()  # fmt: skip
    by_hash = _items_by_sha256(conn)  # only attachments hold digests
    by_name = _items_by_name(
        conn, {_name(path) for _, path, *_ in chain(attachments, assets) if path}
    )
    changes, tied = [], 0
    for table, rows in ((a, attachments), (ma, assets)):
        changed, table_tied = _changes(rows, by_hash, by_name)
        changes.append((table, changed))
        tied += table_tied
    return Links(changes, tied, len(attachments) + len(assets) - tied)


def store_links(conn: Connection, found: Links) -> tuple[int, int]:
    """Write what ``find_links`` found; returns (tied, absent)."""
    for table, changed in found.changes:
        if changed:
            conn.execute(
                update(table)
                .where(table.c.id == bindparam("rid"))
                .values(
                    linked_item_id=bindparam("item"),
                    link_method=bindparam("how"),
                    absent=bindparam("gone"),
                ),
                changed,
            )
    return found.tied, found.absent


def _changes(
    rows: Sequence[Any],
    by_hash: dict[str, int],
    by_name: dict[str, list[tuple[int, int, str]]],
) -> tuple[list[dict[str, Any]], int]:
    """The links of ``rows`` that change, and how many rows are tied."""
    changes = []
    tied = 0
    # Once per attachment of the case (100 k for a large phone): rows unpacked as
    # tuples, and the tie tried only where a digest or a file name can match.
    for rid, ref_path, sha256, linked, how, source_id in rows:
        found = None
        if (sha256 and sha256 in by_hash) or (ref_path and _name(ref_path) in by_name):
            found = _tie(sha256, ref_path, source_id, by_hash, by_name)
        item_id, method = found if found else (None, None)
        tied += item_id is not None
        if item_id != linked or method != how:
            changes.append({"rid": rid, "item": item_id, "how": method, "gone": item_id is None})
    return changes, tied


def _tie(
    sha256: str | None,
    ref_path: str | None,
    source: int,
    by_hash: dict[str, int],
    by_name: dict[str, list[tuple[int, int, str]]],
) -> tuple[int, str] | None:
    if sha256 and sha256 in by_hash:
        return by_hash[sha256], "sha256"
    if not ref_path:
        return None
    tail = _relative(ref_path).casefold()
    for item_id, source_id, path in by_name.get(_name(ref_path), ()):
        folded = path.casefold()
        if source_id == source and (folded == tail or folded.endswith("/" + tail)):
            return item_id, "path"
    return None


def _relative(path: str) -> str:
    for home in _HOMES:
        if path.startswith(home):
            return path[len(home) :]
    return path


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1].casefold()


def _items_by_sha256(conn: Connection) -> dict[str, int]:
    """The first item (by id) of each digest an attachment holds: one query joined in
    the database, where a phone's 100 k digests sent in lists cost a query each."""
    i, a = s.items, s.msg_attachments
    digests = select(a.c.sha256).where(a.c.sha256.is_not(None))
    rows = conn.execute(
        select(i.c.sha256, func.min(i.c.id)).where(i.c.sha256.in_(digests)).group_by(i.c.sha256)
    )
    return {digest: item_id for digest, item_id in rows}


def _items_by_name(conn: Connection, names: set[str]) -> dict[str, list[tuple[int, int, str]]]:
    """File items whose last path part is among ``names`` (one pass over the items)."""
    found: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    if not names:
        return found
    for page in item_pages(conn):
        for r in page:
            name = _name(r.path)
            if name in names:
                found[name].append((r.id, r.source_id, r.path))
    return found


def derive_provenance(conn: Connection) -> int:
    """One provenance row per tied attachment: who sent or received it, when, where."""
    p, a, m = s.media_provenance, s.msg_attachments, s.messages
    conn.execute(delete(p))  # every fact is derived again from messages and assets
    others = _single_other_party(conn)
    rows = conn.execute(
        select(
            a.c.linked_item_id,
            m.c.item_id,
            m.c.app,
            m.c.direction,
            m.c.sender_id,
            m.c.conversation_id,
            m.c.id,
            m.c.ts_utc,
            m.c.record_ref,
            s.items.c.path,
        )
        .join(m, m.c.id == a.c.message_id)
        .join(s.items, s.items.c.id == m.c.item_id)
        .where(a.c.linked_item_id.is_not(None))
        # The attachments' order (the same): ordered by the messages' id, SQLite reads
        # every message of the case, ten times the attachments.
        .order_by(a.c.message_id, a.c.id)
    ).all()
    values = [
        {
            "item_id": r.linked_item_id,
            "db_item_id": r.item_id,
            "app": r.app,
            "direction": r.direction,
            "contact_id": r.sender_id if r.sender_id else others.get(r.conversation_id),
            "conversation_id": r.conversation_id,
            "message_id": r.id,
            "ts_utc": r.ts_utc,
            "source_of_record": f"{r.path}: {r.record_ref}",
        }
        for r in rows
    ]
    values += _asset_provenance(conn)
    if values:
        conn.execute(insert(p), values)
    return len(values)


def _asset_provenance(conn: Connection) -> list[dict[str, Any]]:
    """Captured / saved / downloaded facts from photo libraries, for tied assets."""
    ma, i = s.media_assets, s.items
    rows = conn.execute(
        select(ma, i.c.path)
        .join(i, i.c.id == ma.c.db_item_id)
        .where(ma.c.linked_item_id.is_not(None))
        .order_by(ma.c.id)
    ).all()
    return [
        {
            "item_id": r.linked_item_id, "db_item_id": r.db_item_id, "app": r.app,
            "direction": r.direction, "contact_id": None, "conversation_id": None,
            "message_id": None, "ts_utc": r.ts_utc,
            "source_of_record": f"{r.path}: {r.record_ref}",
        }
        for r in rows
    ]  # fmt: skip


def _single_other_party(conn: Connection) -> dict[int, int]:
    """Conversation -> its one participant, for one-to-one chats (the owner's
    counterpart: whom a sent picture went to)."""
    pt = s.msg_participants
    found: dict[int, list[int]] = defaultdict(list)
    for conv, contact in conn.execute(select(pt.c.conversation_id, pt.c.contact_id)):
        found[conv].append(contact)
    return {conv: who[0] for conv, who in found.items() if len(who) == 1}
