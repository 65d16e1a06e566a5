"""Time conversions, MD4/ED2K, search-term decoding, path globs and presence rules."""

from __future__ import annotations

import io
import json

import pytest

from unseen.internet.base import GlobIndex, parsers_for
from unseen.internet.ed2k import CHUNK, PureMD4, ed2k_stream, md4
from unseen.internet.presence import PathRow, scan
from unseen.internet.records import to_row
from unseen.internet.searchterms import search_terms
from unseen.internet.timestamps import stamp


@pytest.mark.parametrize(
    ("raw", "epoch", "utc"),
    [
        (13_350_000_000_000_000, "webkit_us_1601", "2024-01-17T21:20:00.000000Z"),
        (133_500_000_000_000_001, "filetime", "2024-01-17T21:20:00.000000Z"),
        (1_700_000_000, "unix_s", "2023-11-14T22:13:20.000000Z"),
        (1_700_000_000_123, "unix_ms", "2023-11-14T22:13:20.123000Z"),
        (1_700_000_000_123_456, "unix_us", "2023-11-14T22:13:20.123456Z"),
        (700_000_000.5, "mac_absolute_s", "2023-03-08T20:26:40.500000Z"),
        (10**30, "unix_s", None),  # beyond the calendar: raw kept, no UTC
        (-5, "unix_s", None),  # before 1980: implausible, raw kept
    ],
)
def test_stamps(raw: float, epoch: str, utc: str | None) -> None:
    found = stamp(raw, epoch)
    assert found is not None
    assert (found.raw, found.epoch, found.utc) == (raw, epoch, utc)


@pytest.mark.parametrize("raw", [None, 0, "12", True, float("nan")])
def test_no_stamp_for_missing_values(raw: object) -> None:
    assert stamp(raw, "unix_s") is None


# RFC 1320 appendix A.5.
RFC1320 = [
    (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
    (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
    (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
    (b"message digest", "d9130a8164549fe818874806e1c7014b"),
    (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
    (
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "043f8582f241db351ce627e153e7f0e4",
    ),
    (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
]


@pytest.mark.parametrize(("data", "digest"), RFC1320)
def test_md4_rfc1320(data: bytes, digest: str) -> None:
    assert PureMD4(data).hexdigest() == digest
    assert md4(data).hexdigest() == digest
    split = PureMD4()
    for i in range(0, len(data), 7):
        split.update(data[i : i + 7])
    assert split.hexdigest() == digest


def test_ed2k_of_small_files_is_md4() -> None:
    found = ed2k_stream(io.BytesIO(b"hello world"))
    assert found.ed2k == found.ed2k_blue == "aa010fbc1d14c795d86ef98c95479d17"
    assert ed2k_stream(io.BytesIO(b"")).ed2k == "31d6cfe0d16ae931b73c59d7e0c089c0"


def test_ed2k_chunking_follows_emule() -> None:
    assert CHUNK == 9_728_000  # 9500 KiB, the eDonkey part size
    chunk = 64  # the rules at a small chunk size (hashing 9.7 MB in pure Python is slow)
    data = bytes(range(chunk)) * 2
    one, two = PureMD4(data[:chunk]).digest(), PureMD4(data[chunk:]).digest()
    single = ed2k_stream(io.BytesIO(data[:chunk]), chunk=chunk)
    # eMule appends the MD4 of an empty chunk for exact multiples; the other convention not.
    assert single.ed2k == PureMD4(one + PureMD4(b"").digest()).hexdigest()
    assert single.ed2k_blue == one.hex()
    double = ed2k_stream(io.BytesIO(data), chunk=chunk)
    assert double.ed2k == PureMD4(one + two + PureMD4(b"").digest()).hexdigest()
    assert double.ed2k_blue == PureMD4(one + two).hexdigest()
    longer = ed2k_stream(io.BytesIO(data + b"x"), chunk=chunk)
    tail = PureMD4(b"x").digest()
    assert longer.ed2k == longer.ed2k_blue == PureMD4(one + two + tail).hexdigest()
    assert longer.size == 2 * chunk + 1
    shorter = ed2k_stream(io.BytesIO(data[:10]), chunk=chunk)
    assert shorter.ed2k == shorter.ed2k_blue == PureMD4(data[:10]).hexdigest()
    with pytest.raises(ValueError):
        ed2k_stream(io.BytesIO(data + b"x"), limit=2 * chunk, chunk=chunk)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.google.co.uk/search?q=train+times&hl=en", ("Google", "train times")),
        ("https://www.google.com/webhp#q=otters", ("Google", "otters")),
        ("https://www.bing.com/search?q=pasta%20recipe", ("Bing", "pasta recipe")),
        ("https://duckduckgo.com/?q=weather&t=h_", ("DuckDuckGo", "weather")),
        ("https://search.yahoo.com/search?p=cats", ("Yahoo", "cats")),
        ("https://yandex.ru/search/?text=hello", ("Yandex", "hello")),
        ("http://www.baidu.com/s?wd=%E4%BD%A0%E5%A5%BD", ("Baidu", "你好")),
        ("https://www.startpage.com/do/search?query=maps", ("Startpage", "maps")),
        ("https://www.ecosia.org/search?q=trees", ("Ecosia", "trees")),
        ("https://www.qwant.com/?q=news", ("Qwant", "news")),
        ("https://www.youtube.com/results?search_query=how+to", ("YouTube", "how to")),
        ("https://www.google.com/url?q=https://example.org", None),  # a redirect, not a search
        ("https://example.com/search?q=x", None),
        ("ftp://google.com/search?q=x", None),
        ("https://[::1/", None),
    ],
)
def test_search_terms(url: str, expected: tuple[str, str] | None) -> None:
    assert search_terms(url) == expected


def test_glob_index() -> None:
    index = GlobIndex(
        [
            ("t", "**/*.torrent"),
            ("k", "**/known.met"),
            ("p", "**/Prefetch/TOR.EXE-*.pf"),
            ("a", "**/a?"),
            ("n", "**/com.nordvpn.*/**"),
        ]
    )
    assert index.match("Users/x/KNOWN.MET") == ["k"]
    assert index.match("known.met") == ["k"]
    assert index.match("Windows/Prefetch/tor.exe-1A2B3C4D.pf") == ["p"]
    assert index.match("ab") == ["a"]
    assert index.match("data/com.nordvpn.android/files/x") == ["n"]
    assert index.match("x/known.met.bak") == []
    assert index.match("evidence/backup.zip!known.met") == ["k"]  # an archive member


def test_parsers_for_paths() -> None:
    assert parsers_for("C/Users/a/AppData/Local/Google/Chrome/User Data/Default/History") == (
        "chromium_history",
    )
    assert parsers_for("C/Users/a/AppData/Local/Google/Chrome/User Data/Default/History-wal") == ()
    assert parsers_for("home/a/.mozilla/firefox/x.default/places.sqlite") == ("firefox_places",)
    assert parsers_for("C/Windows/System32/config/SYSTEM") == ("registry_system",)
    assert parsers_for("C/Users/a/ntuser.dat") == ("registry_ntuser",)
    assert parsers_for("C/Users/a/Documents/report.pdf") == ()


def test_presence_scan() -> None:
    rows = [
        PathRow(1, "EV", "Users/a/Desktop/Tor Browser/Browser/firefox.exe", 1_709_287_200.0),
        PathRow(
            2,
            "EV",
            "Users/a/Desktop/Tor Browser/Browser/TorBrowser/Data/Tor/torrc",
            1_709_287_260.0,
        ),
        PathRow(3, "EV", "Windows/Prefetch/TOR.EXE-0123ABCD.pf", None),
        PathRow(4, "EV", "Users/a/AppData/Roaming/Skype/live#3afred.example/main.db", None),
        PathRow(5, "EV", "Users/a/Documents/notes.txt", None),
    ]
    found = [(item, to_row(r)) for item, r in scan(rows)]
    kinds = [
        (item, r.type, json.loads(r.data).get("tool") or json.loads(r.data).get("service"))
        for item, r in found
    ]
    assert sorted(kinds) == [
        (1, "tool.presence", "Tor Browser"),
        (3, "tool.usage", "Tor Browser"),
        (4, "account.chat", "Skype"),
        (4, "tool.presence", "Skype"),
    ]
    tor = next(
        json.loads(r.data)
        for _, r in found
        if r.type == "tool.presence" and json.loads(r.data)["tool"] == "Tor Browser"
    )
    assert tor["path_count"] == 2
    assert tor["files_mtime_first"] == "2024-03-01T10:00:00.000000Z"
    assert tor["files_mtime_last"] == "2024-03-01T10:01:00.000000Z"
    account = next(json.loads(r.data) for _, r in found if r.type == "account.chat")
    assert account["account"] == "live#3afred.example"


def test_every_parser_is_registered_and_declared() -> None:
    from pathlib import Path

    from unseen.internet.base import ARTEFACT_PARSERS
    from unseen.internet.records import RECORD_TYPES
    from unseen.plugins import BUILTIN_MODULES

    folder = Path(__file__).parents[2] / "src/unseen/internet/parsers"
    modules = {f"unseen.internet.parsers.{p.stem}" for p in folder.glob("*.py")}
    helpers = {"unseen.internet.parsers.__init__", "unseen.internet.parsers.hive"}
    assert modules - helpers <= set(BUILTIN_MODULES)
    types = {cls.TYPE for cls in RECORD_TYPES}
    for cls in ARTEFACT_PARSERS:
        assert cls.NAME and cls.VERSION and cls.DESCRIPTION and cls.PATH_GLOBS, cls
        assert set(cls.PRODUCES) <= types, cls.NAME
