"""The one Jinja2 environment factory, for the review pages and the HTML reports.

Both render hostile evidence text (file names, paths, messages, metadata), so both get
the same rules: autoescape always on (every value is escaped unless marked safe), an
undefined name is an error rather than an empty cell, and the same filters. Each
caller names the package whose ``templates/`` folder it renders and adds its own
globals (the review server's route table) or filters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined

from unseen.core.timeconv import unix_to_iso


def basename(path: object) -> str:
    """The last part of a slash-separated evidence path."""
    return str(path).rsplit("/", 1)[-1]


def urlencode_dict(params: Mapping[str, Any], **extra: Any) -> str:
    """A query string of ``params`` with ``extra`` over them (links that keep filters)."""
    return urlencode({**params, **extra})


FILTERS: dict[str, Callable[..., Any]] = {
    "basename": basename,
    "urlencode_dict": urlencode_dict,
    "utc": unix_to_iso,  # Unix seconds as ISO 8601 UTC
}


def environment(
    package: str,
    filters: Mapping[str, Callable[..., Any]] | None = None,
    names: Mapping[str, Any] | None = None,
) -> Environment:
    """Jinja2 over ``package``'s ``templates/`` folder, autoescaping, strict, with the
    shared filters, the caller's own ``filters`` and ``names`` every template sees
    (Jinja globals: values fixed for the environment's life, never per request)."""
    env = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.filters.update(filters or {})
    env.globals.update(names or {})
    return env
