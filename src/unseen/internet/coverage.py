"""The profile's coverage section (which parsers ran on what, found nothing, or failed;
what was not found at all), its activity heat-map, and ``build_profile``."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from unseen.core.timeconv import utc_now
from unseen.internet import presence, sections
from unseen.internet.base import ARTEFACT_PARSERS, GlobIndex
from unseen.internet.profile import Groups, Heatmap, Line, Profile, Section, Table, text
from unseen.store import repo
from unseen.store import schema as s

# Artefact types whose time is something the user did (not a file or key date).
# tool.usage is left out: its times repeat those of the UserAssist entries it rests on.
ACTIVITY_TYPES = (
    "browser.visit",
    "browser.download",
    "search.query",
    "p2p.torrent",
    "registry.userassist",
)
VISIT_SEARCHES = ("url", "keyword_search_terms")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_ERRORS_SHOWN = 200
# Known artefact locations that no parser of this version reads: when the evidence holds
# them, the coverage section lists them, so that silence is never taken for absence.
KNOWN_UNPARSED: tuple[tuple[str, str], ...] = (
    ("**/WebCacheV01.dat", "Internet Explorer 10-11 / Edge Legacy history (ESE database)"),
    ("**/index.dat", "Internet Explorer 9 and older history and cache index"),
    ("**/Opera/**/global_history.dat", "Opera (Presto) history"),
    ("**/Safari/LastSession.plist", "Safari last session (open tabs)"),
    ("**/Safari/TopSites.plist", "Safari top sites"),
    ("**/Cookies.binarycookies", "Safari cookies"),
    ("**/BrowserState.db", "Safari on iOS open tabs"),
    ("**/sessionstore.jsonlz4", "Firefox open tabs and session history"),
    ("**/cookies.sqlite", "Firefox cookies"),
    ("**/User Data/*/Login Data", "Chromium saved logins (user names, sites)"),
    ("**/User Data/*/Web Data", "Chromium autofill and search engines"),
    ("**/User Data/*/Cookies", "Chromium cookies"),
    ("**/User Data/*/Network/Cookies", "Chromium cookies"),
    ("**/Ares/**/ShareH.dat", "Ares Galaxy shared and downloaded files"),
    ("**/Ares/**/ShareL.dat", "Ares Galaxy library"),
    ("**/Shareaza/**/Library1.dat", "Shareaza library"),
    ("**/Shareaza/**/Library2.dat", "Shareaza library"),
    ("**/LimeWire/**/library.dat", "LimeWire library"),
    ("**/FrostWire/**/library.dat", "FrostWire library"),
    ("**/Thumbs.db", "Windows XP folder thumbnails (may hold deleted pictures)"),
    ("**/thumbcache_*.db", "Windows thumbnail cache (may hold deleted pictures)"),
    ("**/AutomaticDestinations/*.automaticDestinations-ms", "Windows jump lists"),
    ("**/CustomDestinations/*.customDestinations-ms", "Windows jump lists"),
    ("**/Recent/*.lnk", "Windows recent-file shortcuts"),
    ("**/$Recycle.Bin/**/$I*", "Windows recycle bin records (original names, times)"),
)


def heatmap(conn: Connection) -> Heatmap:
    """Counts of timed activity records by weekday and hour (UTC).

    A search decoded from a visited URL (or Chrome's term for it) is the same moment
    as its visit, so only searches recorded on their own (search boxes) add to it.
    """
    counts = [[0] * 24 for _ in WEEKDAYS]
    a = s.artefacts
    rows = conn.execute(
        select(a.c.type, a.c.ts_utc, a.c.data).where(
            a.c.type.in_(ACTIVITY_TYPES), a.c.ts_utc.is_not(None)
        )
    )
    total = 0
    for kind, ts, data in rows:
        if kind == "search.query" and json.loads(data).get("origin") in VISIT_SEARCHES:
            continue
        try:
            moment = datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            continue
        counts[moment.weekday()][moment.hour] += 1
        total += 1
    peak = max((c for row in counts for c in row), default=0)
    return Heatmap(counts, list(ACTIVITY_TYPES), total, peak)


def coverage(conn: Connection, groups: Groups) -> Section:
    section = Section("coverage", "Coverage: what was looked for, found, not found or failed")
    c = s.artefact_coverage
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for parser, status, count, records in conn.execute(
        select(c.c.parser, c.c.status, func.count(), func.sum(c.c.records)).group_by(
            c.c.parser, c.c.status
        )
    ):
        stats[parser][status] += int(count)
        stats[parser]["records"] += int(records or 0)
    table = Table(
        "Parsers",
        [
            "parser",
            "version",
            "what it reads",
            "items",
            "with records",
            "found nothing",
            "failed",
            "records",
        ],
    )
    missing = Table("Looked for, not found", ["parser", "what it reads"])
    for cls in ARTEFACT_PARSERS:
        st = stats.get(cls.NAME, {})
        items = st.get("ok", 0) + st.get("empty", 0) + st.get("failed", 0)
        if not items:
            missing.lines.append(Line([cls.NAME, cls.DESCRIPTION]))
        table.lines.append(
            Line(
                [
                    cls.NAME,
                    cls.VERSION,
                    cls.DESCRIPTION,
                    f"{items:,}",
                    f"{st.get('ok', 0):,}",
                    f"{st.get('empty', 0):,}",
                    f"{st.get('failed', 0):,}",
                    f"{st.get('records', 0):,}",
                ]
            )
        )
    st = stats.get(presence.NAME, {})
    table.lines.append(
        Line(
            [
                presence.NAME,
                presence.version(),
                f"paths of known applications ({len(presence.rules())} rules)",
                "all",
                "–",
                "–",
                "–",
                f"{st.get('records', 0):,}",
            ]
        )
    )
    section.tables.append(table)
    if missing.lines:
        section.facts.append(
            f"No files of {len(missing.lines)} of the {len(ARTEFACT_PARSERS)} kinds looked for "
            "were found in the evidence, so nothing could be read from them (listed below)."
        )
        section.tables.append(missing)
    unread = unparsed(conn)
    if unread.lines:
        section.facts.append(
            f"The evidence holds {len(unread.lines)} kinds of known artefacts that this "
            "version does not read (listed below): their contents are not in this report."
        )
        section.tables.append(unread)
    section.tables.append(_errors(conn))
    section.caveats += [
        "Absence of records does not show absence of activity: history may have been "
        "deleted, kept in private mode, encrypted, stored by an application or version "
        "this tool does not read, or held on a device that was not examined.",
        "Times are shown in UTC as converted from each application's own clock; the raw "
        "value and its epoch are in the provenance rows.",
    ]
    return section


def unparsed(conn: Connection) -> Table:
    """Known artefact locations present in the evidence that no parser reads, with how
    many items each has and the first one's path."""
    index = GlobIndex(list(enumerate(glob for glob, _ in KNOWN_UNPARSED)))
    found: dict[str, list[Any]] = {}
    rows = conn.execute(
        select(s.items.c.path).where(s.items.c.kind == "file").order_by(s.items.c.id)
    )
    for (path,) in rows:
        for key in index.match(path):
            what = KNOWN_UNPARSED[key][1]
            entry = found.setdefault(what, [0, path])
            entry[0] += 1
    table = Table(
        "Known artefacts present, not read by any parser",
        ["artefact", "items", "first found at"],
    )
    for what, (count, first) in sorted(found.items()):
        table.lines.append(Line([what, f"{count:,}", text(first)]))
    return table


def _errors(conn: Connection) -> Table:
    e, it = s.artefact_errors, s.items
    total = conn.execute(select(func.count()).select_from(e)).scalar() or 0
    table = Table(
        "Problems recorded",
        ["item", "parser", "problem"],
        more=max(0, int(total) - MAX_ERRORS_SHOWN),
    )
    rows = conn.execute(
        select(it.c.path, e.c.parser, e.c.message)
        .select_from(e.outerjoin(it, it.c.id == e.c.item_id))
        .order_by(e.c.id)
        .limit(MAX_ERRORS_SHOWN)
    )
    for path, parser, message in rows:
        table.lines.append(Line([text(path), parser, message]))
    return table


def build_profile(conn: Connection, case_info: dict[str, str]) -> Profile:
    """Everything the internet report shows, computed from the case database."""
    groups = Groups()
    built = [builder(conn, groups) for builder in sections.SECTION_BUILDERS]
    built.append(coverage(conn, groups))
    totals: dict[str, int] = {
        str(kind): int(count)
        for kind, count in conn.execute(
            select(s.artefacts.c.type, func.count()).group_by(s.artefacts.c.type)
        )
    }
    return Profile(
        case_name=case_info.get("name", ""),
        generated_at=utc_now(),
        sources=[
            {"label": r["label"], "kind": r["kind"], "path": r["path"]}
            for r in repo.list_sources(conn)
        ],
        sections=built,
        heatmap=heatmap(conn),
        provenance=groups.fill(conn),
        totals=totals,
    )
