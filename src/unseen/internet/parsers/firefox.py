"""Firefox-family profiles (Firefox, Tor Browser, LibreWolf, Waterfox; desktop and Android):
``places.sqlite`` visits and downloads, ``formhistory.sqlite`` search-box and form
entries, and privacy-relevant settings in ``prefs.js``.

Schema: ``moz_places``, ``moz_historyvisits`` (``visit_type`` per nsINavHistoryService),
downloads as ``moz_annos`` rows named ``downloads/destinationFileURI`` and
``downloads/metaData`` (Firefox 26+); ``moz_formhistory``. Times are PRTime,
microseconds since 1970-01-01 UTC; download metadata ``endTime`` is milliseconds.
Firefox 3 to 25 kept downloads in their own ``downloads.sqlite``: table
``moz_downloads`` (``source`` URL, ``target`` file URI, ``startTime``/``endTime``
PRTime, ``state`` per nsIDownloadManager, ``currBytes``/``maxBytes``, ``referrer``,
``mimeType``; toolkit/components/downloads/nsDownloadManager.cpp).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from unseen.internet import browsers
from unseen.internet.base import ARTEFACT_PARSERS, ArtefactParser, ParseContext
from unseen.internet.records import (
    Artefact,
    BrowserDownload,
    BrowserSetting,
    BrowserVisit,
    FormEntry,
    SearchQuery,
)
from unseen.internet.searchterms import search_terms
from unseen.internet.sqlite import SqliteParser, columns, pick, tables
from unseen.internet.timestamps import stamp, utc_of

EPOCH = "unix_us"
VISIT_TYPES = {
    1: "link",
    2: "typed",
    3: "bookmark",
    4: "embed",
    5: "redirect_permanent",
    6: "redirect_temporary",
    7: "download",
    8: "framed_link",
    9: "reload",
}
# DownloadHistory METADATA_STATE_* values.
DOWNLOAD_STATES = {
    0: "in_progress",
    1: "complete",
    2: "failed",
    3: "cancelled",
    4: "paused",
    6: "blocked_parental",
    7: "blocked_policy",
    8: "blocked_dirty",
}
# nsIDownloadManager::DOWNLOAD_* as stored in moz_downloads.state (Firefox 3-25).
LEGACY_DOWNLOAD_STATES = {
    -1: "not_started",
    0: "in_progress",
    1: "complete",
    2: "failed",
    3: "cancelled",
    4: "paused",
    5: "queued",
    6: "blocked_parental",
    7: "scanning",
    8: "blocked_dirty",
    9: "blocked_policy",
}
SEARCH_FIELDS = {"searchbar-history", "q", "query", "search", "search_query", "p", "text"}


class FirefoxPlacesParser(SqliteParser):
    NAME = "firefox_places"
    VERSION = "1"
    DESCRIPTION = "Firefox-family places.sqlite: visits (typed/linked) and downloads"
    PATH_GLOBS = browsers.globs("firefox")
    PRODUCES = ("browser.visit", "browser.download", "search.query")
    REQUIRED_TABLES = ("moz_places", "moz_historyvisits")
    QUERIES: ClassVar[dict[str, str]] = {
        "visits": (
            "SELECT v.id, v.place_id, p.url, p.title, v.visit_date, v.visit_type, v.from_visit,"
            " p.visit_count FROM moz_historyvisits v LEFT JOIN moz_places p ON p.id = v.place_id"
            " ORDER BY v.id"
        ),
        "downloads": (
            "SELECT a.id, a.place_id, p.url, a.content, a.dateAdded,"
            " (SELECT m.content FROM moz_annos m JOIN moz_anno_attributes mn"
            "  ON mn.id = m.anno_attribute_id"
            "  WHERE mn.name = 'downloads/metaData' AND m.place_id = a.place_id LIMIT 1)"
            " FROM moz_annos a JOIN moz_anno_attributes n ON n.id = a.anno_attribute_id"
            " LEFT JOIN moz_places p ON p.id = a.place_id"
            " WHERE n.name = 'downloads/destinationFileURI' ORDER BY a.id"
        ),
    }

    def parse_db(self, ctx: ParseContext, conn: sqlite3.Connection) -> Iterator[Artefact]:
        browser = browsers.browser_of("firefox", ctx.task.path)
        profile = browsers.profile_of(ctx.task.path)
        for vid, place, url, title, when, vtype, from_visit, count in conn.execute(
            self.QUERIES["visits"]
        ):
            if url is None:
                ctx.error(f"moz_historyvisits.id={vid}: points to missing moz_places.id={place}")
                continue
            kind = VISIT_TYPES.get(vtype, f"type_{vtype}")
            ref = f"moz_historyvisits.id={vid} moz_places.id={place}"
            ts = stamp(when, EPOCH)
            yield BrowserVisit(
                ctx.prov(ref),
                ts,
                browser=browser,
                profile=profile,
                url=str(url),
                title=title,
                transition=kind,
                typed=kind == "typed",
                visit_count=count,
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
        if {"moz_annos", "moz_anno_attributes"} <= tables(conn):
            yield from self._downloads(ctx, conn, browser, profile)

    def _downloads(
        self, ctx: ParseContext, conn: sqlite3.Connection, browser: str, profile: str
    ) -> Iterator[Artefact]:
        for aid, place, url, destination, added, meta_text in conn.execute(
            self.QUERIES["downloads"]
        ):
            meta = _json_object(meta_text)
            if meta_text and meta is None:
                ctx.error(f"moz_annos.id={aid}: downloads/metaData is not a JSON object")
            meta = meta or {}
            state = meta.get("state")
            size = meta.get("fileSize")
            yield BrowserDownload(
                ctx.prov(f"moz_annos.id={aid} moz_places.id={place}"),
                stamp(added, EPOCH),
                browser=browser,
                profile=profile,
                url=str(url or ""),
                url_chain=(str(url),) if url else (),
                target_path=_file_path(destination),
                received_bytes=size if isinstance(size, int) else None,
                total_bytes=size if isinstance(size, int) else None,
                state=_state(state),
                end_utc=utc_of(meta.get("endTime"), "unix_ms"),
            )


class FirefoxFormHistoryParser(SqliteParser):
    NAME = "firefox_formhistory"
    VERSION = "1"
    DESCRIPTION = "Firefox-family formhistory.sqlite: search-box entries and form values"
    PATH_GLOBS = browsers.globs("firefox", "formhistory.sqlite")
    PRODUCES = ("search.query", "browser.form_entry")
    REQUIRED_TABLES = ("moz_formhistory",)
    QUERIES: ClassVar[dict[str, str]] = {
        "entries": (
            "SELECT id, fieldname, value, timesUsed, firstUsed, lastUsed FROM moz_formhistory"
            " ORDER BY id"
        )
    }

    def parse_db(self, ctx: ParseContext, conn: sqlite3.Connection) -> Iterator[Artefact]:
        browser = browsers.browser_of("firefox", ctx.task.path)
        profile = browsers.profile_of(ctx.task.path)
        for fid, field, value, used, first, last in conn.execute(self.QUERIES["entries"]):
            prov = ctx.prov(f"moz_formhistory.id={fid}")
            if str(field).casefold() in SEARCH_FIELDS:
                yield SearchQuery(
                    prov,
                    stamp(last, EPOCH),
                    application=browser,
                    terms=str(value),
                    engine=None,
                    origin="formhistory",
                )
            else:
                yield FormEntry(
                    prov,
                    stamp(last, EPOCH),
                    browser=browser,
                    profile=profile,
                    field=str(field),
                    value=str(value),
                    times_used=used,
                    first_used_utc=utc_of(first, EPOCH),
                )


class FirefoxLegacyDownloadsParser(SqliteParser):
    NAME = "firefox_downloads"
    VERSION = "1"
    DESCRIPTION = "Firefox-family downloads.sqlite (Firefox 3-25): downloads"
    PATH_GLOBS = browsers.globs("firefox", "downloads.sqlite")
    PRODUCES = ("browser.download",)
    REQUIRED_TABLES = ("moz_downloads",)
    QUERIES: ClassVar[dict[str, str]] = {
        "downloads": (
            "SELECT id, source, target, startTime, endTime, state, currBytes, maxBytes,"
            " {referrer}, {mime} FROM moz_downloads ORDER BY id"
        )
    }

    def parse_db(self, ctx: ParseContext, conn: sqlite3.Connection) -> Iterator[Artefact]:
        browser = browsers.browser_of("firefox", ctx.task.path)
        profile = browsers.profile_of(ctx.task.path)
        have = columns(conn, "moz_downloads")
        query = self.QUERIES["downloads"].format(
            referrer=pick(have, "referrer"), mime=pick(have, "mimeType")
        )
        for did, url, target, start, end, state, got, size, referrer, mime in conn.execute(query):
            yield BrowserDownload(
                ctx.prov(f"moz_downloads.id={did}"),
                stamp(start, EPOCH),
                browser=browser,
                profile=profile,
                url=str(url or ""),
                url_chain=(str(url),) if url else (),
                target_path=_file_path(target),
                received_bytes=got if isinstance(got, int) else None,
                # maxBytes is -1 when the server did not say.
                total_bytes=size if isinstance(size, int) and size >= 0 else None,
                state=_legacy_state(state),
                referrer=str(referrer) if referrer else None,
                mime_type=str(mime) if mime else None,
                end_utc=utc_of(end, EPOCH),
            )


def _legacy_state(value: object) -> str | None:
    if not isinstance(value, int):
        return None if value is None else f"state_{value}"
    return LEGACY_DOWNLOAD_STATES.get(value, f"state_{value}")


# Settings that bear on concealment: private browsing, history kept or cleared, proxies.
PRIVACY_PREFS = (
    "browser.privatebrowsing.autostart",
    "places.history.enabled",
    "privacy.sanitize.sanitizeOnShutdown",
    "privacy.clearOnShutdown.history",
    "privacy.clearOnShutdown_v2.historyFormDataAndDownloads",
    "network.proxy.type",
    "network.proxy.socks",
    "network.proxy.socks_remote_dns",
    "browser.download.dir",
)
_PREF = re.compile(r'^\s*user_pref\(\s*"([^"\\]{1,200})"\s*,\s*(.{0,500}?)\s*\)\s*;', re.M)


class FirefoxPrefsParser(ArtefactParser):
    NAME = "firefox_prefs"
    VERSION = "1"
    DESCRIPTION = "Firefox-family prefs.js: private-browsing, history-clearing and proxy settings"
    PATH_GLOBS = browsers.globs("firefox", "prefs.js")
    PRODUCES = ("browser.setting",)
    MAX_BYTES = 16 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        text = ctx.read_bytes(self.MAX_BYTES).decode("utf-8", "backslashreplace")
        browser = browsers.browser_of("firefox", ctx.task.path)
        profile = browsers.profile_of(ctx.task.path)
        for match in _PREF.finditer(text):
            name, value = match.group(1), match.group(2)
            if name in PRIVACY_PREFS:
                line = text.count("\n", 0, match.start()) + 1
                yield BrowserSetting(
                    ctx.prov(f"line {line}"),
                    None,
                    browser=browser,
                    profile=profile,
                    name=name,
                    value=value.strip('"'),
                )


def _state(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, int):
        return DOWNLOAD_STATES.get(value, f"state_{value}")
    return f"state_{value}"


def _json_object(text: object) -> dict[str, object] | None:
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _file_path(uri: object) -> str:
    """``file:///C:/Users/a/x.pdf`` as ``C:/Users/a/x.pdf`` (other text unchanged)."""
    text = str(uri or "")
    if not text.lower().startswith("file:"):
        return text
    try:
        path = unquote(urlsplit(text).path)
    except ValueError:
        return text
    return path[1:] if re.match(r"^/[A-Za-z]:", path) else path


ARTEFACT_PARSERS.register(FirefoxPlacesParser)
ARTEFACT_PARSERS.register(FirefoxFormHistoryParser)
ARTEFACT_PARSERS.register(FirefoxLegacyDownloadsParser)
ARTEFACT_PARSERS.register(FirefoxPrefsParser)
