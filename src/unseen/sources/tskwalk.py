"""Walking one file system with TSK: allocated and deleted names, NTFS streams.

The walk is iterative and deterministic (names sorted by their bytes within each
folder; files first, then sub-folders). Deleted folders are entered when their
metadata is still unallocated (not reused by a live folder), and TSK's
``$OrphanFiles`` (deleted files whose folder is gone) is walked as deleted. Entries
that carry nothing (orphan metadata slots of size 0, FAT volume labels, TSK's
virtual files, NTFS and HFS+ system files) are not listed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace

import pytsk3

from unseen.core.locator import FsEntry, Unlisted
from unseen.core.models import Entry
from unseen.core.paths import display_name
from unseen.sources.containers import Member

_REG = int(pytsk3.TSK_FS_META_TYPE_REG)
_DIR = int(pytsk3.TSK_FS_META_TYPE_DIR)
_LNK = int(pytsk3.TSK_FS_META_TYPE_LNK)
_VIRT = int(pytsk3.TSK_FS_META_TYPE_VIRT)
_VIRT_DIR = int(pytsk3.TSK_FS_META_TYPE_VIRT_DIR)
_NAME_UNALLOC = int(pytsk3.TSK_FS_NAME_FLAG_UNALLOC)
_META_UNALLOC = int(pytsk3.TSK_FS_META_FLAG_UNALLOC)
_NTFS_DATA = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)
_NTFS = int(pytsk3.TSK_FS_TYPE_NTFS)
_HFS = int(pytsk3.TSK_FS_TYPE_HFS_DETECT)
_HFS_FIRST_USER = 16  # HFS+ catalog node ids below this are the volume's own structures
_MAX_DEPTH = 512  # folders deeper than this are reported, not entered

REUSED = (
    "deleted: its metadata entry now belongs to another file; the content shown is that file's"
)
WIPED = (
    "deleted: the surviving metadata gives size 0; content not recoverable from the file "
    "system (unallocated space is carved)"
)
NO_META = "deleted: no metadata survives; content not recoverable"

# How often each address was listed in one walk (hard links, reused metadata).
Seen = dict[FsEntry | Unlisted, int]


def walk(fs: pytsk3.FS_Info, fs_offset: int, prefix: str) -> Iterator[Member]:
    """Every file of the file system at ``fs_offset``, paths starting with ``prefix``."""
    ntfs = int(fs.info.ftype) == _NTFS
    hfs = bool(int(fs.info.ftype) & _HFS)
    seen: Seen = {}
    entered: set[int] = {int(fs.info.root_inum)}
    try:
        root = fs.open_dir(inode=int(fs.info.root_inum))
    except OSError as exc:  # a damaged or cut-short image: say so on one item
        yield _problem(seen, prefix, f"cannot list the root folder: {exc}")
        return
    stack: list[tuple[pytsk3.Directory, str, bool, int]] = [(root, prefix, False, 0)]
    while stack:
        folder, path, gone, depth = stack.pop()
        try:
            children = sorted(_children(fs, folder), key=lambda c: c[0])
        except OSError as exc:
            yield _problem(seen, path, f"cannot list folder: {exc}")
            continue
        folders: list[tuple[pytsk3.File, str, bool]] = []
        for raw, name_flags, meta_addr, handle in children:
            meta = handle.info.meta
            kind = int(meta.type) if meta is not None else None
            deleted = gone or bool(name_flags & _NAME_UNALLOC)
            deleted |= meta is not None and bool(int(meta.flags) & _META_UNALLOC)
            shown = f"{path}{display_name(raw)[0]}"
            if _hidden(raw, kind, meta, ntfs and depth == 0):
                continue
            if hfs and depth == 0 and raw.startswith(b"$") and meta_addr < _HFS_FIRST_USER:
                continue  # $CatalogFile, $ExtentsFile...: structures, as NTFS's are
            if kind in (_DIR, _VIRT_DIR):
                # A deleted folder is entered unless its metadata now serves a live one.
                live = not deleted or int(meta.flags) & _META_UNALLOC or kind == _VIRT_DIR
                if int(meta.addr) not in entered and live:
                    entered.add(int(meta.addr))
                    folders.append((handle, shown + "/", deleted or kind == _VIRT_DIR))
            elif not gone or (meta is not None and meta.size):  # skip empty orphan slots
                yield from _file(handle, meta_addr, shown, fs_offset, deleted, ntfs, seen)
        for handle, sub, sub_gone in reversed(folders):
            if depth + 1 > _MAX_DEPTH:
                yield _problem(seen, sub, f"deeper than {_MAX_DEPTH} folders; not entered")
                continue
            try:
                stack.append((handle.as_directory(), sub, sub_gone, depth + 1))
            except OSError as exc:
                if not sub_gone:
                    yield _problem(seen, sub, f"cannot list folder: {exc}")


def _hidden(raw: bytes, kind: int | None, meta: object, ntfs_root: bool) -> bool:
    """TSK's virtual files, NTFS system files and FAT volume labels are not listed."""
    if kind == _VIRT or (ntfs_root and raw.startswith(b"$") and kind != _VIRT_DIR):
        return True
    return raw.endswith(b"(Volume Label Entry)") and not getattr(meta, "size", 1)


def _problem(seen: Seen, path: str, message: str) -> Member:
    where = path.rstrip("/") or "."
    return Member(Entry(where, _unique(seen, Unlisted(where)), "dir", errors=(message,)))


def _children(
    fs: pytsk3.FS_Info, folder: pytsk3.Directory
) -> list[tuple[bytes, int, int, pytsk3.File]]:
    """``(name, name flags, metadata address, handle)`` of each entry of a folder."""
    found = []
    for handle in folder:
        name = handle.info.name
        raw = bytes(name.name or b"")
        if raw in (b"", b".", b".."):
            continue
        if handle.info.meta is None and name.meta_addr:
            # TSK leaves unallocated metadata unloaded in some listings (NTFS).
            with contextlib.suppress(OSError):
                handle = fs.open_meta(inode=int(name.meta_addr))
        found.append((raw, int(name.flags), int(name.meta_addr), handle))
    return found


def _file(
    handle: pytsk3.File,
    meta_addr: int,
    path: str,
    fs_offset: int,
    deleted: bool,
    ntfs: bool,
    seen: Seen,
) -> Iterator[Member]:
    meta = handle.info.meta
    if meta is None:
        locator = _unique(seen, FsEntry(fs_offset, meta_addr))
        yield Member(Entry(path, locator, "other", deleted=deleted, errors=(NO_META,)))
        return
    errors: list[str] = []
    kind = {_REG: "file", _LNK: "symlink"}.get(int(meta.type), "other")
    target = None
    if deleted and not int(meta.flags) & _META_UNALLOC:
        errors.append(REUSED)
    if kind == "symlink":
        target = display_name(bytes(meta.link or b""))[0]
        errors.append(f"symbolic link not followed (points to {target!r})")
    elif kind == "other":
        errors.append("not a regular file (device, FIFO or socket); content not read")
    elif deleted and not meta.size:
        errors.append(WIPED)
    address = FsEntry(fs_offset, int(meta.addr))
    yield Member(
        Entry(
            path,
            _unique(seen, address),
            kind,
            size=int(meta.size) if kind == "file" else None,
            mtime=_time(meta.mtime, meta.mtime_nano),
            atime=_time(meta.atime, meta.atime_nano),
            ctime=_time(meta.ctime, meta.ctime_nano),
            link_target=target,
            errors=tuple(errors),
            deleted=deleted,
        )
    )
    if ntfs and kind == "file":
        yield from _streams(handle, address, path, deleted, seen)


def _streams(
    handle: pytsk3.File, address: FsEntry, path: str, deleted: bool, seen: Seen
) -> Iterator[Member]:
    """NTFS alternate data streams (named $DATA attributes) as ``file:stream`` items."""
    for attr in handle:
        name = attr.info.name
        if int(attr.info.type) == _NTFS_DATA and name:
            stream = display_name(bytes(name))[0]
            ads = replace(address, attr=(_NTFS_DATA, int(attr.info.id)))
            entry = Entry(
                f"{path}:{stream}", _unique(seen, ads), size=int(attr.info.size), deleted=deleted
            )
            yield Member(entry)


def _time(seconds: int, nano: int) -> float | None:
    return seconds + nano / 1e9 if seconds else None


def _unique(seen: Seen, address: FsEntry | Unlisted) -> bytes:
    """The address itself the first time, then with ``nth`` 2, 3... (``:n2``, ``:n3``)."""
    count = seen.get(address, 0) + 1
    seen[address] = count
    return (address if count == 1 else replace(address, nth=count)).encode()
