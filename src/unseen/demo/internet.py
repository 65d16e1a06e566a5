"""Demo role ``internet``: a synthetic, benign internet-usage trail for the internet report.

Writes, for the demo user ``sam``: a Chrome profile's ``History`` (60 visits over five weeks,
searches on three engines, a download with its redirect chain), a qBittorrent session
(``.torrent`` + ``.fastresume``) for a file that is also in Downloads, an eMule
``known.met`` naming one file present on disk and one absent, the eMule search box's
history, and a wiping tool's presence (a BleachBit program stub and its settings file).
Everything is generated here, deterministically; no real site, person or file is named.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import struct
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from unseen.demo.builder import DemoBuilder, epoch
from unseen.demo.documents import minimal_pdf
from unseen.internet.ed2k import PureMD4, ed2k_stream

ROLE = "internet"
USER = "Users/sam"
CHROME = f"{USER}/AppData/Local/Google/Chrome/User Data/Default"
QBT = f"{USER}/AppData/Local/qBittorrent/BT_backup"
EMULE = f"{USER}/AppData/Local/eMule/config"
START = datetime(2024, 5, 20, 7, 0, tzinfo=UTC)
WEBKIT_OFFSET_S = 11_644_473_600  # 1601-01-01 to 1970-01-01

# (url, title, typed) pages the demo user visits.
PAGES = [
    ("https://www.bbc.co.uk/news", "BBC News", True),
    ("https://www.bbc.co.uk/weather", "BBC Weather", False),
    ("https://en.wikipedia.org/wiki/Allotment_(gardening)", "Allotment (gardening)", False),
    ("https://www.gov.uk/browse/driving", "Driving and transport - GOV.UK", True),
    ("https://www.example.org/community-garden", "Community garden | Example", False),
    ("https://www.openstreetmap.org/", "OpenStreetMap", True),
]
SEARCHES = [
    ("https://www.google.com/search?q=weekend+weather+york", "weekend weather york"),
    ("https://www.bing.com/search?q=train+times+york+to+leeds", "train times york to leeds"),
    ("https://duckduckgo.com/?q=open+source+photo+editor", "open source photo editor"),
    ("https://www.google.com/search?q=vegetable+lasagne+recipe", "vegetable lasagne recipe"),
]


def webkit(moment: datetime) -> int:
    """Chrome time: microseconds since 1601-01-01 UTC."""
    return int((moment.timestamp() + WEBKIT_OFFSET_S) * 1_000_000)


_CHROME_DDL = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT, url LONGVARCHAR, title LONGVARCHAR,
  visit_count INTEGER DEFAULT 0 NOT NULL, typed_count INTEGER DEFAULT 0 NOT NULL,
  last_visit_time INTEGER NOT NULL, hidden INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY, url INTEGER NOT NULL, visit_time INTEGER NOT NULL,
  from_visit INTEGER, transition INTEGER DEFAULT 0 NOT NULL, segment_id INTEGER,
  visit_duration INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE keyword_search_terms(keyword_id INTEGER NOT NULL, url_id INTEGER NOT NULL,
  term LONGVARCHAR NOT NULL, normalized_term LONGVARCHAR NOT NULL);
CREATE TABLE downloads(id INTEGER PRIMARY KEY, guid VARCHAR NOT NULL,
  current_path LONGVARCHAR NOT NULL, target_path LONGVARCHAR NOT NULL,
  start_time INTEGER NOT NULL, received_bytes INTEGER NOT NULL, total_bytes INTEGER NOT NULL,
  state INTEGER NOT NULL, danger_type INTEGER NOT NULL, interrupt_reason INTEGER NOT NULL,
  hash BLOB NOT NULL, end_time INTEGER NOT NULL, opened INTEGER NOT NULL,
  last_access_time INTEGER NOT NULL, transient INTEGER NOT NULL, referrer VARCHAR NOT NULL,
  site_url VARCHAR NOT NULL, tab_url VARCHAR NOT NULL, tab_referrer_url VARCHAR NOT NULL,
  http_method VARCHAR NOT NULL, by_ext_id VARCHAR NOT NULL, by_ext_name VARCHAR NOT NULL,
  etag VARCHAR NOT NULL, last_modified VARCHAR NOT NULL, mime_type VARCHAR(255) NOT NULL,
  original_mime_type VARCHAR(255) NOT NULL);
CREATE TABLE downloads_url_chains(id INTEGER NOT NULL, chain_index INTEGER NOT NULL,
  url LONGVARCHAR NOT NULL, PRIMARY KEY (id, chain_index));
"""


def chrome_history(download_size: int) -> tuple[bytes, datetime]:
    """A Chrome History database and the time of its last visit."""
    rng = random.Random(20240520)
    with tempfile.TemporaryDirectory(prefix="unseen-demo-") as tmp:
        path = Path(tmp) / "History"
        conn = sqlite3.connect(path)
        conn.executescript(_CHROME_DDL)
        conn.execute("INSERT INTO meta VALUES ('version', '68')")
        urls = [(u, t, typed) for u, t, typed in PAGES] + [(u, "", False) for u, _ in SEARCHES]
        for url_id, (url, title, _) in enumerate(urls, 1):
            conn.execute("INSERT INTO urls VALUES (?,?,?,0,0,0,0)", (url_id, url, title))
        moment = START
        for visit_id in range(1, 61):
            # Irregular gaps of hours to a day, so the hour-by-weekday table has a shape.
            moment += timedelta(hours=rng.choice([3, 5, 20, 22, 26]), minutes=rng.randint(0, 59))
            url_id = rng.randint(1, len(urls))
            typed = urls[url_id - 1][2] and rng.random() < 0.7
            searching = url_id > len(PAGES)
            transition = 0x30000001 if typed else (0x30000005 if searching else 0)
            conn.execute(
                "INSERT INTO visits (id, url, visit_time, from_visit, transition, visit_duration)"
                " VALUES (?,?,?,0,?,?)",
                (visit_id, url_id, webkit(moment), transition, rng.randint(2, 300) * 1_000_000),
            )
            conn.execute(
                "UPDATE urls SET visit_count = visit_count + 1, last_visit_time = ? WHERE id = ?",
                (webkit(moment), url_id),
            )
        for offset, (_, term) in enumerate(SEARCHES):
            conn.execute(
                "INSERT INTO keyword_search_terms VALUES (2, ?, ?, ?)",
                (len(PAGES) + 1 + offset, term, term),
            )
        fetched = START + timedelta(days=3, hours=13)
        target = "C:\\Users\\sam\\Downloads\\bus-timetable.pdf"
        conn.execute(
            "INSERT INTO downloads VALUES (1, 'demo-guid-1', ?, ?, ?, ?, ?, 1, 0, 0, x'', ?, 1,"
            " 0, 0, 'https://www.example.org/community-garden', 'https://www.example.org', "
            "'https://www.example.org/community-garden', '', 'GET', '', '', '', '',"
            " 'application/pdf', 'application/pdf')",
            (
                target,
                target,
                webkit(fetched),
                download_size,
                download_size,
                webkit(fetched + timedelta(seconds=2)),
            ),
        )
        conn.executemany(
            "INSERT INTO downloads_url_chains VALUES (1, ?, ?)",
            [
                (0, "https://www.example.org/files/timetable?id=42"),
                (1, "https://files.example.org/bus-timetable.pdf"),
            ],
        )
        conn.commit()
        conn.close()
        return path.read_bytes(), moment


def bencode(value: object) -> bytes:
    """Canonical bencoding (sorted keys) of ints, bytes/str, lists and dicts."""
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode("utf-8")
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        pairs = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in pairs) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


def shared_text(name: str, size: int) -> bytes:
    """Deterministic benign text of exactly ``size`` bytes."""
    line = f"{name}: synthetic demo content, nothing real. ".encode()
    return (line * (size // len(line) + 1))[:size]


def torrent(name: str, content: bytes, piece_length: int = 16384) -> tuple[bytes, bytes]:
    """A single-file v1 ``.torrent`` for ``content`` and its info-hash (20 bytes)."""
    pieces = b"".join(
        hashlib.sha1(content[i : i + piece_length]).digest()
        for i in range(0, len(content), piece_length)
    )
    info = {"length": len(content), "name": name, "piece length": piece_length, "pieces": pieces}
    meta = {
        "announce": "http://tracker.example.invalid/announce",
        "created by": "unseen demo",
        "creation date": int(epoch(START)),
        "info": info,
    }
    return bencode(meta), hashlib.sha1(bencode(info)).digest()


def _met_string(name_id: int, value: str) -> bytes:
    raw = value.encode("utf-8")
    return bytes([0x02 | 0x80, name_id]) + struct.pack("<H", len(raw)) + raw


def _met_u32(name_id: int, value: int) -> bytes:
    return bytes([0x03 | 0x80, name_id]) + struct.pack("<I", value)


def known_met(files: list[tuple[str, int, str, int]]) -> bytes:
    """eMule ``known.met``: (name, size, ED2K hex, date) per file, with upload counters."""
    out = bytearray([0x0E]) + struct.pack("<I", len(files))
    for index, (name, size, ed2k, date) in enumerate(files):
        tags = [
            _met_string(0x01, name),
            _met_u32(0x02, size),
            _met_u32(0x50, size * (index + 1)),
            _met_u32(0x51, 3 + index),
            _met_u32(0x52, 2 + index),
            _met_u32(0x34, date),
        ]
        out += struct.pack("<I", date) + bytes.fromhex(ed2k) + struct.pack("<H", 0)
        out += struct.pack("<I", len(tags)) + b"".join(tags)
    return bytes(out)


def internet_usage(b: DemoBuilder) -> None:
    """The ``internet`` demo role (see the module docstring)."""
    pdf = minimal_pdf(["Bus timetable", "Route 42: every 20 minutes"])
    history, last_visit = chrome_history(len(pdf))
    b.write(f"{CHROME}/History", history, last_visit, ROLE, note="Chrome history (synthetic)")
    b.write(
        f"{USER}/Downloads/bus-timetable.pdf",
        pdf,
        START + timedelta(days=3, hours=13),
        ROLE,
        note="the file of the Chrome download",
    )
    added = START + timedelta(days=5, hours=20)
    content = shared_text("open-map-tiles-sample.txt", 40_000)
    meta, info_hash = torrent("open-map-tiles-sample.txt", content)
    resume = {
        "file-format": "libtorrent resume file",
        "file-version": 1,
        "info-hash": info_hash,
        "name": "open-map-tiles-sample.txt",
        "save_path": "C:\\Users\\sam\\Downloads",
        "added_time": int(epoch(added)),
        "completed_time": int(epoch(added + timedelta(minutes=4))),
        "total_downloaded": len(content),
        "total_uploaded": 2 * len(content),
        "qBt-category": "maps",
    }
    stem = f"{QBT}/{info_hash.hex()}"
    b.write(f"{stem}.torrent", meta, added, ROLE, note="qBittorrent torrent (synthetic)")
    b.write(
        f"{stem}.fastresume",
        bencode(resume),
        added + timedelta(minutes=4),
        ROLE,
        note="qBittorrent resume data",
    )
    b.write(
        f"{USER}/Downloads/open-map-tiles-sample.txt",
        content,
        added + timedelta(minutes=4),
        ROLE,
        note="the torrent's file, present on disk",
    )
    garden = minimal_pdf(["Community garden plan", "Beds 1-12, compost, water butts"])
    present = ed2k_of(garden)
    absent = PureMD4(b"lecture recording week 3 (not in the evidence)").hexdigest()
    shared = START + timedelta(days=7, hours=21)
    b.write(
        f"{EMULE}/known.met",
        known_met(
            [
                ("community-garden-plan.pdf", len(garden), present, int(epoch(shared))),
                ("lecture-recording-week3.ogg", 8_400_000, absent, int(epoch(shared))),
            ]
        ),
        shared,
        ROLE,
        note="eMule known.met: one file on disk, one absent",
    )
    b.write(
        f"{USER}/Downloads/eMule/Incoming/community-garden-plan.pdf",
        garden,
        shared,
        ROLE,
        note="the eMule file present on disk",
    )
    searches = "\ufeffgarden planning\r\nlecture recordings\r\n".encode("utf-16-le")
    b.write(f"{EMULE}/AC_SearchStrings.dat", searches, shared, ROLE, note="eMule search box")
    wiped = START + timedelta(days=12, hours=23)
    b.write(
        "Program Files/BleachBit/bleachbit.exe",
        b"MZ" + b"\0" * 62 + b"unseen demo stub",
        wiped,
        ROLE,
        note="a wiping tool's program (a stub, not a program)",
    )
    b.write(
        f"{USER}/AppData/Roaming/BleachBit/bleachbit.ini",
        b"[bleachbit]\r\nfirst_start = False\r\nshred = True\r\n"
        b"[tree]\r\nfirefox.cache = True\r\n",
        wiped,
        ROLE,
        note="BleachBit settings",
    )


def ed2k_of(data: bytes) -> str:
    import io

    return ed2k_stream(io.BytesIO(data)).ed2k
