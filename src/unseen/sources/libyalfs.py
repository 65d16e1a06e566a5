"""File systems The Sleuth Kit does not read, through the libyal libraries dfvfs uses.

XFS (libfsxfs) and APFS containers (libfsapfs, every volume of the container) are
read where TSK finds no file system in a volume: ``sources.tsk`` hands the volume's
bytes here. These libraries list the live tree only: deleted files are not listed
for them (TSK lists deleted entries where it reads the file system itself). Adding a
format means one ``LibyalFs`` class registered in ``FILE_SYSTEMS``.

Member addresses (ASCII): ``y<fs offset>:v<k>:i<id>`` for the file with inode
(identifier) ``id`` of the k-th volume of the file system at ``fs offset``
(``v0`` for file systems of one volume), ``...:n<k>`` for its k-th name where
one file is listed twice (hard links). An APFS container's volumes are shown as
folders ``apfs1/``, ``apfs2/``... in container order, each one a ``volume``.
"""

from __future__ import annotations

import stat
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, BinaryIO, ClassVar

from unseen.core.errors import EvidenceError
from unseen.core.locator import LibyalEntry
from unseen.core.models import Entry
from unseen.core.paths import display_name
from unseen.core.registry import Registry
from unseen.sources.containers import Member
from unseen.sources.crypt import key_digest, key_for
from unseen.sources.media import libyal, libyal_cause, not_examined
from unseen.sources.streams import PositionalStream

_MAX_DEPTH = 512  # folders deeper than this are reported, not entered
# How often each address was listed in one walk (hard links).
Seen = dict[LibyalEntry, int]


@dataclass(frozen=True, slots=True)
class FsVolume:
    """One volume of an opened file system: where its files are shown, its handle
    (``None`` when it could not be opened), and why not."""

    folder: str  # "" for a file system of one volume, else "apfs1"...
    handle: Any
    problem: str | None = None


class LibyalFs(ABC):
    """One file system read through a libyal library."""

    NAME: ClassVar[str]
    LABEL: ClassVar[str]
    LIBRARY: ClassVar[str]

    @classmethod
    @abstractmethod
    def sniff(cls, head: bytes) -> bool:
        """Whether a volume starting with ``head`` holds this file system."""

    @classmethod
    @abstractmethod
    def open(cls, stream: BinaryIO, volume: str, keys: dict[str, str]) -> list[FsVolume]:
        """The volumes of the file system in ``stream``; ``volume`` names it for ``--key``.

        Raises:
            EvidenceError: the file system is damaged or unreadable.
        """

    @classmethod
    def entry(cls, handle: Any, ident: int) -> Any:
        """The file entry with inode (identifier) ``ident``."""
        return handle.get_file_entry_by_identifier(ident)

    @classmethod
    def ident(cls, entry: Any) -> int:
        return int(entry.identifier)


class Xfs(LibyalFs):
    NAME = "xfs"
    LABEL = "XFS"
    LIBRARY = "libfsxfs"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        # The magic and a block size XFS allows (a power of two, 512 B to 64 KiB), so a
        # file that merely starts with "XFSB" is not taken for a file system.
        if head[:4] != b"XFSB" or len(head) < 8:
            return False
        block = int.from_bytes(head[4:8], "big")
        return 512 <= block <= 65536 and block & (block - 1) == 0

    @classmethod
    def open(cls, stream: BinaryIO, volume: str, keys: dict[str, str]) -> list[FsVolume]:
        handle = libyal("pyfsxfs").volume()
        try:
            handle.open_file_object(stream)
        except OSError as exc:
            raise not_examined(f"XFS damaged or unreadable ({libyal_cause(exc)})") from None
        return [FsVolume("", handle)]

    @classmethod
    def entry(cls, handle: Any, ident: int) -> Any:
        return handle.get_file_entry_by_inode(ident)

    @classmethod
    def ident(cls, entry: Any) -> int:
        return int(entry.inode_number)


class Apfs(LibyalFs):
    NAME = "apfs"
    LABEL = "APFS"
    LIBRARY = "libfsapfs"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        # The container superblock: its magic and its object type (NX superblock, physical).
        return head[32:36] == b"NXSB" and head[24:28] == b"\x01\x00\x00\x80"

    @classmethod
    def open(cls, stream: BinaryIO, volume: str, keys: dict[str, str]) -> list[FsVolume]:
        container = libyal("pyfsapfs").container()
        try:
            container.open_file_object(stream)
            count = int(container.number_of_volumes)
        except OSError as exc:
            raise not_examined(f"APFS container damaged ({libyal_cause(exc)})") from None
        found = []
        for k in range(count):
            folder = f"apfs{k + 1}"
            name = f"{volume}/{folder}" if volume else folder
            try:
                handle = container.get_volume(k)
                found.append(FsVolume(folder, handle, _unlock_apfs(handle, name, keys)))
            except OSError as exc:
                problem = f"not examined: APFS volume damaged ({libyal_cause(exc)})"
                found.append(FsVolume(folder, None, problem))
        return found


def _unlock_apfs(handle: Any, name: str, keys: dict[str, str]) -> str | None:
    """Why an encrypted APFS volume stays locked, or ``None`` once it is readable."""
    if not handle.is_locked():
        return None
    key = key_for(keys, name)
    if key is None:
        return f"not examined: encrypted APFS volume; give --key {name}=KEY to examine it"
    handle.set_password(key)
    try:
        if handle.unlock():
            return None
    except OSError:
        pass
    return (
        f"not examined: encrypted APFS volume not unlocked with the key given for {name} "
        f"(sha256 {key_digest(key)[:16]}...)"
    )


FILE_SYSTEMS: Registry[type[LibyalFs]] = Registry("libyal file systems")
FILE_SYSTEMS.register(Xfs)
FILE_SYSTEMS.register(Apfs)


def find_fs(head: bytes) -> type[LibyalFs] | None:
    return next((cls for cls in FILE_SYSTEMS if cls.sniff(head)), None)


def walk(
    fs: type[LibyalFs], volumes: list[FsVolume], offset: int, prefix: str
) -> Iterator[Member]:
    """Every file of the opened file system, paths starting with ``prefix``.

    Deterministic like the TSK walk: names sorted by their bytes within each folder,
    files first, then sub-folders; a folder met twice (a loop in damaged metadata) is
    not entered again.
    """
    seen: Seen = {}
    for k, vol in enumerate(volumes):
        top = f"{prefix}{vol.folder}/" if vol.folder else prefix
        volume = top.rstrip("/") or None
        base = LibyalEntry(offset, k, 0)
        if vol.handle is None or vol.problem:
            where = top.rstrip("/") or "."
            problem = vol.problem or "not examined"
            yield Member(Entry(where, base.encode(), "other", errors=(problem,), volume=volume))
            continue
        for entry in _tree(fs, vol.handle, top, base, seen):
            yield Member(_in(entry, volume))


def _in(entry: Entry, volume: str | None) -> Entry:
    if volume is None:
        return entry
    return replace(entry, volume=volume)


def _tree(
    fs: type[LibyalFs], handle: Any, top: str, base: LibyalEntry, seen: Seen
) -> Iterator[Entry]:
    try:
        root = handle.get_root_directory()
    except OSError as exc:
        yield _problem(seen, top, base, f"cannot list the root folder: {libyal_cause(exc)}")
        return
    entered = {fs.ident(root)}
    stack: list[tuple[Any, str, int]] = [(root, top, 0)]
    while stack:
        folder, path, depth = stack.pop()
        try:
            children = sorted(
                ((_raw_name(c), c) for c in folder.sub_file_entries), key=lambda c: c[0]
            )
        except OSError as exc:
            yield _problem(seen, path, base, f"cannot list folder: {libyal_cause(exc)}")
            continue
        folders: list[tuple[Any, str]] = []
        for raw, child in children:
            shown = f"{path}{display_name(raw)[0]}"
            try:
                mode, ident = int(child.file_mode or 0), fs.ident(child)
            except OSError as exc:
                yield _problem(seen, shown, base, f"metadata not readable: {libyal_cause(exc)}")
                continue
            if stat.S_ISDIR(mode):
                if ident in entered:
                    continue
                entered.add(ident)
                if depth + 1 > _MAX_DEPTH:
                    yield _problem(seen, shown, base, f"deeper than {_MAX_DEPTH} folders")
                else:
                    folders.append((child, shown + "/"))
                continue
            yield _file(child, mode, shown, _unique(seen, replace(base, ident=ident)))
        stack.extend((child, sub, depth + 1) for child, sub in reversed(folders))


def _raw_name(entry: Any) -> bytes:
    name = entry.name
    return name.encode("utf-8", "surrogateescape") if isinstance(name, str) else bytes(name)


def _file(entry: Any, mode: int, path: str, locator: bytes) -> Entry:
    errors: list[str] = []
    target = None
    if stat.S_ISREG(mode):
        kind = "file"
    elif stat.S_ISLNK(mode):
        kind = "symlink"
        target = str(entry.symbolic_link_target or "")
        errors.append(f"symbolic link not followed (points to {target!r})")
    else:
        kind = "other"
        errors.append("not a regular file (device, FIFO or socket); content not read")
    return Entry(
        path,
        locator,
        kind,
        size=int(entry.size) if kind == "file" else None,
        mtime=_time(entry, "modification_time"),
        atime=_time(entry, "access_time"),
        ctime=_time(entry, "inode_change_time"),
        link_target=target,
        errors=tuple(errors),
    )


def _time(entry: Any, name: str) -> float | None:
    """A POSIX time from the library's naive UTC datetime; the epoch itself (an unset
    field) counts as no time, as in the TSK walk."""
    try:
        value = getattr(entry, name)
    except OSError:
        return None
    if not isinstance(value, datetime):
        return None
    seconds = value.replace(tzinfo=UTC).timestamp()
    return seconds or None


def _problem(seen: Seen, path: str, base: LibyalEntry, message: str) -> Entry:
    where = path.rstrip("/") or "."
    address = replace(base, ident=0, path=where)
    return Entry(where, _unique(seen, address), "dir", errors=(message,))


def _unique(seen: Seen, address: LibyalEntry) -> bytes:
    """The address itself the first time, then with ``nth`` 2, 3... (hard links)."""
    count = seen.get(address, 0) + 1
    seen[address] = count
    return (address if count == 1 else replace(address, nth=count)).encode()


class FileStream(PositionalStream):
    """A file's content as its libyal library reads it."""

    def __init__(self, entry: Any) -> None:
        super().__init__(int(entry.size))
        self._entry = entry

    def _read_at(self, offset: int, n: int) -> bytes:
        try:
            return bytes(self._entry.read_buffer_at_offset(n, offset))
        except OSError as exc:
            raise OSError(
                f"content not recoverable at byte {offset}: {libyal_cause(exc)}"
            ) from None


def open_file(fs: type[LibyalFs], volumes: list[FsVolume], k: int, ident: int) -> FileStream:
    """The content of file ``ident`` of volume ``k``.

    Raises:
        OSError: no such volume or file, or it is not readable.
    """
    if not 0 <= k < len(volumes) or volumes[k].handle is None or volumes[k].problem:
        raise OSError(f"no readable {fs.LABEL} volume {k} here")
    try:
        entry = fs.entry(volumes[k].handle, ident)
    except OSError as exc:
        raise OSError(f"{fs.LABEL} file {ident} not readable: {libyal_cause(exc)}") from None
    if entry is None or not stat.S_ISREG(int(entry.file_mode or 0)):
        raise OSError(f"{fs.LABEL} inode {ident} is not a regular file")
    return FileStream(entry)


def volume_error(exc: EvidenceError) -> str:
    message = str(exc)
    return message if message.startswith("not examined") else f"not examined: {message}"
