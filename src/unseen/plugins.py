"""The built-in plugins, listed once, plus third-party ones from entry points.

Set ``UNSEEN_LOAD_PLUGINS=0`` to load only the built-ins (tests do).
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points

BUILTIN_MODULES = (
    "unseen.sources.folder",
    "unseen.phones.sources.ios_backup",
    # Containers (issue 3): sniffed in this order; evidence files after folders.
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
    "unseen.reports.jsonl",
    "unseen.reports.vics",
    "unseen.reports.csv_export",
    "unseen.reports.case_uco",
    "unseen.matching.stage",
    "unseen.reports.summary",
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
    "unseen.correlation.groupings.seen_before",
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
    "unseen.phones.parsers.devices",
    "unseen.phones.stage",
    "unseen.reports.internet",
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
