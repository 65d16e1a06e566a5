"""Everything the item page shows about one item, and its visually similar items."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from unseen import plugins
from unseen.core.timeconv import unix_to_iso
from unseen.review.data import CaseView
from unseen.review.decisions import history
from unseen.store import schema as s


def item_detail(view: CaseView, conn: Connection, item_id: int) -> dict[str, Any] | None:
    """The item's facts, categories, history and groupings; None when there is no such item."""
    i = s.items
    row = conn.execute(
        select(i, s.sources.c.label.label("source_label"))
        .select_from(i.join(s.sources, s.sources.c.id == i.c.source_id))
        .where(i.c.id == item_id)
    ).first()
    if row is None:
        return None
    item = {k: v for k, v in row._mapping.items() if k != "locator"}
    for key in ("mtime", "atime", "ctime"):
        item[f"{key}_iso"] = unix_to_iso(item[key])
    detail: dict[str, Any] = {
        "item": item,
        "image": _one(conn, s.images, item_id),
        "exif": _one(conn, s.exif, item_id),
        "errors": _errors(conn, item_id),
        "reviews": history(conn, item_id),
        "review": _one(conn, s.review_state, item_id),
        "auto": None,
        "matches": [],
        "clusters": [],
        "children": _children(conn, item_id),
        # What plugins show of their own facts (item_panels hooks), already escaped.
        "panels": plugins.item_panels(conn, item_id),
    }
    a, m = s.auto_categories, s.matches
    auto = conn.execute(select(a).where(a.c.item_id == item_id)).first()
    detail["auto"] = dict(auto._mapping) if auto is not None else None
    detail["matches"] = [
        dict(r._mapping) for r in conn.execute(select(m).where(m.c.item_id == item_id))
    ]
    detail["clusters"] = _clusters(conn, item_id)
    detail["disagree"] = _disagree(view, detail)
    return detail


def _errors(conn: Connection, item_id: int) -> list[dict[str, Any]]:
    """The item's recorded problems: analysers' first, then internet-artefact parsers'."""
    ie, ae = s.item_errors, s.artefact_errors
    rows = [
        dict(r._mapping)
        for r in conn.execute(
            select(ie.c.analyser, ie.c.message).where(ie.c.item_id == item_id).order_by(ie.c.id)
        )
    ]
    parsed = conn.execute(
        select(ae.c.parser, ae.c.message).where(ae.c.item_id == item_id).order_by(ae.c.id)
    )
    rows += [{"analyser": f"internet:{p}", "message": m} for p, m in parsed]
    return rows


def _one(conn: Connection, table: Any, item_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(table).where(table.c.item_id == item_id)).first()
    return dict(row._mapping) if row is not None else None


def _children(conn: Connection, item_id: int) -> list[dict[str, Any]]:
    i = s.items
    rows = conn.execute(
        select(i.c.id, i.c.path, i.c.mime).where(i.c.parent_id == item_id).order_by(i.c.id)
    )
    return [dict(r._mapping) for r in rows.fetchmany(200)]


def _clusters(conn: Connection, item_id: int) -> list[dict[str, Any]]:
    c, cm = s.clusters, s.cluster_members
    rows = conn.execute(
        select(c.c.id, c.c.kind, c.c.label, c.c.confidence, c.c.size, cm.c.reason, cm.c.score)
        .select_from(cm.join(c, c.c.id == cm.c.cluster_id))
        .where(cm.c.item_id == item_id)
        .order_by(c.c.kind, c.c.id)
    )
    return [dict(r._mapping) for r in rows]


def _disagree(view: CaseView, detail: dict[str, Any]) -> bool:
    review, auto = detail["review"], detail["auto"]
    if not review or not auto:
        return False
    if auto.get("category") is not None and auto["category"] != review["category"]:
        return True
    return bool(auto.get("known_good")) and review["category"] not in view.ignorable


_PDQ = re.compile(r"[0-9a-fA-F]{64}")


def _is_pdq(text: str) -> bool:
    return _PDQ.fullmatch(text) is not None


def _bits(hexes: list[str]) -> np.ndarray:
    """PDQ hashes (64 hex digits) as an (n, 32) uint8 array."""
    return np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(-1, 32)


class _CaseHashes:
    """The case's PDQ hashes as one packed matrix, read once per process and read again
    only when the images table has changed (its row count or highest item id), so an
    item page costs a vectorised scan, not a read of every hash in the case. Whether it
    changed is asked at most every ``CHECK_S`` seconds (counting the images costs more
    than the scan): pictures a running fast pass adds show within that time. One
    request reads while the others wait for its result: twenty reviewers opening their
    first item at once would otherwise each read every hash."""

    CHECK_S = 5.0

    def __init__(self) -> None:
        # (url, image count, highest item id), ids, packed hashes: replaced whole, so a
        # request reading without the lock never pairs one read's ids with another's.
        self._state: tuple[tuple[str, int, int], np.ndarray, np.ndarray] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def get(self, conn: Connection) -> tuple[np.ndarray, np.ndarray]:
        state = self._state
        if state is None or self._stale(conn, state[0][0]):
            with self._lock:
                state = self._state
                if state is None or self._stale(conn, state[0][0]):
                    state = self._state = self._read(conn, state)
                    self._checked = time.monotonic()
        return state[1], state[2]

    def _stale(self, conn: Connection, url: str) -> bool:
        return url != str(conn.engine.url) or time.monotonic() - self._checked >= self.CHECK_S

    @staticmethod
    def _read(
        conn: Connection, state: tuple[tuple[str, int, int], np.ndarray, np.ndarray] | None
    ) -> tuple[tuple[str, int, int], np.ndarray, np.ndarray]:
        im = s.images
        count, top = conn.execute(select(func.count(), func.max(im.c.item_id))).one()
        key = (str(conn.engine.url), int(count or 0), int(top or 0))
        if state is not None and state[0] == key:
            return state
        rows = conn.execute(select(im.c.item_id, im.c.pdq).where(im.c.pdq.is_not(None)))
        found = [(int(i), h) for i, h in rows if _is_pdq(h)]
        ids = np.array([i for i, _ in found], dtype=np.int64)
        bits = _bits([h for _, h in found]) if found else np.zeros((0, 32), np.uint8)
        return key, ids, bits


_hashes = _CaseHashes()


def warm(conn: Connection) -> None:
    """Read the case's hashes before the first item page asks for them."""
    _hashes.get(conn)


def similar(conn: Connection, item_id: int, max_distance: int, limit: int) -> list[dict[str, Any]]:
    """Case images within ``max_distance`` PDQ bits of this one (any of its 8 rotations
    and mirrors), nearest first: an exact scan of the case's cached hash matrix."""
    im = s.images
    target = conn.execute(
        select(im.c.pdq, im.c.pdq_dihedral).where(im.c.item_id == item_id)
    ).first()
    if target is None or not target.pdq:
        return []
    probes = target.pdq_dihedral.split(",") if target.pdq_dihedral else [target.pdq]
    ids, hashes = _hashes.get(conn)
    if not len(ids):
        return []
    words = hashes.view(np.uint64)
    best = np.full(len(ids), 257, dtype=np.int32)
    for probe in _bits([p for p in probes if _is_pdq(p)]).view(np.uint64):
        distance = np.bitwise_count(words ^ probe).sum(axis=1, dtype=np.int32)
        best = np.minimum(best, distance)
    best[ids == item_id] = 257  # not itself
    nearest = np.flatnonzero(best <= max_distance)
    order = nearest[np.lexsort((ids[nearest], best[nearest]))][:limit]
    hits = [int(k) for k in order]
    return _describe(conn, [(int(ids[k]), int(best[k])) for k in hits])


def _describe(conn: Connection, hits: list[tuple[int, int]]) -> list[dict[str, Any]]:
    if not hits:
        return []
    i, r = s.items, s.review_state
    ids = [h[0] for h in hits]
    info = {
        x.id: x
        for x in conn.execute(
            select(i.c.id, i.c.path, r.c.category)
            .select_from(i.outerjoin(r, r.c.item_id == i.c.id))
            .where(i.c.id.in_(ids))
        )
    }
    return [
        {"id": k, "distance": d, "path": info[k].path, "rev": info[k].category}
        for k, d in hits
        if k in info
    ]


def reasons(text: str | None) -> list[dict[str, Any]]:
    """A JSON reasons list (leads, first generation) parsed; malformed text shows as is."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [{"detail": text}]
    return value if isinstance(value, list) else [{"detail": text}]
