"""iOS Photos library: ``Media/PhotoData/Photos.sqlite``, the phone's record of every
picture and video in its library, with how each came there.

``ZASSET`` (``ZGENERICASSET`` before iOS 14): ``ZDIRECTORY`` + ``ZFILENAME`` under
``Media/``, ``ZDATECREATED`` (seconds since 2001-01-01 UTC), ``ZHIDDEN`` (the Hidden
album), ``ZTRASHEDSTATE`` (1: in Recently Deleted), ``ZLATITUDE``/``ZLONGITUDE``
(-180 when none), ``ZSAVEDASSETTYPE`` (3: taken by this phone's camera).
``ZADDITIONALASSETATTRIBUTES`` holds ``ZORIGINALFILENAME`` and, from iOS 15,
``ZIMPORTEDBYBUNDLEIDENTIFIER`` (the app that saved it: a browser means downloaded).
"""

from __future__ import annotations

import sqlite3
from typing import ClassVar

from unseen.internet.base import ParseContext
from unseen.internet.sqlite import columns, tables
from unseen.phones.base import MESSAGE_PARSERS, SqliteMessageParser
from unseen.phones.model import Extract, MediaAsset
from unseen.phones.times import apple

CAPTURED_BY_THIS_PHONE = 3
NO_POSITION = -180.0
BROWSERS = {
    "com.apple.mobilesafari",
    "com.google.chrome.ios",
    "org.mozilla.ios.firefox",
    "com.brave.ios.browser",
    "com.microsoft.msedge",
    "com.duckduckgo.mobile.ios",
}

ASSETS = """
SELECT a.Z_PK, a.ZDIRECTORY, a.ZFILENAME, a.ZDATECREATED, a.ZHIDDEN, a.ZTRASHEDSTATE,
       a.ZLATITUDE, a.ZLONGITUDE, a.ZSAVEDASSETTYPE, {original}, {bundle}
FROM {table} a {join}
ORDER BY a.Z_PK
"""


class IosPhotos(SqliteMessageParser):
    NAME = "ios_photos"
    VERSION = "1"
    DESCRIPTION = (
        "iOS Photos.sqlite: how each picture came (camera, app, browser), hidden, deleted"
    )
    APP = "Photos"
    PATH_GLOBS = ("**/Media/PhotoData/Photos.sqlite",)
    REQUIRED_TABLES: ClassVar[tuple[str, ...]] = ()
    WAL_KEYS = "SELECT 1 WHERE 0"

    def parse_db(
        self, ctx: ParseContext, conn: sqlite3.Connection, checkpointed: set[object] | None
    ) -> Extract:
        found = tables(conn)
        table = "ZASSET" if "ZASSET" in found else "ZGENERICASSET"
        if table not in found:
            raise sqlite3.DatabaseError("not a Photos.sqlite: no ZASSET or ZGENERICASSET table")
        extra = columns(conn, "ZADDITIONALASSETATTRIBUTES")
        join = "LEFT JOIN ZADDITIONALASSETATTRIBUTES x ON x.ZASSET = a.Z_PK" if extra else ""
        sql = ASSETS.format(
            table=table,
            join=join,
            original="x.ZORIGINALFILENAME" if "ZORIGINALFILENAME" in extra else "NULL",
            bundle="x.ZIMPORTEDBYBUNDLEIDENTIFIER"
            if "ZIMPORTEDBYBUNDLEIDENTIFIER" in extra
            else "NULL",
        )
        out = Extract(self.APP)
        for (
            pk,
            folder,
            name,
            created,
            hidden,
            trashed,
            lat,
            lon,
            saved,
            original,
            bundle,
        ) in conn.execute(sql):
            if not name:
                continue
            direction, app = _how(saved, bundle)
            has_gps = lat is not None and lat != NO_POSITION and lon != NO_POSITION
            out.assets.append(
                MediaAsset(
                    f"Media/{folder}/{name}" if folder else f"Media/{name}",
                    direction,
                    app,
                    f"{table} Z_PK {pk}",
                    apple(created)[0],
                    original,
                    bool(hidden),
                    trashed == 1,
                    float(lat) if has_gps else None,
                    float(lon) if has_gps else None,
                )
            )
        return out


def _how(saved: object, bundle: object) -> tuple[str, str]:
    """(direction, app) from the saved-asset type and the importing app."""
    if saved == CAPTURED_BY_THIS_PHONE and bundle in (None, "com.apple.camera"):
        return "captured", "Camera"
    if isinstance(bundle, str) and bundle in BROWSERS:
        return "downloaded", bundle
    return "saved", str(bundle) if bundle else "Photos"


MESSAGE_PARSERS.register(IosPhotos)
