"""The built-in plugins, listed once, plus third-party ones from entry points.

Set ``UNSEEN_LOAD_PLUGINS=0`` to load only the built-ins (tests do).
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points

BUILTIN_MODULES = (
    "unseen.sources.folder",
    "unseen.analysis.filetype",
    "unseen.analysis.hashes",
    "unseen.analysis.image",
    "unseen.analysis.exif",
    "unseen.analysis.thumbnail",
    "unseen.reports.jsonl",
    "unseen.correlation.groupings.duplicates",
    "unseen.correlation.groupings.camera",
    "unseen.correlation.groupings.near_duplicates",
    "unseen.correlation.groupings.places",
    "unseen.correlation.groupings.sessions",
    "unseen.correlation.stage",
    "unseen.correlation.deep.stage",
)
ENTRY_POINT_GROUP = "unseen.plugins"

_loaded = False


def load() -> None:
    """Import every plugin module once; each registers itself in its registry."""
    global _loaded
    if _loaded:
        return
    for name in BUILTIN_MODULES:
        importlib.import_module(name)
    if os.environ.get("UNSEEN_LOAD_PLUGINS", "1") != "0":
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            ep.load()
    _loaded = True
