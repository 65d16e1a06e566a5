"""Tie P2P records to files present in the case.

eDonkey records carry an ED2K hash and a size: case files of exactly that size get
their ED2K computed (stored in ``item_ed2k``, where hash-set matching can use it too)
and a record whose hash equals a file's is linked to it. Torrent records carry the
SHA-1 of their first piece: a case file as long as the torrent's first file is
checked against it (a one-piece file by its SHA-1 from the fast pass, a longer one by
hashing its first piece). Links are rebuilt on every run; ED2K values are kept.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, delete, insert, select

from unseen.internet.worker import HashResult, HashTask
from unseen.store import repo
from unseen.store import schema as s

IN_CHUNK = 500
# Pure-Python MD4 hashes a few MB/s: bigger files are left (a recorded note).
ED2K_MAX_BYTES = 1024 * 1024 * 1024
P2P_TYPES = ("p2p.shared_file", "p2p.partial_download")


@dataclass(frozen=True, slots=True)
class PieceCheck:
    """A torrent record's first-piece hash, checkable against files of its first file's size."""

    artefact_id: int
    length: int  # of the torrent's first file
    piece_length: int
    sha1: str  # of the first piece
    single_piece: bool  # the first file is the whole first piece


@dataclass
class LinkPlan:
    """ED2K references by size, torrent first-piece checks, the hashing to do, and the
    size and fast-pass SHA-1 of every candidate file."""

    ed2k_by_size: dict[int, set[tuple[int, str]]] = field(default_factory=dict)
    pieces: list[PieceCheck] = field(default_factory=list)
    tasks: list[HashTask] = field(default_factory=list)
    sha1_of: dict[int, tuple[int, str | None]] = field(default_factory=dict)


def _p2p_references(conn: Connection, plan: LinkPlan) -> None:
    a = s.artefacts
    rows = conn.execute(
        select(a.c.id, a.c.type, a.c.data).where(a.c.type.in_([*P2P_TYPES, "p2p.torrent"]))
    )
    by_size: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for artefact_id, kind, text in rows:
        data = json.loads(text)
        if kind in P2P_TYPES and isinstance(data.get("size"), int) and data["size"] > 0:
            by_size[data["size"]].add((artefact_id, data["ed2k"]))
        elif kind == "p2p.torrent" and data.get("first_piece_sha1") and data.get("files"):
            length, piece = int(data["files"][0][1]), data.get("piece_length") or 0
            single = data.get("file_count") == 1 and length <= piece
            if length > 0 and piece > 0 and (length >= piece or single):
                plan.pieces.append(
                    PieceCheck(artefact_id, length, piece, data["first_piece_sha1"], single)
                )
    plan.ed2k_by_size = dict(by_size)


def make_link_plan(conn: Connection) -> LinkPlan:
    """What to hash: case files whose size a P2P record names."""
    plan = LinkPlan()
    _p2p_references(conn, plan)
    sizes = set(plan.ed2k_by_size) | {p.length for p in plan.pieces}
    have = set(conn.execute(select(s.item_ed2k.c.item_id)).scalars())
    specs = {spec.id: spec for spec in repo.source_specs(conn)}
    i = s.items
    ordered = sorted(sizes)
    for start in range(0, len(ordered), IN_CHUNK):
        chunk = ordered[start : start + IN_CHUNK]
        rows = conn.execute(
            select(i.c.id, i.c.source_id, i.c.locator, i.c.size, i.c.sha1).where(
                and_(i.c.kind == "file", i.c.size.in_(chunk))
            )
        )
        for r in rows:
            plan.sha1_of[r.id] = (r.size, r.sha1)
            ed2k = r.size in plan.ed2k_by_size and r.id not in have
            lengths = tuple(
                sorted(
                    {
                        p.piece_length
                        for p in plan.pieces
                        if p.length == r.size and not p.single_piece
                    }
                )
            )
            if ed2k or lengths:
                plan.tasks.append(
                    HashTask(
                        r.id, specs[r.source_id], bytes(r.locator), ed2k, lengths, ED2K_MAX_BYTES
                    )
                )
    return plan


def run_hashes(
    plan: LinkPlan, runner: Callable[[list[HashTask], Callable[[list[HashResult]], None]], None]
) -> list[HashResult]:
    """Hash the planned files with ``runner`` (in-process or a pool); all results."""
    results: list[HashResult] = []
    runner(plan.tasks, results.extend)
    return results


def store_links(conn: Connection, plan: LinkPlan, results: Iterable[HashResult]) -> int:
    """Store new ED2K values and rebuild every link; returns the number of links."""
    results = list(results)
    asked = {t.item_id for t in plan.tasks if t.ed2k}
    # A failure is stored too (ed2k null, its error), so the file is not retried each run.
    for r in (r for r in results if r.item_id in asked):
        conn.execute(delete(s.item_ed2k).where(s.item_ed2k.c.item_id == r.item_id))
        conn.execute(
            insert(s.item_ed2k).values(
                item_id=r.item_id, ed2k=r.ed2k, ed2k_blue=r.ed2k_blue, error=r.error
            )
        )
    conn.execute(delete(s.artefact_links))
    links = _ed2k_links(conn, plan) + _piece_links(plan, results)
    if links:
        conn.execute(insert(s.artefact_links), links)
    return len(links)


def _ed2k_links(conn: Connection, plan: LinkPlan) -> list[dict[str, object]]:
    wanted = {ed2k for refs in plan.ed2k_by_size.values() for _, ed2k in refs}
    if not wanted:
        return []
    e = s.item_ed2k
    links = []
    for item_id, red, blue in conn.execute(select(e.c.item_id, e.c.ed2k, e.c.ed2k_blue)):
        size = plan.sha1_of.get(item_id, (None, None))[0]
        for artefact_id, ed2k in plan.ed2k_by_size.get(size or -1, ()):
            if ed2k in (red, blue):
                detail = f"ED2K {ed2k} and size {size} equal"
                links.append(
                    {
                        "artefact_id": artefact_id,
                        "item_id": item_id,
                        "method": "ed2k",
                        "detail": detail,
                    }
                )
    return links


def _piece_links(plan: LinkPlan, results: list[HashResult]) -> list[dict[str, object]]:
    pieces_of = {r.item_id: dict(r.first_pieces) for r in results}
    links = []
    for check in plan.pieces:
        for item_id, (size, sha1) in plan.sha1_of.items():
            if size != check.length:
                continue
            found = (
                sha1 if check.single_piece else pieces_of.get(item_id, {}).get(check.piece_length)
            )
            if found == check.sha1:
                detail = (
                    f"SHA-1 of the first {min(size, check.piece_length)} bytes equals the "
                    f"torrent's first piece hash {check.sha1}"
                )
                links.append(
                    {
                        "artefact_id": check.artefact_id,
                        "item_id": item_id,
                        "method": "bt_first_piece",
                        "detail": detail,
                    }
                )
    return links
