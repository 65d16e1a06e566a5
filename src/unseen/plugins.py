"""The built-in plugins, listed once, plus third-party ones from entry points.

Every plugin module is imported (it registers its jobs, sources, analysers ... in
their registries) and registered with the hook manager (its ``@hookimpl`` functions
put its facts in the export, the grid, the item page and the report: see
``unseen.core.hooks``). The callers of the hooks use the functions below, which load
the plugins first, so a fact's key is in every export however the export is reached.

Set ``UNSEEN_LOAD_PLUGINS=0`` to load only the built-ins (tests do).
"""

from __future__ import annotations

import importlib
import os
import threading
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from unseen.core import hooks

if TYPE_CHECKING:
    from sqlalchemy import Connection

BUILTIN_MODULES = (
    "unseen.sources.folder",
    "unseen.phones.sources.ios_backup",
    # Containers: sniffed in this order; evidence files after folders.
    "unseen.sources.archives",
    "unseen.sources.sevenzip",
    "unseen.sources.rar",
    "unseen.sources.ewf",
    "unseen.sources.disk",
    "unseen.sources.files",
    "unseen.sources.vdisk",
    "unseen.analysis.filetype",
    "unseen.analysis.hashes",
    "unseen.analysis.image",
    "unseen.analysis.exif",
    "unseen.analysis.thumbnail",
    "unseen.analysis.containers",
    "unseen.analysis.video",
    "unseen.analysis.mismatch",
    "unseen.review.filters",
    "unseen.reports.jsonl",
    "unseen.reports.vics",
    "unseen.reports.csv_export",
    "unseen.reports.case_uco",
    "unseen.matching.stage",
    "unseen.reports.summary",
    "unseen.reports.overview",
    "unseen.correlation.groupings.duplicates",
    "unseen.correlation.groupings.camera",
    "unseen.correlation.groupings.near_duplicates",
    "unseen.correlation.groupings.places",
    "unseen.correlation.groupings.sessions",
    "unseen.correlation.groupings.sensor",
    "unseen.correlation.groupings.scenes",
    "unseen.correlation.groupings.devices",
    "unseen.correlation.groupings.identities",
    "unseen.correlation.groupings.texts",
    "unseen.correlation.groupings.folders",
    "unseen.correlation.groupings.windows",
    "unseen.correlation.groupings.downloads",
    "unseen.intel.seen_before",
    "unseen.correlation.deep.sensor_noise",
    "unseen.correlation.deep.scene_embedding",
    "unseen.correlation.deep.faces",
    "unseen.correlation.deep.ocr",
    "unseen.phones.leads",
    "unseen.correlation.stage",
    "unseen.correlation.deep.stage",
    "unseen.internet.parsers.chromium",
    "unseen.internet.parsers.firefox",
    "unseen.internet.parsers.safari",
    "unseen.internet.parsers.emule",
    "unseen.internet.parsers.bittorrent",
    "unseen.internet.parsers.ntuser",
    "unseen.internet.parsers.system_hives",
    "unseen.internet.parsers.accounts",
    "unseen.internet.stage",
    "unseen.phones.parsers.whatsapp_android",
    "unseen.phones.parsers.imessage",
    "unseen.phones.parsers.whatsapp_ios",
    "unseen.phones.parsers.ios_photos",
    "unseen.phones.parsers.android_sms",
    "unseen.phones.parsers.android_media",
    "unseen.phones.parsers.ios_containers",
    "unseen.phones.parsers.kik_ios",
    "unseen.phones.parsers.telegram_android",
    "unseen.phones.parsers.devices",
    "unseen.phones.stage",
    "unseen.reports.internet",
)
ENTRY_POINT_GROUP = "unseen.plugins"

_loaded = False
# The review server's threads may ask for the hooks at once on its first requests.
_loading = threading.RLock()


def load() -> None:
    """Import every plugin module once (each registers itself in its registry) and
    register it with the hook manager."""
    global _loaded
    if _loaded:
        return
    with _loading:
        if _loaded:
            return
        for name in BUILTIN_MODULES:
            _register(importlib.import_module(name), name)
        if os.environ.get("UNSEEN_LOAD_PLUGINS", "1") != "0":
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                _register(ep.load(), ep.value)
        _loaded = True


def _register(plugin: object, name: str) -> None:
    # Two entry points may name one module: its hooks count once.
    if not hooks.manager.is_registered(plugin):
        hooks.manager.register(plugin, name)


def export_fields() -> list[hooks.ExportField]:
    """Every plugin's export keys (built-ins first)."""
    load()
    found = hooks.collect(hooks.manager.hook.export_fields())
    return hooks.unique(found, lambda f: f.name, "export key")


def grid_filters() -> list[hooks.FactFilter]:
    """Every plugin's grid filters (built-ins first)."""
    load()
    found = hooks.collect(hooks.manager.hook.grid_filters())
    return hooks.unique(found, lambda f: f.name, "grid filter")


def item_panels(conn: Connection, item_id: int) -> list[hooks.Panel]:
    """Every plugin's blocks for one item page."""
    load()
    return hooks.collect(hooks.manager.hook.item_panels(conn=conn, item_id=item_id))


def report_sections(conn: Connection) -> list[hooks.Panel]:
    """Every plugin's sections of the summary report."""
    load()
    return hooks.collect(hooks.manager.hook.report_sections(conn=conn))
