"""Search terms decoded from the URLs of common search engines (the table is data:
``data/search_engines.json``). Terms are returned verbatim, never classified."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import parse_qs, urlsplit

# Longer query values are cut: a URL is evidence text and may be hostile or huge.
MAX_TERMS = 2000


@dataclass(frozen=True, slots=True)
class Engine:
    name: str
    host: re.Pattern[str]
    path: re.Pattern[str]
    params: tuple[str, ...]


@cache
def engines() -> tuple[Engine, ...]:
    """The engine table, loaded once."""
    text = resources.files("unseen.internet").joinpath("data/search_engines.json").read_text()
    return tuple(
        Engine(
            e["engine"],
            re.compile(e["host"], re.IGNORECASE),
            re.compile(e["path"], re.IGNORECASE),
            tuple(e["params"]),
        )
        for e in json.loads(text)["engines"]
    )


def search_terms(url: str) -> tuple[str, str] | None:
    """``(engine, terms)`` when ``url`` is a search-results page of a known engine.

    Example:
        >>> search_terms("https://www.google.co.uk/search?q=train+times&hl=en")
        ('Google', 'train times')
    """
    try:
        parts = urlsplit(url[:8192])
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    for engine in engines():
        if engine.host.search(host) and engine.path.search(parts.path or "/"):
            terms = _param(parts.query, engine.params) or _param(parts.fragment, engine.params)
            if terms:
                return engine.name, terms
    return None


def _param(text: str, names: tuple[str, ...]) -> str | None:
    if not text:
        return None
    values = parse_qs(text, keep_blank_values=False)
    for name in names:
        for value in values.get(name, ()):
            terms = value.strip()[:MAX_TERMS]
            if terms:
                return terms
    return None
