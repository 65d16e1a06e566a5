"""Older browser formats: Firefox 3-25 ``downloads.sqlite``, Safari ``History.plist`` and
``Downloads.plist``, each read with its documented clock."""

from __future__ import annotations

from pathlib import Path

from unseen.core.settings import Settings
from unseen.engine.driver import ordered_jobs
from unseen.engine.runner import process_case
from unseen.internet.base import parsers_for
from unseen.internet.coverage import coverage
from unseen.internet.profile import Groups
from unseen.store import repo
from unseen.store.case import Case

from .builders import (
    MAC_OFFSET_S,
    T0_UNIX,
    firefox_downloads,
    safari_downloads_plist,
    safari_history_plist,
)
from .helpers import row_dict, run

FIREFOX = "Users/alex/AppData/Roaming/Mozilla/Firefox/Profiles/ab12.default/downloads.sqlite"
SAFARI = "Users/sam/Library/Safari"
SAFARI_WIN = "Users/sam/AppData/Roaming/Apple Computer/Safari"


def test_legacy_files_are_recognised() -> None:
    assert parsers_for(FIREFOX) == ("firefox_downloads",)
    assert parsers_for(f"{SAFARI}/History.plist") == ("safari_history_plist",)
    assert parsers_for(f"{SAFARI_WIN}/Downloads.plist") == ("safari_downloads_plist",)


def test_firefox_downloads_sqlite(tmp_path: Path) -> None:
    firefox_downloads(tmp_path / FIREFOX)
    parsed = run("firefox_downloads", tmp_path, FIREFOX)
    assert (parsed.outcome.status, parsed.errors) == ("ok", ())
    done, cancelled = (row_dict(r) for r in parsed.rows)
    assert done == {
        "type": "browser.download",
        "parser": "firefox_downloads",
        "parser_version": "1",
        "ts_utc": "2024-03-01T10:05:00.000000Z",
        "ts_raw": str((T0_UNIX + 300) * 1_000_000),
        "ts_epoch": "unix_us",
        "record_ref": "moz_downloads.id=1",
        "data": {
            "browser": "Firefox",
            "profile": "ab12.default",
            "url": "https://maps.example.org/map.pdf",
            "url_chain": ["https://maps.example.org/map.pdf"],
            "target_path": "C:/Users/alex/Downloads/map v2.pdf",
            "received_bytes": 5000,
            "total_bytes": 5000,
            "state": "complete",
            "referrer": "https://maps.example.org/",
            "mime_type": "application/pdf",
            "end_utc": "2024-03-01T10:05:02.000000Z",
        },
        "signals": (),
    }
    assert (cancelled["data"]["state"], cancelled["data"]["total_bytes"]) == ("cancelled", None)
    assert cancelled["data"]["end_utc"] is None


def test_safari_history_plist(tmp_path: Path) -> None:
    rel = f"{SAFARI}/History.plist"
    safari_history_plist(tmp_path / rel)
    parsed = run("safari_history_plist", tmp_path, rel)
    assert parsed.outcome.status == "ok"
    assert parsed.errors == ("WebHistoryDates[1]: no URL",)
    visits = [row_dict(r) for r in parsed.of_type("browser.visit")]
    assert [(v["ts_utc"], v["ts_raw"], v["ts_epoch"]) for v in visits] == [
        ("2024-03-01T10:00:00.500000Z", f"{T0_UNIX - MAC_OFFSET_S}.5", "mac_absolute_s"),
        ("2024-03-01T10:01:00.000000Z", str(T0_UNIX - MAC_OFFSET_S + 60), "mac_absolute_s"),
    ]
    assert visits[0]["data"] == {
        "browser": "Safari",
        "profile": "sam",
        "url": "https://www.bing.com/search?q=otter+facts",
        "title": "otter facts - Bing",
        "transition": "unknown",
        "typed": False,
        "visit_count": 3,
        "duration_s": None,
        "from_visit": None,
    }
    (search,) = parsed.of_type("search.query")
    assert row_dict(search)["data"]["terms"] == "otter facts"


def test_safari_downloads_plist(tmp_path: Path) -> None:
    rel = f"{SAFARI_WIN}/Downloads.plist"
    safari_downloads_plist(tmp_path / rel)
    parsed = run("safari_downloads_plist", tmp_path, rel)
    assert (parsed.outcome.status, parsed.errors) == ("ok", ())
    (download,) = (row_dict(r) for r in parsed.rows)
    assert (download["ts_utc"], download["ts_raw"], download["ts_epoch"]) == (
        "2024-03-01T10:08:20.000000Z", str(T0_UNIX + 500 - MAC_OFFSET_S), "mac_absolute_s",
    )  # fmt: skip
    assert download["data"] == {
        "browser": "Safari",
        "profile": "sam",
        "url": "https://files.example.org/recipes.zip",
        "url_chain": ["https://files.example.org/recipes.zip"],
        "target_path": "~/Downloads/recipes.zip",
        "received_bytes": 2048,
        "total_bytes": 2048,
        "state": "complete",
        "referrer": None,
        "mime_type": None,
        "end_utc": "2024-03-01T10:08:25.000000Z",
    }


def test_a_broken_plist_is_a_recorded_failure(tmp_path: Path) -> None:
    rel = f"{SAFARI}/Downloads.plist"
    (tmp_path / SAFARI).mkdir(parents=True)
    (tmp_path / rel).write_bytes(b"bplist00\xff\xff garbage")
    parsed = run("safari_downloads_plist", tmp_path, rel)
    assert parsed.outcome.status == "failed"


def test_known_artefacts_without_a_parser_are_listed_in_coverage(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    present = [
        "Users/alex/AppData/Local/Microsoft/Windows/WebCache/WebCacheV01.dat",
        "Users/alex/Pictures/Thumbs.db",
        "Users/alex/Pictures/2019/Thumbs.db",
        "Users/alex/AppData/Local/Ares/Data/ShareH.dat",
        "Users/alex/Documents/notes.txt",
    ]
    for rel in present:
        (evidence / rel).parent.mkdir(parents=True, exist_ok=True)
        (evidence / rel).write_bytes(b"not parsed here\n")
    case = Case.create(tmp_path / "case", name="T", examiner="T")
    repo.add_source(case, "folder", str(evidence), "EV01", "T")
    skip = tuple(job.NAME for job in ordered_jobs())
    process_case(case, workers=0, settings=Settings(skip=skip))
    with case.engine.connect() as conn:
        section = coverage(conn, Groups())
    (table,) = [t for t in section.tables if t.title.startswith("Known artefacts present")]
    assert [line.cells for line in table.lines] == [
        ["Ares Galaxy shared and downloaded files", "1", present[3]],
        ["Internet Explorer 10-11 / Edge Legacy history (ESE database)", "1", present[0]],
        ["Windows XP folder thumbnails (may hold deleted pictures)", "2", present[1]],
    ]
    assert (
        "The evidence holds 3 kinds of known artefacts that this version does not read "
        "(listed below): their contents are not in this report."
    ) in section.facts
    case.close()
