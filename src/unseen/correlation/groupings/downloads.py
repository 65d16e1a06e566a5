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
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, select

from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import ItemFacts
from unseen.store import schema as s

BATCH_MINUTES = 10


class DownloadGrouping(Grouping):
    NAME = "downloads"
    VERSION = "1"
    KIND = "download"
    DESCRIPTION = "files of one torrent or P2P download, or one browser download batch"

    def group(self, facts: list[ItemFacts], conn: Connection) -> Iterator[Cluster]:
        present = {f.id for f in facts}
        yield from _p2p(conn, present)
        yield from _browser(conn, facts)


def _p2p(conn: Connection, present: set[int]) -> Iterator[Cluster]:
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


def _browser(conn: Connection, facts: list[ItemFacts]) -> Iterator[Cluster]:
    by_name: dict[str, list[ItemFacts]] = defaultdict(list)
    for f in facts:
        by_name[posixpath.basename(f.path).lower()].append(f)
    a = s.artefacts
    rows = conn.execute(
        select(a.c.id, a.c.ts_utc, a.c.data)
        .where(a.c.type == "browser.download", a.c.ts_utc.is_not(None))
        .order_by(a.c.ts_utc, a.c.id)
    )
    batches: dict[str, list[tuple[datetime, int, list[ItemFacts]]]] = defaultdict(list)
    for artefact_id, ts, data in rows:
        record = _json(data)
        target = str(record.get("target_path") or "").replace("\\", "/")
        found = by_name.get(posixpath.basename(target).lower(), [])
        when = _time(ts)
        if found and when:
            profile = f"{record.get('browser', '')} {record.get('profile', '')}".strip()
            batches[profile].append((when, int(artefact_id), found))
    for profile, downloads in sorted(batches.items()):
        run = [downloads[0]]
        for d in downloads[1:]:
            if (d[0] - run[-1][0]).total_seconds() > BATCH_MINUTES * 60:
                yield from _batch(profile, run)
                run = []
            run.append(d)
        yield from _batch(profile, run)


def _batch(profile: str, run: list[tuple[datetime, int, list[ItemFacts]]]) -> Iterator[Cluster]:
    items = {f.id: f for _, _, found in run for f in found}
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
