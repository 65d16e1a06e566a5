"""Chromium-family ``History`` (Chrome, Edge, Brave, Opera, Vivaldi; desktop and Android):
visits with their transition type, downloads with their URL chain, keyword search terms.

Schema: ``urls``, ``visits``, ``keyword_search_terms``, ``downloads``,
``downloads_url_chains``, ``meta`` (Chromium ``components/history/core/browser/``
``history_database.cc``, ``visit_database.cc``, ``download_database.cc``). Times are
WebKit microseconds since 1601-01-01 UTC. Old versions (before ~v24) lack the URL
chain table and name the target ``full_path``; both are read. Their download start and
end times are Unix seconds (``time_t``, as plaso's Chrome 8 plugin reads them) until a
later migration rewrote them as WebKit time, so each legacy value is read by its size.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from typing import ClassVar

from unseen.internet import browsers
from unseen.internet.base import ARTEFACT_PARSERS, ParseContext
from unseen.internet.records import Artefact, BrowserDownload, BrowserVisit, SearchQuery
from unseen.internet.searchterms import search_terms
from unseen.internet.sqlite import SqliteParser, columns, pick, tables
from unseen.internet.timestamps import stamp, utc_of

EPOCH = "webkit_us_1601"
LEGACY_DOWNLOAD_EPOCH = "unix_s"
# A Unix-seconds value stays below this for millennia; a WebKit-microseconds value of any
# plausible year is above 1e16, so the two clocks cannot be confused.
UNIX_SECONDS_BELOW = 100_000_000_000
# ui::PageTransition core types (the low byte of visits.transition).
TRANSITIONS = {
    0: "link",
    1: "typed",
    2: "auto_bookmark",
    3: "auto_subframe",
    4: "manual_subframe",
    5: "generated",
    6: "auto_toplevel",
    7: "form_submit",
    8: "reload",
    9: "keyword",
    10: "keyword_generated",
}
# download::DownloadItem::DownloadState as stored (3 is a legacy value of interrupted).
DOWNLOAD_STATES = {
    0: "in_progress",
    1: "complete",
    2: "cancelled",
    3: "interrupted",
    4: "interrupted",
}
MAX_CHAIN = 100


class ChromiumHistoryParser(SqliteParser):
    NAME = "chromium_history"
    VERSION = "2"
    DESCRIPTION = "Chromium-family History: visits (typed/linked), downloads, search terms"
    PATH_GLOBS = browsers.globs("chromium")
    PRODUCES = ("browser.visit", "browser.download", "search.query")
    REQUIRED_TABLES = ("urls", "visits")
    QUERIES: ClassVar[dict[str, str]] = {
        "visits": (
            "SELECT v.id, v.url AS url_id, u.url, u.title, v.visit_time, v.transition,"
            " v.from_visit, {duration}, u.visit_count"
            " FROM visits v LEFT JOIN urls u ON u.id = v.url ORDER BY v.id"
        ),
        "keywords": (
            "SELECT k.url_id, k.term, u.url, u.last_visit_time FROM keyword_search_terms k"
            " LEFT JOIN urls u ON u.id = k.url_id ORDER BY k.url_id, k.term"
        ),
        "downloads": (
            "SELECT id, {target}, {url}, start_time, {end_time}, received_bytes, total_bytes,"
            " state, {referrer}, {mime} FROM downloads ORDER BY id"
        ),
        "chains": "SELECT id, chain_index, url FROM downloads_url_chains ORDER BY id, chain_index",
    }

    def parse_db(self, ctx: ParseContext, conn: sqlite3.Connection) -> Iterator[Artefact]:
        browser = browsers.browser_of("chromium", ctx.task.path)
        profile = browsers.profile_of(ctx.task.path)
        yield from self._visits(ctx, conn, browser, profile)
        present = tables(conn)
        if "keyword_search_terms" in present:
            yield from self._keywords(ctx, conn, browser)
        if "downloads" in present:
            yield from self._downloads(ctx, conn, browser, profile, present)

    def _visits(
        self, ctx: ParseContext, conn: sqlite3.Connection, browser: str, profile: str
    ) -> Iterator[Artefact]:
        duration = pick(columns(conn, "visits"), "visit_duration")
        for row in conn.execute(self.QUERIES["visits"].format(duration=duration)):
            vid, url_id, url, title, when, transition, from_visit, dur, count = row
            if url is None:
                ctx.error(f"visits.id={vid}: points to missing urls.id={url_id}")
                continue
            core = TRANSITIONS.get((transition or 0) & 0xFF, f"type_{(transition or 0) & 0xFF}")
            ref = f"visits.id={vid} urls.id={url_id}"
            ts = stamp(when, EPOCH)
            yield BrowserVisit(
                ctx.prov(ref),
                ts,
                browser=browser,
                profile=profile,
                url=str(url),
                title=_text(title),
                transition=core,
                typed=core == "typed",
                visit_count=count,
                duration_s=dur / 1e6 if dur else None,
                from_visit=from_visit or None,
            )
            found = search_terms(str(url))
            if found:
                yield SearchQuery(
                    ctx.prov(ref),
                    ts,
                    application=browser,
                    terms=found[1],
                    engine=found[0],
                    origin="url",
                    url=str(url),
                )

    def _keywords(
        self, ctx: ParseContext, conn: sqlite3.Connection, browser: str
    ) -> Iterator[Artefact]:
        for url_id, term, url, last_visit in conn.execute(self.QUERIES["keywords"]):
            if not term:
                continue
            decoded = search_terms(str(url)) if url else None
            engine = decoded[0] if decoded else None
            yield SearchQuery(
                ctx.prov(f"keyword_search_terms.url_id={url_id}"),
                stamp(last_visit, EPOCH),
                application=browser,
                terms=str(term),
                engine=engine,
                origin="keyword_search_terms",
                url=_text(url),
            )

    def _downloads(
        self,
        ctx: ParseContext,
        conn: sqlite3.Connection,
        browser: str,
        profile: str,
        present: set[str],
    ) -> Iterator[Artefact]:
        chains: dict[int, list[str]] = defaultdict(list)
        if "downloads_url_chains" in present:
            for did, _, url in conn.execute(self.QUERIES["chains"]):
                if len(chains[did]) < MAX_CHAIN:
                    chains[did].append(str(url))
        have = columns(conn, "downloads")
        query = self.QUERIES["downloads"].format(
            target=pick(have, "target_path", "full_path", alias="target"),
            url=pick(have, "url", alias="url"),
            end_time=pick(have, "end_time"),
            referrer=pick(have, "referrer"),
            mime=pick(have, "mime_type"),
        )
        legacy = "full_path" in have and "target_path" not in have
        for row in conn.execute(query):
            did, target, url, start, end, received, total, state, referrer, mime = row
            chain = tuple(chains.get(did) or ([str(url)] if url else []))
            yield BrowserDownload(
                ctx.prov(f"downloads.id={did}"),
                stamp(start, _download_epoch(start, legacy)),
                browser=browser,
                profile=profile,
                url=chain[-1] if chain else "",
                url_chain=chain,
                target_path=str(target or ""),
                received_bytes=received,
                total_bytes=total,
                state=DOWNLOAD_STATES.get(state, f"state_{state}"),
                referrer=_text(referrer) or None,
                mime_type=_text(mime) or None,
                end_utc=utc_of(end, _download_epoch(end, legacy)),
            )


def _download_epoch(raw: object, legacy: bool) -> str:
    """The clock of a download time: Unix seconds in a legacy (``full_path``) table
    unless the value is too large to be seconds, WebKit microseconds otherwise."""
    if legacy and isinstance(raw, int | float) and abs(raw) < UNIX_SECONDS_BELOW:
        return LEGACY_DOWNLOAD_EPOCH
    return EPOCH


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


ARTEFACT_PARSERS.register(ChromiumHistoryParser)
