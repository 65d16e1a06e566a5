"""Helpers shared by the profile's sections: domains, tallies, presence and accounts."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from unseen.internet.profile import (
    Groups,
    Line,
    Table,
    Tally,
    records,
    text,
    when,
)
from unseen.store import schema as s

TOP_DOMAINS = 25
TOP_LINES = 200


def domain(url: str) -> str:
    """The host of a URL without ``www.``; ``file:`` and the like for other schemes."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:
        return "(unreadable URL)"
    return host or f"{parts.scheme}:"


def span(tally: Tally) -> str:
    """First to last time of a tally, as text."""
    return f"{when(tally.first)} to {when(tally.last)}"


def top(tallies: dict[tuple[str, ...], Tally], limit: int) -> list[tuple[tuple[str, ...], Tally]]:
    """The ``limit`` biggest tallies, ties by key."""
    return sorted(tallies.items(), key=lambda kv: (-kv[1].count, kv[0]))[:limit]


def linked_files(conn: Connection) -> dict[int, list[str]]:
    """Case files tied to each artefact: ``path (method)``."""
    link, it = s.artefact_links, s.items
    found: dict[int, list[str]] = defaultdict(list)
    for artefact_id, path, method in conn.execute(
        select(link.c.artefact_id, it.c.path, link.c.method).select_from(
            link.join(it, it.c.id == link.c.item_id)
        )
    ):
        found[artefact_id].append(f"{path} ({method})")
    return found


def presence_table(conn: Connection, groups: Groups, title: str, categories: set[str]) -> Table:
    """Tools of the given categories whose files were found, one line per tool and source."""
    table = Table(title, ["tool", "kind", "source", "matching paths", "examples", "file times"])
    for r in records(conn, ["tool.presence"]):
        d = r.data
        if d["category"] not in categories:
            continue
        ref = groups.add(f"{d['tool']} presence ({r.source})", [r.id])
        times = f"{when(d.get('files_mtime_first'))} to {when(d.get('files_mtime_last'))}"
        note = f" ({d['note']})" if d.get("note") else ""
        table.lines.append(
            Line(
                [
                    d["tool"],
                    d["category"],
                    r.source,
                    f"{d['path_count']:,}",
                    "; ".join(d["paths"][:3]) + note,
                    times,
                ],
                ref,
            )
        )
    return table


def accounts_table(conn: Connection, groups: Groups, kind: str, title: str) -> Table:
    """Accounts of one type (``account.chat``, ``account.cloud``)."""
    table = Table(title, ["service", "account", "source", "found at"])
    for r in records(conn, [kind]):
        ref = groups.add(f"{r.data['service']} account {r.data['account']}", [r.id])
        table.lines.append(
            Line([r.data["service"], r.data["account"], r.source, text(r.data.get("detail"))], ref)
        )
    return table
