"""Evidence files built from the applications' documented formats, with benign content.

Chromium ``History`` (components/history/core/browser), Firefox ``places.sqlite`` and
``formhistory.sqlite`` (toolkit/components/places, satchel), Safari ``History.db``,
eMule ``.met`` files (opcodes.h tag format, written byte by byte) and bencoded
BitTorrent files (BEP 3/52). Every value here is invented; the tests state what the
parsers must find.
"""

from __future__ import annotations

import plistlib
import shutil
import sqlite3
import struct
from datetime import UTC, datetime
from pathlib import Path

# Times used throughout (all UTC).
# 2024-03-01T10:00:00Z as WebKit microseconds since 1601: (1709287200 + 11644473600) * 1e6.
T0_UNIX = 1_709_287_200
WEBKIT_OFFSET_S = 11_644_473_600


def webkit(unix_s: int) -> int:
    return (unix_s + WEBKIT_OFFSET_S) * 1_000_000


CHROME_DDL = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT, url LONGVARCHAR, title LONGVARCHAR,
  visit_count INTEGER DEFAULT 0 NOT NULL, typed_count INTEGER DEFAULT 0 NOT NULL,
  last_visit_time INTEGER NOT NULL, hidden INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY, url INTEGER NOT NULL, visit_time INTEGER NOT NULL,
  from_visit INTEGER, transition INTEGER DEFAULT 0 NOT NULL, segment_id INTEGER,
  visit_duration INTEGER DEFAULT 0 NOT NULL, incremented_omnibox_typed_score BOOLEAN DEFAULT FALSE
  NOT NULL, opener_visit INTEGER, originator_cache_guid TEXT, originator_visit_id INTEGER,
  originator_from_visit INTEGER, originator_opener_visit INTEGER, is_known_to_sync BOOLEAN
  DEFAULT FALSE NOT NULL, consider_for_ntp_most_visited BOOLEAN DEFAULT FALSE NOT NULL,
  external_referrer_url TEXT, visited_link_id INTEGER);
CREATE TABLE keyword_search_terms(keyword_id INTEGER NOT NULL, url_id INTEGER NOT NULL,
  term LONGVARCHAR NOT NULL, normalized_term LONGVARCHAR NOT NULL);
CREATE TABLE downloads(id INTEGER PRIMARY KEY, guid VARCHAR NOT NULL,
  current_path LONGVARCHAR NOT NULL, target_path LONGVARCHAR NOT NULL,
  start_time INTEGER NOT NULL, received_bytes INTEGER NOT NULL, total_bytes INTEGER NOT NULL,
  state INTEGER NOT NULL, danger_type INTEGER NOT NULL, interrupt_reason INTEGER NOT NULL,
  hash BLOB NOT NULL, end_time INTEGER NOT NULL, opened INTEGER NOT NULL,
  last_access_time INTEGER NOT NULL, transient INTEGER NOT NULL, referrer VARCHAR NOT NULL,
  site_url VARCHAR NOT NULL, embedder_download_data VARCHAR NOT NULL, tab_url VARCHAR NOT NULL,
  tab_referrer_url VARCHAR NOT NULL, http_method VARCHAR NOT NULL, by_ext_id VARCHAR NOT NULL,
  by_ext_name VARCHAR NOT NULL, by_web_app_id VARCHAR NOT NULL, etag VARCHAR NOT NULL,
  last_modified VARCHAR NOT NULL, mime_type VARCHAR(255) NOT NULL,
  original_mime_type VARCHAR(255) NOT NULL);
CREATE TABLE downloads_url_chains(id INTEGER NOT NULL, chain_index INTEGER NOT NULL,
  url LONGVARCHAR NOT NULL, PRIMARY KEY (id, chain_index));
"""

# An old (pre-v24) History: no URL chains, the target called full_path, url on the row.
CHROME_OLD_DDL = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE urls(id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR,
  visit_count INTEGER DEFAULT 0 NOT NULL, typed_count INTEGER DEFAULT 0 NOT NULL,
  last_visit_time INTEGER NOT NULL, hidden INTEGER DEFAULT 0 NOT NULL,
  favicon_id INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY, url INTEGER NOT NULL, visit_time INTEGER NOT NULL,
  from_visit INTEGER, transition INTEGER DEFAULT 0 NOT NULL, segment_id INTEGER,
  is_indexed BOOLEAN);
CREATE TABLE keyword_search_terms(keyword_id INTEGER NOT NULL, url_id INTEGER NOT NULL,
  lower_term LONGVARCHAR NOT NULL, term LONGVARCHAR NOT NULL);
CREATE TABLE downloads(id INTEGER PRIMARY KEY, full_path LONGVARCHAR NOT NULL,
  url LONGVARCHAR NOT NULL, start_time INTEGER NOT NULL, received_bytes INTEGER NOT NULL,
  total_bytes INTEGER NOT NULL, state INTEGER NOT NULL, end_time INTEGER NOT NULL,
  opened INTEGER NOT NULL);
"""

CHROME_URLS = [
    (1, "https://www.bbc.co.uk/news", "BBC News", 2, 1, webkit(T0_UNIX + 3600)),
    (
        2,
        "https://www.google.com/search?q=weather+leeds&hl=en",
        "weather leeds - Google Search",
        1,
        0,
        webkit(T0_UNIX + 60),
    ),
    (3, "https://en.wikipedia.org/wiki/Otter", "Otter - Wikipedia", 1, 0, webkit(T0_UNIX + 120)),
]
# (id, url id, time, from_visit, transition, duration µs). Transition core types: 1 typed
# (0x30000000: chain start+end qualifiers), 5 generated, 0 link, 8 reload.
CHROME_VISITS = [
    (1, 1, webkit(T0_UNIX), 0, 0x30000001, 0),
    (2, 2, webkit(T0_UNIX + 60), 0, 0x30000005, 0),
    (3, 3, webkit(T0_UNIX + 120), 2, 0x00000000, 5_000_000),
    (4, 1, webkit(T0_UNIX + 3600), 0, 0x00000008, 0),
]


def chrome_history(path: Path, old: bool = False) -> Path:
    """A Chromium History with 4 visits, 1 keyword search and 1 download."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(CHROME_OLD_DDL if old else CHROME_DDL)
    conn.execute("INSERT INTO meta VALUES ('version', ?)", ("20" if old else "68",))
    if old:
        conn.executemany("INSERT INTO urls VALUES (?,?,?,?,?,?,0,0)", CHROME_URLS)
        conn.executemany(
            "INSERT INTO visits VALUES (?,?,?,?,?,0,0)", [v[:5] for v in CHROME_VISITS]
        )
        conn.execute(
            "INSERT INTO keyword_search_terms VALUES (2, 2, 'weather leeds', 'weather leeds')"
        )
        conn.execute(
            "INSERT INTO downloads VALUES (1, 'C:\\Users\\alex\\Downloads\\timetable.pdf',"
            " 'https://cdn.example.org/timetable.pdf', ?, 1234, 1234, 1, ?, 0)",
            (T0_UNIX + 200, T0_UNIX + 201),  # time_t in this schema, not WebKit time
        )
    else:
        conn.executemany("INSERT INTO urls VALUES (?,?,?,?,?,?,0)", CHROME_URLS)
        conn.executemany(
            "INSERT INTO visits (id, url, visit_time, from_visit, transition, visit_duration)"
            " VALUES (?,?,?,?,?,?)",
            CHROME_VISITS,
        )
        conn.execute(
            "INSERT INTO keyword_search_terms VALUES (2, 2, 'weather leeds', 'weather leeds')"
        )
        conn.execute(
            "INSERT INTO downloads VALUES (1, 'guid-1',"
            " 'C:\\Users\\alex\\Downloads\\timetable.pdf',"
            " 'C:\\Users\\alex\\Downloads\\timetable.pdf',"
            " ?, 1234, 1234, 1, 0, 0, x'', ?, 1, 0, 0,"
            " 'https://example.org/timetables', 'https://example.org', '', 'https://example.org/t',"
            " '', 'GET', '', '', '', '', '', 'application/pdf', 'application/pdf')",
            (webkit(T0_UNIX + 200), webkit(T0_UNIX + 201)),
        )
        conn.executemany(
            "INSERT INTO downloads_url_chains VALUES (?,?,?)",
            [
                (1, 0, "https://example.org/get?id=7"),
                (1, 1, "https://cdn.example.org/timetable.pdf"),
            ],
        )
    conn.commit()
    conn.close()
    return path


def chrome_history_with_wal(folder: Path) -> Path:
    """A History whose last visit (id 5, to duckduckgo) is only in the ``-wal`` file.

    The base database is written in rollback mode and closed; then it is reopened in
    WAL mode with automatic checkpoints off, a visit is added, and the database and its
    WAL are copied aside while the connection is still open (closing would checkpoint).
    """
    work = folder / "work"
    base = chrome_history(work / "History")
    conn = sqlite3.connect(base)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute(
        "INSERT INTO urls VALUES (4, 'https://duckduckgo.com/?q=otter+facts', "
        "'otter facts at DuckDuckGo', 1, 1, ?, 0)",
        (webkit(T0_UNIX + 7200),),
    )
    conn.execute(
        "INSERT INTO visits (id, url, visit_time, from_visit, transition, visit_duration)"
        " VALUES (5, 4, ?, 0, 1, 0)",
        (webkit(T0_UNIX + 7200),),
    )
    conn.commit()
    target = folder / "History"
    shutil.copyfile(base, target)
    shutil.copyfile(str(base) + "-wal", str(target) + "-wal")
    conn.close()
    shutil.rmtree(work)
    return target


FIREFOX_DDL = """
CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR,
  rev_host LONGVARCHAR, visit_count INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0 NOT NULL,
  typed INTEGER DEFAULT 0 NOT NULL, frecency INTEGER DEFAULT -1 NOT NULL,
  last_visit_date INTEGER, guid TEXT, foreign_count INTEGER DEFAULT 0 NOT NULL,
  url_hash INTEGER DEFAULT 0 NOT NULL, description TEXT, preview_image_url TEXT,
  site_name TEXT, origin_id INTEGER, recalc_frecency INTEGER NOT NULL DEFAULT 0,
  alt_frecency INTEGER, recalc_alt_frecency INTEGER NOT NULL DEFAULT 0);
CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, from_visit INTEGER, place_id INTEGER,
  visit_date INTEGER, visit_type INTEGER, session INTEGER, source INTEGER DEFAULT 0 NOT NULL,
  triggeringPlaceId INTEGER);
CREATE TABLE moz_anno_attributes (id INTEGER PRIMARY KEY, name VARCHAR(32) UNIQUE NOT NULL);
CREATE TABLE moz_annos (id INTEGER PRIMARY KEY, place_id INTEGER NOT NULL,
  anno_attribute_id INTEGER, content LONGVARCHAR, flags INTEGER DEFAULT 0,
  expiration INTEGER DEFAULT 0, type INTEGER DEFAULT 0, dateAdded INTEGER DEFAULT 0,
  lastModified INTEGER DEFAULT 0);
"""


def firefox_places(path: Path) -> Path:
    """3 visits (typed, link, download), 1 search-engine URL, 1 download with metadata."""
    path.parent.mkdir(parents=True, exist_ok=True)
    us = 1_000_000
    conn = sqlite3.connect(path)
    conn.executescript(FIREFOX_DDL)
    conn.executemany(
        "INSERT INTO moz_places (id, url, title, visit_count, typed, last_visit_date)"
        " VALUES (?,?,?,?,?,?)",
        [
            (1, "https://www.gov.uk/", "Welcome to GOV.UK", 1, 1, (T0_UNIX + 10) * us),
            (
                2,
                "https://www.bing.com/search?q=bus+timetable",
                "bus timetable - Search",
                1,
                0,
                (T0_UNIX + 20) * us,
            ),
            (3, "https://files.example.net/leaflet.pdf", None, 1, 0, (T0_UNIX + 30) * us),
        ],
    )
    conn.executemany(
        "INSERT INTO moz_historyvisits (id, from_visit, place_id, visit_date, visit_type)"
        " VALUES (?,?,?,?,?)",
        [
            (1, 0, 1, (T0_UNIX + 10) * us, 2),
            (2, 1, 2, (T0_UNIX + 20) * us, 1),
            (3, 2, 3, (T0_UNIX + 30) * us, 7),
        ],
    )
    conn.executemany(
        "INSERT INTO moz_anno_attributes VALUES (?,?)",
        [(1, "downloads/destinationFileURI"), (2, "downloads/metaData")],
    )
    conn.executemany(
        "INSERT INTO moz_annos (id, place_id, anno_attribute_id, content, dateAdded)"
        " VALUES (?,?,?,?,?)",
        [
            (1, 3, 1, "file:///C:/Users/alex/Downloads/leaflet%20v2.pdf", (T0_UNIX + 31) * us),
            (
                2,
                3,
                2,
                '{"state":1,"deleted":false,"endTime":1709287232000,"fileSize":4096}',
                (T0_UNIX + 32) * us,
            ),
        ],
    )
    conn.commit()
    conn.close()
    return path


def firefox_formhistory(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    us = 1_000_000
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE moz_formhistory (id INTEGER PRIMARY KEY, fieldname TEXT NOT NULL,"
        " value TEXT NOT NULL, timesUsed INTEGER, firstUsed INTEGER, lastUsed INTEGER, guid TEXT)"
    )
    conn.executemany(
        "INSERT INTO moz_formhistory VALUES (?,?,?,?,?,?,?)",
        [
            (
                1,
                "searchbar-history",
                "allotment waiting list",
                2,
                (T0_UNIX + 40) * us,
                (T0_UNIX + 50) * us,
                "g1",
            ),
            (2, "postcode", "LS1 1AA", 1, (T0_UNIX + 60) * us, (T0_UNIX + 60) * us, "g2"),
        ],
    )
    conn.commit()
    conn.close()
    return path


SAFARI_DDL = """
CREATE TABLE history_items (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL UNIQUE,
  domain_expansion TEXT NULL, visit_count INTEGER NOT NULL, daily_visit_counts BLOB NOT NULL,
  weekly_visit_counts BLOB NULL, autocomplete_triggers BLOB NULL,
  should_recompute_derived_visit_counts INTEGER NOT NULL, visit_count_score INTEGER NOT NULL,
  status_code INTEGER NOT NULL DEFAULT 0);
CREATE TABLE history_visits (id INTEGER PRIMARY KEY AUTOINCREMENT,
  history_item INTEGER NOT NULL REFERENCES history_items(id) ON DELETE CASCADE,
  visit_time REAL NOT NULL, title TEXT NULL, load_successful BOOLEAN NOT NULL DEFAULT 1,
  http_non_get BOOLEAN NOT NULL DEFAULT 0, synthesized BOOLEAN NOT NULL DEFAULT 0,
  redirect_source INTEGER NULL UNIQUE, redirect_destination INTEGER NULL UNIQUE,
  origin INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 0,
  attributes INTEGER NOT NULL DEFAULT 0, score INTEGER NOT NULL DEFAULT 0);
"""
MAC_EPOCH_OFFSET_S = 978_307_200  # 2001-01-01 in Unix seconds


def safari_history(path: Path) -> Path:
    """2 visits: a DuckDuckGo search, then a page (at 2024-03-01T11:00:00.25Z)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(SAFARI_DDL)
    conn.executemany(
        "INSERT INTO history_items (id, url, visit_count, daily_visit_counts,"
        " should_recompute_derived_visit_counts, visit_count_score) VALUES (?,?,?,x'',0,0)",
        [
            (1, "https://duckduckgo.com/?q=hedgehog+house&ia=web", 1),
            (2, "https://www.rspb.org.uk/birds-and-wildlife", 3),
        ],
    )
    conn.executemany(
        "INSERT INTO history_visits (id, history_item, visit_time, title) VALUES (?,?,?,?)",
        [
            (1, 1, T0_UNIX - MAC_EPOCH_OFFSET_S + 3000.0, "hedgehog house at DuckDuckGo"),
            (2, 2, T0_UNIX - MAC_EPOCH_OFFSET_S + 3600.25, "Birds and wildlife"),
        ],
    )
    conn.commit()
    conn.close()
    return path


# -- eMule .met: the tag format written byte by byte --------------------------------


def tag_str(name_id: int, value: str) -> bytes:
    """An old-style string tag: type 0x02, uint16 name length 1, name id, uint16 len, bytes."""
    raw = value.encode("utf-8")
    return (
        bytes([0x02]) + struct.pack("<H", 1) + bytes([name_id]) + struct.pack("<H", len(raw)) + raw
    )


def tag_u32(name_id: int, value: int, short: bool = True) -> bytes:
    """A uint32 tag; ``short`` uses the new form (type | 0x80, one-byte name id)."""
    if short:
        return bytes([0x03 | 0x80, name_id]) + struct.pack("<I", value)
    return bytes([0x03]) + struct.pack("<H", 1) + bytes([name_id]) + struct.pack("<I", value)


def tag_u64(name_id: int, value: int) -> bytes:
    return bytes([0x0B | 0x80, name_id]) + struct.pack("<Q", value)


def tag_str_short(name_id: int, value: str) -> bytes:
    """A new-style STRn tag (type 0x11..0x20 carries the length 1..16)."""
    raw = value.encode("utf-8")
    assert 1 <= len(raw) <= 16
    return bytes([(0x10 + len(raw)) | 0x80, name_id]) + raw


def met_entry(date: int, digest: bytes, tags: list[bytes], parts: int = 0) -> bytes:
    return (
        struct.pack("<I", date)
        + digest
        + struct.pack("<H", parts)
        + bytes(range(16)) * parts
        + struct.pack("<I", len(tags))
        + b"".join(tags)
    )


def known_met(entries: list[bytes], header: int = 0x0E) -> bytes:
    return bytes([header]) + struct.pack("<I", len(entries)) + b"".join(entries)


# -- bencode (the test's own encoder, independent of the parser's decoder) ----------


def bencode(value: object) -> bytes:
    if isinstance(value, bool):
        raise TypeError("no booleans in bencode")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode("utf-8")
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


# Mac absolute time (seconds since 2001-01-01 UTC) of T0: 1709287200 - 978307200.
MAC_OFFSET_S = 978_307_200

FIREFOX_DOWNLOADS_DDL = """
CREATE TABLE moz_downloads (id INTEGER PRIMARY KEY, name TEXT, source TEXT, target TEXT,
  tempPath TEXT, startTime INTEGER, endTime INTEGER, state INTEGER, referrer TEXT,
  entityID TEXT, currBytes INTEGER NOT NULL DEFAULT 0, maxBytes INTEGER NOT NULL DEFAULT -1,
  mimeType TEXT, preferredApplication TEXT, preferredAction INTEGER NOT NULL DEFAULT 0,
  autoResume INTEGER NOT NULL DEFAULT 0, guid TEXT);
"""


def firefox_downloads(path: Path) -> Path:
    """A Firefox 3-25 ``downloads.sqlite`` with a finished and a cancelled download."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(FIREFOX_DOWNLOADS_DDL)
    conn.executemany(
        "INSERT INTO moz_downloads (id, name, source, target, startTime, endTime, state,"
        " referrer, currBytes, maxBytes, mimeType) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            (1, "map.pdf", "https://maps.example.org/map.pdf",
             "file:///C:/Users/alex/Downloads/map%20v2.pdf", (T0_UNIX + 300) * 1_000_000,
             (T0_UNIX + 302) * 1_000_000, 1, "https://maps.example.org/", 5000, 5000,
             "application/pdf"),
            (2, "big.iso", "https://mirror.example.org/big.iso",
             "file:///C:/Users/alex/Downloads/big.iso", (T0_UNIX + 400) * 1_000_000, 0, 3,
             None, 100, -1, None),
        ],
    )  # fmt: skip
    conn.commit()
    conn.close()
    return path


def safari_history_plist(path: Path) -> Path:
    """A binary ``History.plist`` as Safari 6 and older wrote it (times as text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "WebHistoryFileVersion": 1,
        "WebHistoryDates": [
            {
                "": "https://www.bing.com/search?q=otter+facts",
                "title": "otter facts - Bing",
                "lastVisitedDate": f"{T0_UNIX - MAC_OFFSET_S}.5",
                "visitCount": 3,
            },
            {"title": "no address"},
            {"": "https://example.org/", "lastVisitedDate": str(T0_UNIX - MAC_OFFSET_S + 60)},
        ],
    }
    path.write_bytes(plistlib.dumps(data, fmt=plistlib.FMT_BINARY))
    return path


def safari_downloads_plist(path: Path) -> Path:
    """A binary ``Downloads.plist`` with one finished download (dates as plist dates)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    added = datetime.fromtimestamp(T0_UNIX + 500, UTC).replace(tzinfo=None)
    done = datetime.fromtimestamp(T0_UNIX + 505, UTC).replace(tzinfo=None)
    data = {
        "DownloadHistory": [
            {
                "DownloadEntryURL": "https://files.example.org/recipes.zip",
                "DownloadEntryPath": "~/Downloads/recipes.zip",
                "DownloadEntryProgressBytesSoFar": 2048,
                "DownloadEntryProgressTotalToLoad": 2048,
                "DownloadEntryIdentifier": "5B1D0C9E-0000-4000-8000-000000000001",
                "DownloadEntryDateAddedKey": added,
                "DownloadEntryDateFinishedKey": done,
            }
        ]
    }
    path.write_bytes(plistlib.dumps(data, fmt=plistlib.FMT_BINARY))
    return path
