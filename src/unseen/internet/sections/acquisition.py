"""Acquisition channels: web downloads with their URL chains, eDonkey and BitTorrent
records (tied to case files where hashes agree), P2P searches and clients."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection

from unseen.internet.profile import (
    Groups,
    Line,
    Section,
    Table,
    Tally,
    records,
    size,
    text,
    when,
)
from unseen.internet.sections.common import TOP_LINES, linked_files, presence_table, top


def acquisition(conn: Connection, groups: Groups) -> Section:
    """Where files came from: web downloads, eDonkey, BitTorrent, P2P searches."""
    section = Section("acquisition", "Acquisition channels")
    linked = linked_files(conn)
    downloads = list(records(conn, ["browser.download"]))
    table = Table(
        "Web downloads",
        ["time", "browser", "file", "origin (URL chain)", "bytes", "state"],
        more=max(0, len(downloads) - TOP_LINES),
    )
    for r in sorted(downloads, key=lambda r: r.ts_utc or "")[:TOP_LINES]:
        ref = groups.add(f"download of {r.data['target_path']}", [r.id])
        chain = " → ".join(r.data["url_chain"]) or r.data["url"]
        table.lines.append(
            Line(
                [
                    when(r.ts_utc),
                    r.data["browser"],
                    text(r.data["target_path"]),
                    chain,
                    size(r.data["received_bytes"]),
                    text(r.data["state"]),
                ],
                ref,
            )
        )
    section.tables.append(table)
    section.tables.append(_edonkey(conn, groups, linked))
    section.tables.append(_torrents(conn, groups, linked))
    p2p_terms: dict[tuple[str, ...], Tally] = defaultdict(Tally)
    for r in records(conn, ["p2p.search"]):
        p2p_terms[(r.data["client"], r.data["terms"])].add(r)
    table = Table("P2P search terms (verbatim, for review)", ["client", "terms", "records"])
    for (client, words), t in top(p2p_terms, TOP_LINES):
        ref = groups.add(f"{client} search {words!r}", t.ids, t.count)
        table.lines.append(Line([client, words, f"{t.count:,}"], ref, review=True))
    section.tables.append(table)
    n = [len(t.lines) + t.more for t in section.tables]
    section.tables.append(presence_table(conn, groups, "P2P clients present", {"p2p"}))
    section.facts.append(
        f"The records indicate {n[0]:,} web download(s), {n[1]:,} eDonkey file record(s), "
        f"{n[2]:,} BitTorrent record(s) and {n[3]:,} distinct P2P search term(s)."
    )
    section.caveats.append(
        "A P2P record names a file the client knew; the file itself may be absent. Hashes "
        "(ED2K, BitTorrent info-hash) are stored so they can be matched against hash sets. "
        "'On disk' lists case files tied to the record by hash, not by name."
    )
    return section


def _edonkey(conn: Connection, groups: Groups, linked: dict[int, list[str]]) -> Table:
    rows = list(records(conn, ["p2p.shared_file", "p2p.partial_download"]))
    table = Table(
        "eDonkey files (eMule/aMule known.met, part.met)",
        ["client", "kind", "name", "size", "ED2K", "uploaded", "requests", "date", "on disk"],
        more=max(0, len(rows) - TOP_LINES),
    )
    for r in rows[:TOP_LINES]:
        d = r.data
        kind = "incomplete" if r.type == "p2p.partial_download" else "known/shared"
        ref = groups.add(f"{d['client']} record of {d['name']}", [r.id])
        table.lines.append(
            Line(
                [
                    d["client"],
                    kind,
                    text(d["name"]),
                    size(d["size"]),
                    d["ed2k"],
                    size(d.get("transferred")),
                    text(d.get("requests")),
                    when(r.ts_utc),
                    "; ".join(linked.get(r.id, [])) or "–",
                ],
                ref,
            )
        )
    return table


def _torrents(conn: Connection, groups: Groups, linked: dict[int, list[str]]) -> Table:
    rows = list(records(conn, ["p2p.torrent"]))
    table = Table(
        "BitTorrent",
        [
            "client",
            "from",
            "name",
            "info-hash",
            "save path",
            "added",
            "completed",
            "down",
            "up",
            "on disk",
        ],
        more=max(0, len(rows) - TOP_LINES),
    )
    for r in rows[:TOP_LINES]:
        d = r.data
        ref = groups.add(f"{d['client']} torrent {d['name']}", [r.id])
        table.lines.append(
            Line(
                [
                    d["client"],
                    d["origin"],
                    text(d["name"]),
                    text(d["info_hash"] or d.get("info_hash_v2")),
                    text(d["save_path"]),
                    when(r.ts_utc),
                    when(d["completed_utc"]),
                    size(d["downloaded"]),
                    size(d["uploaded"]),
                    "; ".join(linked.get(r.id, [])) or "–",
                ],
                ref,
            )
        )
    return table
