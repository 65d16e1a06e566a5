"""Android MediaStore: ``external.db`` of the media provider, its record of every picture
and video in shared storage and which app put it there.

``files``: ``_data`` (the path, e.g. ``/storage/emulated/0/DCIM/Camera/x.jpg``, which an
extraction holds under ``data/media/0/``), ``media_type`` (1 image, 3 video),
``owner_package_name`` (Android 10+), ``datetaken`` (milliseconds since 1970),
``is_trashed`` (Android 11+: in the bin), ``latitude``/``longitude`` (older versions).
"""

from __future__ import annotations

import re
import sqlite3
from typing import ClassVar

from unseen.internet.base import ParseContext
from unseen.internet.sqlite import columns, pick
from unseen.phones.base import MESSAGE_PARSERS, SqliteMessageParser
from unseen.phones.model import Extract, MediaAsset
from unseen.phones.times import unix_ms

IMAGE, VIDEO = 1, 3
# Shared storage as apps see it, and as an extraction stores it (data/media/0/...).
_STORAGE = re.compile(r"^/(?:storage/emulated/\d+|sdcard|storage/self/primary|data/media/\d+)/")
BROWSERS = ("com.android.chrome", "org.mozilla.firefox", "com.brave.browser",
            "com.microsoft.emmx", "com.opera.browser", "com.sec.android.app.sbrowser")  # fmt: skip
FILES = """
SELECT _id, _data, media_type, {owner}, {taken}, {trashed}, {lat}, {lon}
FROM files WHERE media_type IN (1, 3) ORDER BY _id
"""


class AndroidMediaStore(SqliteMessageParser):
    NAME = "android_mediastore"
    VERSION = "1"
    DESCRIPTION = "Android MediaStore external.db: owner app, date taken, trashed, location"
    APP = "MediaStore"
    PATH_GLOBS = ("**/com.android.providers.media*/databases/external.db",)
    REQUIRED_TABLES: ClassVar[tuple[str, ...]] = ("files",)
    WAL_KEYS = "SELECT 1 WHERE 0"

    def parse_db(
        self, ctx: ParseContext, conn: sqlite3.Connection, checkpointed: set[object] | None
    ) -> Extract:
        have = columns(conn, "files")
        sql = FILES.format(
            owner=pick(have, "owner_package_name"),
            taken=pick(have, "datetaken"),
            trashed=pick(have, "is_trashed"),
            lat=pick(have, "latitude"),
            lon=pick(have, "longitude"),
        )
        out = Extract(self.APP)
        for rowid, data, _kind, owner, taken, trashed, lat, lon in conn.execute(sql):
            if not data:
                continue
            direction, app = _how(owner, str(data))
            out.assets.append(
                MediaAsset(
                    _STORAGE.sub("", str(data)), direction, app, f"files _id {rowid}",
                    unix_ms(taken)[0], None, False, trashed == 1,
                    float(lat) if lat else None, float(lon) if lon else None,
                )
            )  # fmt: skip
        return out


def _how(owner: object, path: str) -> tuple[str, str]:
    """(direction, app): a camera app or DCIM/Camera means captured; a browser or the
    Download folder, downloaded; any other app, saved."""
    package = str(owner) if owner else None
    folded = path.casefold()
    if (package and "camera" in package.casefold()) or (not package and "/dcim/camera/" in folded):
        return "captured", package or "Camera"
    if (package and package in BROWSERS) or (not package and "/download/" in folded):
        return "downloaded", package or "Download"
    return "saved", package or "MediaStore"


MESSAGE_PARSERS.register(AndroidMediaStore)
