"""Safari ``History.db`` (macOS, and iOS in full-file-system extractions): visits.

Schema: ``history_items`` (one row per URL) and ``history_visits`` (one row per visit,
``visit_time`` in Mac absolute time: seconds since 2001-01-01 UTC, a REAL). Safari
does not record typed-versus-linked; ``redirect_source`` marks redirect targets.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import ClassVar

from unseen.internet import browsers
from unseen.internet.base import ARTEFACT_PARSERS, ParseContext
from unseen.internet.records import Artefact, BrowserVisit, SearchQuery
from unseen.internet.searchterms import search_terms
from unseen.internet.sqlite import SqliteParser, columns, pick
from unseen.internet.timestamps import stamp

EPOCH = "mac_absolute_s"


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


ARTEFACT_PARSERS.register(SafariHistoryParser)
