"""Safari ``History.db`` (macOS, and iOS in full-file-system extractions): visits; and
the property lists of older Safari (up to 6 on macOS, and Safari for Windows):
``History.plist`` (visits) and ``Downloads.plist`` (downloads).

Schema: ``history_items`` (one row per URL) and ``history_visits`` (one row per visit,
``visit_time`` in Mac absolute time: seconds since 2001-01-01 UTC, a REAL). Safari
does not record typed-versus-linked; ``redirect_source`` marks redirect targets.

``History.plist``: ``WebHistoryDates``, a list of dictionaries with the URL under the
empty key, ``title``, ``visitCount`` and ``lastVisitedDate`` (Mac absolute seconds
written as text). ``Downloads.plist``: ``DownloadHistory``, dictionaries with
``DownloadEntryURL``, ``DownloadEntryPath``, ``DownloadEntryProgressBytesSoFar``,
``DownloadEntryProgressTotalToLoad`` and (Safari 5+) ``DownloadEntryDateAddedKey`` /
``DownloadEntryDateFinishedKey`` dates, which a binary plist stores as Mac absolute
seconds; the raw number is kept.
"""

from __future__ import annotations

import plistlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from unseen.core.errors import WrongFormat
from unseen.internet import browsers
from unseen.internet.base import ARTEFACT_PARSERS, ArtefactParser, ParseContext
from unseen.internet.records import Artefact, BrowserDownload, BrowserVisit, SearchQuery
from unseen.internet.searchterms import search_terms
from unseen.internet.sqlite import SqliteParser, columns, pick
from unseen.internet.timestamps import Stamp, stamp

EPOCH = "mac_absolute_s"
_MAC_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
PLIST_FOLDERS = (
    "**/Library/Safari",
    "**/AppData/Roaming/Apple Computer/Safari",
    "**/Application Data/Apple Computer/Safari",
)


class SafariHistoryParser(SqliteParser):
    NAME = "safari_history"
    VERSION = "1"
    DESCRIPTION = "Safari History.db: visits"
    PATH_GLOBS = (
        "**/Library/Safari/History.db",
        "**/Library/Containers/com.apple.Safari/Data/Library/Safari/History.db",
        "**/com.apple.mobilesafari/Library/Safari/History.db",
    )
    PRODUCES = ("browser.visit", "search.query")
    REQUIRED_TABLES = ("history_items", "history_visits")
    QUERIES: ClassVar[dict[str, str]] = {
        "visits": (
            "SELECT v.id, v.history_item, i.url, v.title, v.visit_time, i.visit_count,"
            " {redirect} FROM history_visits v LEFT JOIN history_items i"
            " ON i.id = v.history_item ORDER BY v.id"
        )
    }

    def parse_db(self, ctx: ParseContext, conn: sqlite3.Connection) -> Iterator[Artefact]:
        parts = ctx.task.path.split("/")
        # ~/Library/Safari/History.db: the profile is the user whose Library it is.
        library = next((i for i, p in enumerate(parts) if p.casefold() == "library"), 0)
        profile = parts[library - 1] if library > 0 else browsers.profile_of(ctx.task.path)
        redirect = pick(columns(conn, "history_visits"), "redirect_source")
        for vid, item, url, title, when, count, source in conn.execute(
            self.QUERIES["visits"].format(redirect=redirect)
        ):
            if url is None:
                ctx.error(f"history_visits.id={vid}: points to missing history_items.id={item}")
                continue
            ref = f"history_visits.id={vid} history_items.id={item}"
            ts = stamp(when, EPOCH)
            yield BrowserVisit(
                ctx.prov(ref),
                ts,
                browser="Safari",
                profile=profile,
                url=str(url),
                title=title,
                transition="redirect" if source else "unknown",
                typed=False,
                visit_count=count,
            )
            found = search_terms(str(url))
            if found:
                yield SearchQuery(
                    ctx.prov(ref),
                    ts,
                    application="Safari",
                    terms=found[1],
                    engine=found[0],
                    origin="url",
                    url=str(url),
                )


def _user_of(path: str) -> str:
    """The account a Safari file belongs to: the folder above ``Library`` (macOS) or
    above ``AppData`` / ``Application Data`` (Windows)."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if i > 0 and part.casefold() in ("library", "appdata", "application data"):
            return parts[i - 1]
    return browsers.profile_of(path)


def _read_plist(ctx: ParseContext, limit: int, key: str) -> list[Any]:
    """The list stored under ``key`` at the top of the item's property list.

    Raises:
        WrongFormat: not a property list, or not one with that list at its top.
    """
    try:
        root = plistlib.loads(ctx.read_bytes(limit))
    except (plistlib.InvalidFileException, ValueError, TypeError, OverflowError) as exc:
        raise WrongFormat(f"not a readable property list: {exc}") from None
    entries = root.get(key) if isinstance(root, dict) else None
    if not isinstance(entries, list):
        raise WrongFormat(f"not the expected property list: no {key} list")
    return entries


def _mac_stamp(value: object) -> Stamp | None:
    """A plist time as a Mac-absolute ``Stamp``: text or a number of seconds since 2001,
    or a plist date (which a binary plist stores as those seconds)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        seconds = (moment - _MAC_EPOCH).total_seconds()
        return stamp(int(seconds) if seconds.is_integer() else seconds, EPOCH)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return stamp(int(number) if number.is_integer() else number, EPOCH)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return stamp(value, EPOCH)
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


class SafariHistoryPlistParser(ArtefactParser):
    NAME = "safari_history_plist"
    VERSION = "1"
    DESCRIPTION = "Safari History.plist (Safari 6 and older, Safari for Windows): visits"
    PATH_GLOBS = tuple(f"{folder}/History.plist" for folder in PLIST_FOLDERS)
    PRODUCES = ("browser.visit", "search.query")
    MAX_BYTES = 256 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        profile = _user_of(ctx.task.path)
        for index, entry in enumerate(_read_plist(ctx, self.MAX_BYTES, "WebHistoryDates")):
            ref = f"WebHistoryDates[{index}]"
            url = _str(entry.get("")) if isinstance(entry, dict) else None
            if url is None:
                ctx.error(f"{ref}: no URL")
                continue
            # Only the last visit of each URL is kept by this format.
            ts = _mac_stamp(entry.get("lastVisitedDate"))
            yield BrowserVisit(
                ctx.prov(ref),
                ts,
                browser="Safari",
                profile=profile,
                url=url,
                title=_str(entry.get("title")),
                transition="unknown",
                typed=False,
                visit_count=_int(entry.get("visitCount")),
            )
            found = search_terms(url)
            if found:
                yield SearchQuery(
                    ctx.prov(ref),
                    ts,
                    application="Safari",
                    terms=found[1],
                    engine=found[0],
                    origin="url",
                    url=url,
                )


class SafariDownloadsPlistParser(ArtefactParser):
    NAME = "safari_downloads_plist"
    VERSION = "1"
    DESCRIPTION = "Safari Downloads.plist: downloads (URL, saved path, bytes, times)"
    PATH_GLOBS = tuple(f"{folder}/Downloads.plist" for folder in PLIST_FOLDERS)
    PRODUCES = ("browser.download",)
    MAX_BYTES = 64 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        profile = _user_of(ctx.task.path)
        for index, entry in enumerate(_read_plist(ctx, self.MAX_BYTES, "DownloadHistory")):
            ref = f"DownloadHistory[{index}]"
            if not isinstance(entry, dict):
                ctx.error(f"{ref}: not a dictionary")
                continue
            url = _str(entry.get("DownloadEntryURL")) or ""
            received = _int(entry.get("DownloadEntryProgressBytesSoFar"))
            total = _int(entry.get("DownloadEntryProgressTotalToLoad"))
            finished = _mac_stamp(entry.get("DownloadEntryDateFinishedKey"))
            complete = received is not None and total is not None and 0 < total <= received
            yield BrowserDownload(
                ctx.prov(ref),
                _mac_stamp(entry.get("DownloadEntryDateAddedKey")),
                browser="Safari",
                profile=profile,
                url=url,
                url_chain=(url,) if url else (),
                target_path=_str(entry.get("DownloadEntryPath")) or "",
                received_bytes=received,
                total_bytes=total,
                # The format keeps no state; a download that got all its bytes is done.
                state="complete" if complete else None,
                end_utc=finished.utc if finished else None,
            )


ARTEFACT_PARSERS.register(SafariHistoryParser)
ARTEFACT_PARSERS.register(SafariHistoryPlistParser)
ARTEFACT_PARSERS.register(SafariDownloadsPlistParser)
