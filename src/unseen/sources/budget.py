"""One expansion budget per source, shared by every level of nesting.

Each container applies its own limits while its members are listed (``listed`` in
``sources.containers``), but a worker sees one container at a time: a zip of zips
would get a fresh allowance per inner archive and multiply it. So the main process,
the one writer of the case, charges every archive member added to a source (an
archive source starting with its own members, limited as they were listed) against
that source's budget (``max_expanded_bytes`` declared bytes, ``max_archive_members``
items) before the members are stored, in the same transaction, keeping the running
totals on the source row so a resumed run goes on counting where it stopped.

Members of disk images and virtual disks are not charged: they hold what their
stored size allows and cannot expand past it. A member that would overspend the
byte budget is still recorded, as an item with the reason, but its content is never
read (kind ``other``). Past the item budget the members are not recorded one by
one (that is the attack); the container records how many were left out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Connection, and_, func, select, update

from unseen.core.locator import Hop, Locator, LocatorError
from unseen.core.models import Entry, FileRecord
from unseen.sources.containers import CONTAINERS, Limits
from unseen.store import schema as s

ANALYSER = "containers"


@dataclass
class Spent:
    """What a source has expanded so far (declared bytes, members)."""

    bytes: int = 0
    items: int = 0


def _expands(entry: Entry) -> bool:
    """Whether the entry is a member of an archive (its last hop's reader has bomb limits)."""
    try:
        at = Locator.parse(entry.locator)
    except LocatorError:
        return False
    if not isinstance(at, Hop):
        return False
    try:
        return CONTAINERS.get(at.fmt).BOMB_LIMITS
    except KeyError:
        return False


def charge(conn: Connection, records: list[FileRecord], limits: Limits) -> None:
    """Apply each source's budget to the members these records add, in place."""
    parents = [r for r in records if r.children]
    if not parents:
        return
    rows = conn.execute(
        select(s.items.c.id, s.items.c.source_id).where(
            s.items.c.id.in_([r.item_id for r in parents])
        )
    ).all()
    source_of = dict(rows)
    spent: dict[int, Spent] = {}
    for source_id in set(source_of.values()):
        spent[source_id] = _spent(conn, source_id)
    before = {k: replace(v) for k, v in spent.items()}
    for record in parents:
        record.children = _charge_one(record, spent[source_of[record.item_id]], limits)
    for source_id, now in spent.items():
        if now != before[source_id]:
            conn.execute(
                update(s.sources)
                .where(s.sources.c.id == source_id)
                .values(expanded_bytes=now.bytes, expanded_items=now.items)
            )


def _spent(conn: Connection, source_id: int) -> Spent:
    """What the source has spent; an archive source starts with its own members."""
    row = conn.execute(
        select(s.sources.c.kind, s.sources.c.expanded_bytes, s.sources.c.expanded_items).where(
            s.sources.c.id == source_id
        )
    ).one()
    if row.expanded_items or row.kind != "archive":
        return Spent(int(row.expanded_bytes or 0), int(row.expanded_items or 0))
    i = s.items
    top = and_(i.c.source_id == source_id, i.c.parent_id.is_(None), i.c.locator != b"")
    count = conn.execute(select(func.count()).where(top)).scalar_one()
    size = conn.execute(
        select(func.coalesce(func.sum(i.c.size), 0)).where(and_(top, i.c.kind == "file"))
    ).scalar_one()
    return Spent(int(size), int(count))


def _charge_one(record: FileRecord, spent: Spent, limits: Limits) -> list[Entry]:
    kept: list[Entry] = []
    left_out = 0
    for entry in record.children:
        if not _expands(entry):
            kept.append(entry)
            continue
        if spent.items >= limits.max_members:
            left_out += 1
            continue
        spent.items += 1
        size = entry.size or 0
        if entry.kind == "file" and size and spent.bytes + size > limits.max_expanded:
            reason = (
                f"not expanded: {size} more bytes would take this source's archive members "
                f"past {limits.max_expanded} bytes in total, across all nesting "
                "(limit max_expanded_bytes)"
            )
            entry = replace(entry, kind="other", errors=(*entry.errors, reason))
        elif entry.kind == "file":
            spent.bytes += size
        kept.append(entry)
    if left_out:
        record.error(
            ANALYSER,
            f"{left_out} members not listed: this source already holds "
            f"{limits.max_members} archive members across all nesting "
            "(limit max_archive_members)",
        )
    return kept
