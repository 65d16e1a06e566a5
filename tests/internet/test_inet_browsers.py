"""Browser parsers on databases built from the applications' schemas: exact records."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .builders import (
    T0_UNIX,
    chrome_history,
    chrome_history_with_wal,
    firefox_formhistory,
    firefox_places,
    safari_history,
    webkit,
)
from .helpers import row_dict, run

CHROME = "Users/alex/AppData/Local/Google/Chrome/User Data/Default/History"
EDGE = "Users/alex/AppData/Local/Microsoft/Edge/User Data/Profile 1/History"
ANDROID = "data/data/com.android.chrome/app_chrome/Default/History"
FIREFOX = "Users/alex/AppData/Roaming/Mozilla/Firefox/Profiles/ab12.default-release"
TOR = "Users/alex/Desktop/Tor Browser/Browser/TorBrowser/Data/Browser/profile.default"


@pytest.mark.parametrize("old", [False, True], ids=["schema-v68", "schema-v20"])
def test_chromium_history_records(tmp_path: Path, old: bool) -> None:
    chrome_history(tmp_path / CHROME, old=old)
    parsed = run("chromium_history", tmp_path, CHROME)
    assert parsed.outcome.status == "ok"
    assert parsed.errors == ()
    # 4 visits, 1 search decoded from the Google URL, 1 keyword term, 1 download.
    assert [r.type for r in parsed.rows].count("browser.visit") == 4
    assert len(parsed.of_type("search.query")) == 2
    assert len(parsed.of_type("browser.download")) == 1
    assert len(parsed.rows) == 7
    first = row_dict(parsed.of_type("browser.visit")[0])
    assert first == {
        "type": "browser.visit",
        "parser": "chromium_history",
        "parser_version": "2",
        "ts_utc": "2024-03-01T10:00:00.000000Z",
        "ts_raw": str(webkit(T0_UNIX)),
        "ts_epoch": "webkit_us_1601",
        "record_ref": "visits.id=1 urls.id=1",
        "data": {
            "browser": "Chrome",
            "profile": "Default",
            "url": "https://www.bbc.co.uk/news",
            "title": "BBC News",
            "transition": "typed",
            "typed": True,
            "visit_count": 2,
            "duration_s": None,
            "from_visit": None,
        },
        "signals": (),
    }
    transitions = [row_dict(r)["data"]["transition"] for r in parsed.of_type("browser.visit")]
    assert transitions == ["typed", "generated", "link", "reload"]
    download = row_dict(parsed.of_type("browser.download")[0])
    assert download["ts_utc"] == "2024-03-01T10:03:20.000000Z"
    assert download["data"]["target_path"] == "C:\\Users\\alex\\Downloads\\timetable.pdf"
    assert download["data"]["received_bytes"] == 1234
    assert download["data"]["state"] == "complete"
    assert download["data"]["end_utc"] == "2024-03-01T10:03:21.000000Z"
    chain = download["data"]["url_chain"]
    if old:  # no chain table: the row's own URL; times in Unix seconds
        assert chain == ["https://cdn.example.org/timetable.pdf"]
        assert (download["ts_raw"], download["ts_epoch"]) == (str(T0_UNIX + 200), "unix_s")
    else:
        assert chain == ["https://example.org/get?id=7", "https://cdn.example.org/timetable.pdf"]
        assert download["data"]["referrer"] == "https://example.org/timetables"
        assert download["data"]["mime_type"] == "application/pdf"
        assert download["ts_epoch"] == "webkit_us_1601"
    searches = {
        (
            row_dict(r)["data"]["origin"],
            row_dict(r)["data"]["terms"],
            row_dict(r)["data"]["engine"],
        )
        for r in parsed.of_type("search.query")
    }
    assert searches == {
        ("url", "weather leeds", "Google"),
        ("keyword_search_terms", "weather leeds", "Google"),
    }


@pytest.mark.parametrize(
    ("path", "browser", "profile"),
    [(EDGE, "Edge", "Profile 1"), (ANDROID, "Chrome", "Default")],
)
def test_chromium_browser_named_by_path(
    tmp_path: Path, path: str, browser: str, profile: str
) -> None:
    chrome_history(tmp_path / path)
    data = row_dict(run("chromium_history", tmp_path, path).rows[0])["data"]
    assert (data["browser"], data["profile"]) == (browser, profile)


def test_rows_only_in_the_wal_are_read(tmp_path: Path) -> None:
    chrome_history_with_wal(tmp_path / Path(CHROME).parent)
    assert (tmp_path / (CHROME + "-wal")).stat().st_size > 0
    with_wal = run("chromium_history", tmp_path, CHROME)
    without = run("chromium_history", tmp_path, CHROME, siblings=False)
    assert len(with_wal.of_type("browser.visit")) == 5
    assert len(without.of_type("browser.visit")) == 4
    last = row_dict(with_wal.of_type("browser.visit")[-1])
    assert last["record_ref"] == "visits.id=5 urls.id=4"
    assert last["data"]["url"] == "https://duckduckgo.com/?q=otter+facts"
    assert last["ts_utc"] == "2024-03-01T12:00:00.000000Z"
    terms = [row_dict(r)["data"]["terms"] for r in with_wal.of_type("search.query")]
    assert "otter facts" in terms
    # The evidence is untouched: no -shm appeared beside it, the WAL is still there.
    assert not (tmp_path / (CHROME + "-shm")).exists()
    assert (tmp_path / (CHROME + "-wal")).is_file()


def test_corrupt_and_foreign_sqlite_are_recorded(tmp_path: Path) -> None:
    good = chrome_history(tmp_path / "good" / "History").read_bytes()
    target = tmp_path / CHROME
    target.parent.mkdir(parents=True)
    # A valid header, then garbage where the pages should be.
    target.write_bytes(good[:100] + bytes(range(256)) * 40)
    corrupt = run("chromium_history", tmp_path, CHROME)
    assert corrupt.outcome.status == "failed"
    assert corrupt.rows == ()
    assert len(corrupt.errors) == 1
    target.write_bytes(b"not a database at all\n" * 10)
    foreign = run("chromium_history", tmp_path, CHROME)
    assert foreign.errors == ("not an SQLite 3 database (bad header)",)
    shutil.copyfile(firefox_places(tmp_path / "ff" / "places.sqlite"), target)
    other_schema = run("chromium_history", tmp_path, CHROME)
    assert other_schema.errors == ("not the expected schema: no table urls, visits",)


def test_firefox_places(tmp_path: Path) -> None:
    firefox_places(tmp_path / FIREFOX / "places.sqlite")
    parsed = run("firefox_places", tmp_path, f"{FIREFOX}/places.sqlite")
    assert parsed.errors == ()
    assert [r.type for r in parsed.rows] == [
        "browser.visit",
        "browser.visit",
        "search.query",
        "browser.visit",
        "browser.download",
    ]
    first = row_dict(parsed.rows[0])
    assert first["ts_raw"] == str((T0_UNIX + 10) * 1_000_000)
    assert first["ts_epoch"] == "unix_us"
    assert first["ts_utc"] == "2024-03-01T10:00:10.000000Z"
    assert first["record_ref"] == "moz_historyvisits.id=1 moz_places.id=1"
    assert first["data"] == {
        "browser": "Firefox",
        "profile": "ab12.default-release",
        "url": "https://www.gov.uk/",
        "title": "Welcome to GOV.UK",
        "transition": "typed",
        "typed": True,
        "visit_count": 1,
        "duration_s": None,
        "from_visit": None,
    }
    assert row_dict(parsed.rows[2])["data"]["terms"] == "bus timetable"
    download = row_dict(parsed.rows[4])
    assert download["record_ref"] == "moz_annos.id=1 moz_places.id=3"
    assert download["ts_utc"] == "2024-03-01T10:00:31.000000Z"
    assert download["data"]["target_path"] == "C:/Users/alex/Downloads/leaflet v2.pdf"
    assert download["data"]["url"] == "https://files.example.net/leaflet.pdf"
    assert download["data"]["state"] == "complete"
    assert download["data"]["received_bytes"] == 4096
    assert download["data"]["end_utc"] == "2024-03-01T10:00:32.000000Z"


def test_tor_browser_profile_is_named(tmp_path: Path) -> None:
    firefox_places(tmp_path / TOR / "places.sqlite")
    data = row_dict(run("firefox_places", tmp_path, f"{TOR}/places.sqlite").rows[0])["data"]
    assert (data["browser"], data["profile"]) == ("Tor Browser", "profile.default")


def test_firefox_formhistory(tmp_path: Path) -> None:
    firefox_formhistory(tmp_path / FIREFOX / "formhistory.sqlite")
    parsed = run("firefox_formhistory", tmp_path, f"{FIREFOX}/formhistory.sqlite")
    assert parsed.errors == ()
    search, form = (row_dict(r) for r in parsed.rows)
    assert search["type"] == "search.query"
    assert search["ts_utc"] == "2024-03-01T10:00:50.000000Z"
    assert search["data"] == {
        "application": "Firefox",
        "terms": "allotment waiting list",
        "engine": None,
        "origin": "formhistory",
        "url": None,
    }
    assert form["type"] == "browser.form_entry"
    assert form["data"]["field"] == "postcode"
    assert form["data"]["value"] == "LS1 1AA"


def test_firefox_privacy_prefs(tmp_path: Path) -> None:
    prefs = tmp_path / FIREFOX / "prefs.js"
    prefs.parent.mkdir(parents=True)
    prefs.write_text(
        "// Mozilla User Preferences\n"
        'user_pref("browser.startup.homepage", "https://example.org");\n'
        'user_pref("browser.privatebrowsing.autostart", true);\n'
        'user_pref("network.proxy.type", 1);\n'
    )
    parsed = run("firefox_prefs", tmp_path, f"{FIREFOX}/prefs.js")
    assert [
        (row_dict(r)["record_ref"], row_dict(r)["data"]["name"], row_dict(r)["data"]["value"])
        for r in parsed.rows
    ] == [
        ("line 3", "browser.privatebrowsing.autostart", "true"),
        ("line 4", "network.proxy.type", "1"),
    ]


def test_safari_history(tmp_path: Path) -> None:
    path = "Users/sam/Library/Safari/History.db"
    safari_history(tmp_path / path)
    parsed = run("safari_history", tmp_path, path)
    assert parsed.errors == ()
    assert [r.type for r in parsed.rows] == ["browser.visit", "search.query", "browser.visit"]
    last = row_dict(parsed.rows[2])
    assert last["ts_epoch"] == "mac_absolute_s"
    assert last["ts_raw"] == repr(T0_UNIX - 978_307_200 + 3600.25)
    assert last["ts_utc"] == "2024-03-01T11:00:00.250000Z"
    assert last["data"]["browser"] == "Safari"
    assert last["data"]["profile"] == "sam"
    assert last["data"]["title"] == "Birds and wildlife"
    assert row_dict(parsed.rows[1])["data"]["terms"] == "hedgehog house"
