"""Same download: files that arrived together (one torrent, one browser session).

Two sources of "arrived together": P2P records tied to case files by hash (one
torrent or eDonkey download per cluster), and browser downloads whose target file
name is a file of the case, batched when the same browser profile fetched them at
most ``BATCH_MINUTES`` apart.
"""

from __future__ import annotations

import json
import posixpath
from collections import defaultdict
from collections.abc import Container, Iterator
from datetime import datetime

from sqlalchemy import Connection, select

from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import Facts
from unseen.store import schema as s

BATCH_MINUTES = 10


class DownloadGrouping(Grouping):
    NAME = "downloads"
    VERSION = "1"
    KIND = "download"
    DESCRIPTION = "files of one torrent or P2P download, or one browser download batch"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        yield from _p2p(conn, facts)
        yield from _browser(conn, facts)


def _p2p(conn: Connection, present: Container[int]) -> Iterator[Cluster]:
    a, link = s.artefacts, s.artefact_links
    rows = conn.execute(
        select(a.c.id, a.c.type, a.c.data, link.c.item_id, link.c.method)
        .join(link, link.c.artefact_id == a.c.id)
        .order_by(a.c.id, link.c.item_id)
    )
    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    heads: dict[int, tuple[str, str]] = {}
    for artefact_id, kind, data, item_id, method in rows:
        if item_id in present:
            members[artefact_id].append((int(item_id), str(method)))
            heads[artefact_id] = (str(kind), _name(data))
    for artefact_id, found in sorted(members.items()):
        kind, name = heads[artefact_id]
        label = f"{kind} {name}".strip()
        yield Cluster(
            "download",
            f"artefact:{artefact_id}",
            label,
            1.0,
            tuple(Member(i, f"tied to {label} by {method}") for i, method in found),
            {"artefact_id": artefact_id},
        )


def _browser(conn: Connection, facts: Facts) -> Iterator[Cluster]:
    a = s.artefacts
    rows = conn.execute(
        select(a.c.id, a.c.ts_utc, a.c.data)
        .where(a.c.type == "browser.download", a.c.ts_utc.is_not(None))
        .order_by(a.c.ts_utc, a.c.id)
    )
    # Each download's file name, time and profile: the case's files are then walked
    # for those names only (a name per file held for a million files was 0.15 GB).
    wanted: list[tuple[str, datetime, int, str]] = []
    for artefact_id, ts, data in rows:
        record = _json(data)
        target = str(record.get("target_path") or "").replace("\\", "/")
        when = _time(ts)
        if when:
            profile = f"{record.get('browser', '')} {record.get('profile', '')}".strip()
            wanted.append((posixpath.basename(target).lower(), when, int(artefact_id), profile))
    names = {name for name, *_ in wanted}
    by_name: dict[str, list[int]] = defaultdict(list)
    if names:
        for f in facts.scan("path"):
            name = posixpath.basename(f.path).lower()
            if name in names:
                by_name[name].append(f.id)
    batches: dict[str, list[tuple[datetime, int, list[int]]]] = defaultdict(list)
    for name, when, artefact_id, profile in wanted:
        found = by_name.get(name)
        if found:
            batches[profile].append((when, artefact_id, found))
    for profile, downloads in sorted(batches.items()):
        run = [downloads[0]]
        for d in downloads[1:]:
            if (d[0] - run[-1][0]).total_seconds() > BATCH_MINUTES * 60:
                yield from _batch(profile, run)
                run = []
            run.append(d)
        yield from _batch(profile, run)


def _batch(profile: str, run: list[tuple[datetime, int, list[int]]]) -> Iterator[Cluster]:
    items = {i for _, _, found in run for i in found}
    if len(items) < 2:
        return
    label = f"{profile} downloads {run[0][0]:%Y-%m-%d %H:%M}-{run[-1][0]:%H:%M} UTC"
    yield Cluster(
        "download",
        f"browser:{profile}|{run[0][0].isoformat()}",
        label,
        1.0,
        tuple(Member(i, f"its file name was downloaded in {label}") for i in sorted(items)),
        {"artefacts": [artefact_id for _, artefact_id, _ in run]},
    )


def _json(data: str) -> dict[str, object]:
    try:
        found = json.loads(data)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _name(data: str) -> str:
    record = _json(data)
    return str(record.get("name") or record.get("file_name") or "")[:120]


def _time(ts: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(str(ts)[:19]) if ts else None
    except ValueError:
        return None


GROUPINGS.register(DownloadGrouping)
