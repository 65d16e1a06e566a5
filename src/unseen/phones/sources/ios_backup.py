"""An iTunes/Finder iOS backup folder, listed under the phone's own paths.

A backup stores each file as ``<first two hex>/<SHA-1 of domain-relativePath>`` and
names it only in ``Manifest.db`` (table ``Files``: ``fileID``, ``domain``,
``relativePath``, ``flags`` 1 file / 2 folder / 4 link, ``file`` an archived MBFile
with sizes and times). Items appear as ``<domain>/<relativePath>`` (e.g.
``CameraRollDomain/Media/DCIM/100APPLE/IMG_0001.HEIC``); a blob Manifest.db does not
name keeps its folder name, and a file Manifest.db names but the backup lacks is
listed with that reason. An encrypted backup (``Manifest.plist`` ``IsEncrypted``)
is listed as stored, with the reason it was not examined.

The kind is called ``apple_backup`` so that sniffing (sources in name order) tries it
before the plain ``folder`` that every directory also is.
"""

from __future__ import annotations

import dataclasses
import plistlib
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from unseen.core.models import Entry
from unseen.sources.base import SOURCES
from unseen.sources.folder import FolderSource

ENCRYPTED = "encrypted backup, not examined: give --password"
ABSENT = "listed in Manifest.db but its file is not in the backup"
_BLOB = re.compile(rb"(?:[0-9a-f]{2}/)?([0-9a-f]{40})")
_FILE, _DIR, _LINK = 1, 2, 4


@dataclasses.dataclass(frozen=True, slots=True)
class ManifestFile:
    path: str
    flags: int
    size: int | None
    mtime: float | None


class AppleBackupSource(FolderSource):
    NAME = "apple_backup"
    DESCRIPTION = "an iTunes/Finder iOS backup folder, items under their domain paths"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_dir() and all(
            (path / name).is_file() for name in ("Manifest.db", "Manifest.plist", "Info.plist")
        )

    def entries(self) -> Iterator[Entry]:
        encrypted = _encrypted(Path(self.spec.path))
        manifest: dict[str, ManifestFile] = {}
        problem = ENCRYPTED if encrypted else None
        if not encrypted:
            try:
                manifest = read_manifest(Path(self.spec.path) / "Manifest.db")
            except (OSError, sqlite3.DatabaseError) as exc:
                problem = f"Manifest.db not readable, files keep their stored names: {exc}"
        seen: set[str] = set()
        for entry in super().entries():
            if entry.path == "Manifest.db" and problem:
                yield dataclasses.replace(entry, errors=(*entry.errors, problem))
                continue
            found = _BLOB.fullmatch(entry.locator)
            file_id = found.group(1).decode() if found else ""
            named = manifest.get(file_id)
            if named is None or entry.kind != "file":
                yield entry
                continue
            seen.add(file_id)
            yield dataclasses.replace(entry, path=named.path)
        for file_id, named in sorted(manifest.items()):
            if file_id not in seen and named.flags == _FILE:
                locator = f"{file_id[:2]}/{file_id}".encode()
                yield Entry(
                    named.path,
                    locator,
                    kind="other",
                    size=named.size,
                    mtime=named.mtime,
                    errors=(ABSENT,),
                )


def _encrypted(root: Path) -> bool:
    try:
        with (root / "Manifest.plist").open("rb") as f:
            info = plistlib.load(f)
    except (OSError, plistlib.InvalidFileException, ValueError):
        return False
    return isinstance(info, dict) and bool(info.get("IsEncrypted"))


def read_manifest(path: Path) -> dict[str, ManifestFile]:
    """``Files`` of a Manifest.db, read from a private copy (evidence is never opened
    in place), by fileID."""
    folder = Path(tempfile.mkdtemp(prefix="unseen-backup-"))
    try:
        copy = folder / "Manifest.db"
        shutil.copyfile(path, copy)
        conn = sqlite3.connect(copy.as_uri() + "?mode=ro", uri=True)
        conn.text_factory = lambda raw: raw.decode("utf-8", "backslashreplace")
        try:
            conn.execute("PRAGMA trusted_schema = OFF")
            rows = conn.execute("SELECT fileID, domain, relativePath, flags, file FROM Files")
            return {
                str(fid).lower(): ManifestFile(
                    _display(domain, rel), int(flags or 0), *_meta(blob)
                )
                for fid, domain, rel, flags, blob in rows
                if fid
            }
        finally:
            conn.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _display(domain: object, rel: object) -> str:
    """``domain/relativePath`` as one display path (no empty or dot parts)."""
    parts = [str(domain or "UnknownDomain"), *str(rel or "").split("/")]
    return "/".join(p.replace("\x00", "\\x00") for p in parts if p not in ("", ".", ".."))


def _meta(blob: object) -> tuple[int | None, float | None]:
    """Size and modification time from the archived MBFile, when it holds them."""
    if not isinstance(blob, bytes):
        return None, None
    try:
        archive: Any = plistlib.loads(blob)
        objects = archive["$objects"]
        top = objects[archive["$top"]["root"].data]
    except (
        plistlib.InvalidFileException,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
    ):
        return None, None
    size = top.get("Size") if isinstance(top, dict) else None
    mtime = top.get("LastModified") if isinstance(top, dict) else None
    return (
        size if isinstance(size, int) else None,
        float(mtime) if isinstance(mtime, int | float) else None,
    )


SOURCES.register(AppleBackupSource)
