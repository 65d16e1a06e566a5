"""Browser databases (SQLite) and Safari plists, corrupted: only their recorded errors.

Seeds are the real-schema files the internet tests build; corruption lands in SQLite
pages, headers and schema text, which is what a damaged or crafted file holds.
"""

from __future__ import annotations

import plistlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from internet import builders
from unseen import plugins
from unseen.core.errors import EvidenceError

from .common import fuzz_settings, hostile, only
from .parsers import parse_bytes

plugins.load()

# SQLite says "malformed", "not a database", "file is encrypted" through DatabaseError;
# a plist that is not one is plistlib's InvalidFileException (a ValueError).
RECORDED = (EvidenceError, sqlite3.DatabaseError, plistlib.InvalidFileException)


def _seed(tmp: Path, build: Callable[[Path], Path]) -> bytes:
    return build(tmp / "seed").read_bytes()


CASES = [
    (
        "chromium_history",
        "Users/u/AppData/Local/Google/Chrome/User Data/Default/History",
        builders.chrome_history,
    ),
    (
        "firefox_places",
        "Users/u/AppData/Roaming/Mozilla/Firefox/Profiles/x.default/places.sqlite",
        builders.firefox_places,
    ),
    (
        "firefox_formhistory",
        "Users/u/AppData/Roaming/Mozilla/Firefox/Profiles/x.default/formhistory.sqlite",
        builders.firefox_formhistory,
    ),
    (
        "firefox_downloads",
        "Users/u/AppData/Roaming/Mozilla/Firefox/Profiles/x.default/downloads.sqlite",
        builders.firefox_downloads,
    ),
    ("safari_history", "Users/u/Library/Safari/History.db", builders.safari_history),
    (
        "safari_history_plist",
        "Users/u/Library/Safari/History.plist",
        builders.safari_history_plist,
    ),
    (
        "safari_downloads_plist",
        "Users/u/Library/Safari/Downloads.plist",
        builders.safari_downloads_plist,
    ),
]


@pytest.mark.parametrize(("parser", "rel", "build"), CASES, ids=[c[0] for c in CASES])
@fuzz_settings(40)
@given(data=st.data())
def test_browser_parsers_raise_only_recorded_errors(
    parser: str,
    rel: str,
    build: Callable[[Path], Path],
    data: st.DataObject,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    seed = _seed(tmp_path_factory.mktemp("seed"), build)
    payload = data.draw(hostile(seed))
    root = tmp_path_factory.mktemp("ev")
    only(RECORDED, lambda: parse_bytes(parser, root, rel, payload))
