"""The artefact export record: one JSON object per internet artefact, with stable keys.

Keys are an interface other tools read: later versions add keys, never rename or
remove them. ``ts_raw`` is the stored number as text (exact, whatever its size);
``data`` holds the record's own fields (its shape depends on ``type``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from unseen.store import schema as s

PAGE = 2000


def iter_artefact_records(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every artefact of the case as an export record, in the order it was stored."""
    a, i, src = s.artefacts, s.items, s.sources
    query = (
        select(a, i.c.path, src.c.label)
        .select_from(a.join(i, i.c.id == a.c.item_id).join(src, src.c.id == i.c.source_id))
        .order_by(a.c.id)
    )
    after = 0
    while True:
        rows = conn.execute(query.where(a.c.id > after).limit(PAGE)).all()
        if not rows:
            return
        ids = [r.id for r in rows]
        signals, links = _signals(conn, ids), _links(conn, ids)
        for r in rows:
            yield {
                "id": r.id,
                "type": r.type,
                "source": r.label,
                "item_path": r.path,
                "record_ref": r.record_ref,
                "parser": r.parser,
                "parser_version": r.parser_version,
                "ts_utc": r.ts_utc,
                "ts_raw": r.ts_raw,
                "ts_epoch": r.ts_epoch,
                "data": json.loads(r.data),
                "signals": signals.get(r.id, []),
                "linked_items": links.get(r.id, []),
            }
        after = rows[-1].id


def _signals(conn: Connection, ids: list[int]) -> dict[int, list[dict[str, str]]]:
    g = s.artefact_signals
    found: dict[int, list[dict[str, str]]] = defaultdict(list)
    rows = conn.execute(
        select(g.c.artefact_id, g.c.kind, g.c.value)
        .where(g.c.artefact_id.in_(ids))
        .order_by(g.c.id)
    )
    for artefact_id, kind, value in rows:
        found[artefact_id].append({"kind": kind, "value": value})
    return found


def _links(conn: Connection, ids: list[int]) -> dict[int, list[dict[str, str]]]:
    link, i = s.artefact_links, s.items
    found: dict[int, list[dict[str, str]]] = defaultdict(list)
    rows = conn.execute(
        select(link.c.artefact_id, i.c.path, link.c.method, link.c.detail)
        .select_from(link.join(i, i.c.id == link.c.item_id))
        .where(link.c.artefact_id.in_(ids))
        .order_by(link.c.id)
    )
    for artefact_id, path, method, detail in rows:
        found[artefact_id].append({"item_path": path, "method": method, "detail": detail})
    return found
