"""Browser families and where they keep their files (the table is data:
``data/browsers.json``)."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from unseen.internet.base import compile_globs


@cache
def _table() -> dict[str, list[dict[str, object]]]:
    text = resources.files("unseen.internet").joinpath("data/browsers.json").read_text()
    data: dict[str, list[dict[str, object]]] = json.loads(text)
    return data


def _entries(family: str) -> list[tuple[str, list[str]]]:
    return [(str(e["browser"]), [str(g) for g in e["globs"]]) for e in _table()[family]]  # type: ignore[attr-defined]


def globs(family: str, filename: str | None = None) -> tuple[str, ...]:
    """Every glob of a family (``chromium`` or ``firefox``), optionally for another file
    of the same profile folder (``formhistory.sqlite`` beside ``places.sqlite``)."""
    found: list[str] = []
    for _, patterns in _entries(family):
        for glob in patterns:
            if filename:
                head, _, _ = glob.rpartition("/")
                glob = f"{head}/{filename}"
            found.append(glob)
    return tuple(found)


@cache
def _matchers(family: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    # Match on the profile folder so every file in it (History, formhistory.sqlite,
    # prefs.js) gets the same browser name.
    return tuple(
        (name, compile_globs(g.rpartition("/")[0] for g in patterns))
        for name, patterns in _entries(family)
    )


def browser_of(family: str, path: str) -> str:
    """The browser a profile file belongs to, judged by its folder (first match wins)."""
    folder = path.rpartition("/")[0]
    for name, pattern in _matchers(family):
        if pattern.fullmatch(folder):
            return name
    return {"chromium": "Chromium-based browser", "firefox": "Firefox-based browser"}[family]


def profile_of(path: str) -> str:
    """The profile folder's name (``Default``, ``abcd1234.default-release``)."""
    parts = path.split("/")
    return parts[-2] if len(parts) >= 2 else ""
