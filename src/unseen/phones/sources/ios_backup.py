"""An iTunes/Finder iOS backup folder, listed under the phone's own paths.

A backup stores each file as ``<first two hex>/<SHA-1 of domain-relativePath>`` and
names it only in ``Manifest.db`` (table ``Files``: ``fileID``, ``domain``,
``relativePath``, ``flags`` 1 file / 2 folder / 4 link, ``file`` an archived MBFile
with sizes and times). Items appear as ``<domain>/<relativePath>`` (e.g.
``CameraRollDomain/Media/DCIM/100APPLE/IMG_0001.HEIC``); a blob Manifest.db does not
name keeps its folder name, and a file Manifest.db names but the backup lacks is
listed with that reason. An encrypted backup (``Manifest.plist`` ``IsEncrypted``)
opens with the password given to ``unseen add --password`` (kept with the source's
keys as ``password``): Manifest.db and every file are decrypted as they are read
(``phones.crypto.ios_backup_keys``), never written out decrypted but for the private
copy SQLite needs. Without the password, or with a wrong one, the backup is listed
as stored, with the reason it was not examined.

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
from typing import Any, BinaryIO

from unseen.core.models import Entry
from unseen.phones.crypto.ios_backup_keys import (
    CbcReader,
    DamagedKeybag,
    WrongPassword,
    parse_keybag,
    unlock,
    unwrap_file_key,
)
from unseen.sources.base import SOURCES
from unseen.sources.folder import FolderSource
from unseen.sources.streams import binary, open_readonly

ENCRYPTED = "encrypted backup, not examined: give --password"
WRONG_PASSWORD = "encrypted backup: wrong password"
NOT_OPENED = "encrypted backup not opened"
ABSENT = "listed in Manifest.db but its file is not in the backup"
PASSWORD = "password"  # its name among the source's keys
MANIFEST = b"Manifest.db"
_BLOB = re.compile(rb"(?:[0-9a-f]{2}/)?([0-9a-f]{40})")
_FILE, _DIR, _LINK = 1, 2, 4


@dataclasses.dataclass(frozen=True, slots=True)
class ManifestFile:
    path: str
    flags: int
    size: int | None
    mtime: float | None
    # In an encrypted backup: the MBFile's wrapped ``EncryptionKey`` and its class.
    wrapped_key: bytes | None = None
    protection: int | None = None


@dataclasses.dataclass
class _Opened:
    """What listing and reading the backup need, worked out once per process."""

    manifest: dict[str, ManifestFile]
    problem: str | None = None
    class_keys: dict[int, bytes] | None = None  # set when an encrypted backup opened
    manifest_key: bytes | None = None
    manifest_size: int | None = None  # Manifest.db decrypted


class AppleBackupSource(FolderSource):
    NAME = "apple_backup"
    DESCRIPTION = "an iTunes/Finder iOS backup folder, items under their domain paths"
    _opened: _Opened | None = None  # worked out on first use, in each process

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_dir() and all(
            (path / name).is_file() for name in ("Manifest.db", "Manifest.plist", "Info.plist")
        )

    def entries(self) -> Iterator[Entry]:
        opened = self._open_backup()
        manifest, problem = opened.manifest, opened.problem
        seen: set[str] = set()
        for entry in super().entries():
            if entry.path == "Manifest.db" and problem:
                yield dataclasses.replace(entry, errors=(*entry.errors, problem))
                continue
            if entry.path == "Manifest.db" and opened.manifest_key is not None:
                yield dataclasses.replace(entry, size=opened.manifest_size)
                continue
            found = _BLOB.fullmatch(entry.locator)
            file_id = found.group(1).decode() if found else ""
            named = manifest.get(file_id)
            if named is None or entry.kind != "file":
                yield entry
                continue
            seen.add(file_id)
            if opened.class_keys is not None and named.wrapped_key is not None:
                yield _decrypted_entry(entry, named)
            else:
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

    def _open_top(self, locator: bytes) -> BinaryIO:
        """The stored file; in an opened encrypted backup, its plaintext."""
        raw = super()._open_top(locator)
        try:
            key_size = self._file_key(locator)
        except BaseException:
            raw.close()
            raise
        if key_size is None:
            return raw
        return binary(CbcReader(raw, *key_size))

    def _file_key(self, locator: bytes) -> tuple[bytes, int | None] | None:
        """Key and plaintext size of an encrypted file (None: read it as stored).

        Raises:
            OSError: the file's key does not unwrap (the caller records it).
        """
        if dict(self.spec.keys).get(PASSWORD) is None:
            return None  # the common case costs no keybag work
        opened = self._open_backup()
        if opened.class_keys is None:
            return None
        if locator == MANIFEST:
            return (opened.manifest_key, None) if opened.manifest_key else None
        found = _BLOB.fullmatch(locator)
        named = opened.manifest.get(found.group(1).decode()) if found else None
        if named is None or named.wrapped_key is None:
            return None
        try:
            key = unwrap_file_key(opened.class_keys, named.wrapped_key, named.protection)
        except DamagedKeybag as exc:
            raise OSError(f"encrypted backup file not decrypted: {exc}") from None
        return key, named.size

    def _open_backup(self) -> _Opened:
        if self._opened is None:
            self._opened = _open_backup(Path(self.spec.path), dict(self.spec.keys).get(PASSWORD))
        return self._opened


def password_problem(root: Path, password: str) -> str | None:
    """Why ``password`` will not open the backup at ``root`` (None: it opens it), so
    that ``unseen add`` can say so at once rather than after processing."""
    info = _manifest_plist(root)
    if not (isinstance(info, dict) and info.get("IsEncrypted")):
        return "the backup is not encrypted: its password is not needed"
    bag = info.get("BackupKeyBag")
    if not isinstance(bag, bytes):
        return f"{NOT_OPENED}: Manifest.plist has no BackupKeyBag (before iOS 10.2)"
    try:
        unlock(parse_keybag(bag), password.encode("utf-8"))
    except WrongPassword:
        return WRONG_PASSWORD
    except DamagedKeybag as exc:
        return f"{NOT_OPENED}: {exc}"
    return None


def _decrypted_entry(entry: Entry, named: ManifestFile) -> Entry:
    """A stored file as its plaintext: the size Manifest.db records, when the
    ciphertext holds that much."""
    stored = entry.size or 0
    if named.size is None:
        return dataclasses.replace(entry, path=named.path)
    if named.size > stored:
        short = f"encrypted file holds {stored} bytes, fewer than the {named.size} recorded"
        return dataclasses.replace(
            entry, path=named.path, size=stored // 16 * 16, errors=(*entry.errors, short)
        )
    return dataclasses.replace(entry, path=named.path, size=named.size)


def _open_backup(root: Path, password: str | None) -> _Opened:
    """The manifest of a backup, decrypted when it is encrypted and a password given;
    otherwise the reason its files keep their stored names."""
    info = _manifest_plist(root)
    if not (isinstance(info, dict) and info.get("IsEncrypted")):
        try:
            return _Opened(read_manifest(root / "Manifest.db"))
        except (OSError, sqlite3.DatabaseError) as exc:
            return _Opened({}, f"Manifest.db not readable, files keep their stored names: {exc}")
    if password is None:
        return _Opened({}, ENCRYPTED)
    bag, wrapped = info.get("BackupKeyBag"), info.get("ManifestKey")
    if not isinstance(bag, bytes) or not isinstance(wrapped, bytes):
        return _Opened(
            {},
            f"{NOT_OPENED}: Manifest.plist has no BackupKeyBag or ManifestKey (before iOS 10.2)",
        )
    try:
        class_keys = unlock(parse_keybag(bag), password.encode("utf-8"))
        key = unwrap_file_key(class_keys, wrapped)
    except WrongPassword:
        return _Opened({}, WRONG_PASSWORD)
    except DamagedKeybag as exc:
        return _Opened({}, f"{NOT_OPENED}: {exc}")
    try:
        manifest = read_manifest(root / "Manifest.db", key)
        with CbcReader(open_readonly(root / "Manifest.db"), key, None) as plain:
            size = plain.size
    except (OSError, sqlite3.DatabaseError) as exc:
        return _Opened({}, f"{NOT_OPENED}: Manifest.db not decrypted: {exc}")
    return _Opened(manifest, None, class_keys, key, size)


def _manifest_plist(root: Path) -> object:
    try:
        with (root / "Manifest.plist").open("rb") as f:
            return plistlib.load(f)
    except (OSError, plistlib.InvalidFileException, ValueError):
        return None


def read_manifest(path: Path, key: bytes | None = None) -> dict[str, ManifestFile]:
    """``Files`` of a Manifest.db, read from a private copy (evidence is never opened
    in place; an encrypted one is decrypted into that copy with ``key``), by fileID."""
    folder = Path(tempfile.mkdtemp(prefix="unseen-backup-"))
    try:
        copy = folder / "Manifest.db"
        if key is None:
            shutil.copyfile(path, copy)
        else:
            with CbcReader(open_readonly(path), key, None) as plain, copy.open("xb") as out:
                shutil.copyfileobj(plain, out, 1024 * 1024)
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


def _meta(blob: object) -> tuple[int | None, float | None, bytes | None, int | None]:
    """Size, modification time, wrapped key and protection class from the archived
    MBFile, where it holds them."""
    nothing = (None, None, None, None)
    if not isinstance(blob, bytes):
        return nothing
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
        return nothing
    if not isinstance(top, dict):
        return nothing
    size, mtime, cls = top.get("Size"), top.get("LastModified"), top.get("ProtectionClass")
    return (
        size if isinstance(size, int) else None,
        float(mtime) if isinstance(mtime, int | float) else None,
        _wrapped_key(objects, top.get("EncryptionKey")),
        cls if isinstance(cls, int) else None,
    )


def _wrapped_key(objects: Any, ref: object) -> bytes | None:
    """``EncryptionKey``: a UID of an archived NSData (``NS.data``), or the bytes."""
    if isinstance(ref, plistlib.UID):
        try:
            ref = objects[ref.data]
        except (IndexError, TypeError):
            return None
    if isinstance(ref, dict):
        ref = ref.get("NS.data")
    return ref if isinstance(ref, bytes) else None


SOURCES.register(AppleBackupSource)
