"""The Sleuth Kit side of disk images: volumes, file systems, content streams.

See ``sources.disk`` for what is listed and how members are addressed.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from dataclasses import replace
from typing import BinaryIO

import pytsk3

from unseen.core.errors import EvidenceError
from unseen.core.locator import (
    Carved,
    Decrypted,
    DiskAddress,
    FsEntry,
    InLogical,
    InSnapshot,
    LibyalEntry,
    LocatorError,
    Unallocated,
    Volume,
)
from unseen.core.models import Entry
from unseen.sources.carving import carve
from unseen.sources.containers import Limits, Member
from unseen.sources.crypt import WHOLE, CryptFormat, find_crypt, key_for, volume_stream
from unseen.sources.libyalfs import FsVolume, LibyalFs, find_fs, open_file, volume_error
from unseen.sources.libyalfs import walk as libyal_walk
from unseen.sources.lvm import LogicalVolume, logical_volumes, sniff_lvm
from unseen.sources.media import damage
from unseen.sources.streams import PositionalStream, Slice, binary
from unseen.sources.tskwalk import walk
from unseen.sources.unalloc import unallocated
from unseen.sources.vss import Snapshot, has_snapshots, snapshots

_NTFS = int(pytsk3.TSK_FS_TYPE_NTFS)


def overlaps(volumes: list[tuple[str, int, int, str]]) -> list[str]:
    """A partition table whose partitions overlap is damaged or forged: each is still
    read, and the overlap recorded, so the examiner knows the same bytes show twice."""
    found = []
    for i, (a, a_at, a_len, _) in enumerate(volumes):
        for b, b_at, b_len, _ in volumes[i + 1 :]:
            if a_at < b_at + b_len and b_at < a_at + a_len:
                found.append(
                    f"partition table damaged: {b.rstrip('/')} (bytes {b_at}-{b_at + b_len - 1}) "
                    f"overlaps {a.rstrip('/')} (bytes {a_at}-{a_at + a_len - 1})"
                )
    return found


def inner_errors(disk: TskDisk | None) -> list[str]:
    """Problems of a decrypted volume's own partition table, taken once."""
    if disk is None:
        return []
    found, disk.errors[:] = list(disk.errors), []
    return found


def in_volume(
    prefix: str, members: Generator[Member, None, bool]
) -> Generator[Member, None, bool]:
    """The members of the partition named by ``prefix``, marked with it."""
    volume = prefix.rstrip("/") or None
    if volume is None:
        return (yield from members)
    while True:
        try:
            member = next(members)
        except StopIteration as done:
            return bool(done.value)
        own = member.entry.volume  # a volume inside this one (an APFS volume) keeps its name
        inner = own is not None and own.startswith(volume + "/")
        yield replace(member, entry=replace(member.entry, volume=own if inner else volume))


def prefix_at(disk: TskDisk, offset: int) -> str:
    """The path prefix of the volume at ``offset`` of ``disk``."""
    return next((prefix for prefix, at, *_ in disk.volumes() if at == offset), "")


class TskDisk:
    """An image opened with TSK: its volumes, their file systems, their files."""

    def __init__(
        self, stream: BinaryIO, keys: dict[str, str] | None = None, where: str = ""
    ) -> None:
        """``where``: the path of this disk inside the one holding it (``lv_root/``,
        ``p2/`` for a decrypted partition), so nested volumes are named for ``--key``
        as the examiner sees them."""
        self.stream = stream
        self.where = where
        # A shadow copy's volume carries the same VSS header: never looked into again.
        self.in_snapshot = False
        self.size = stream.seek(0, io.SEEK_END)
        self.img = TskImage(stream, self.size)
        self.keys = keys or {}
        self._fs: dict[int, pytsk3.FS_Info] = {}
        self._decrypted: dict[int, TskDisk] = {}
        self._libyal: dict[int, tuple[type[LibyalFs], list[FsVolume]]] = {}
        self._lvm: dict[int, list[tuple[LogicalVolume, TskDisk | None]]] = {}
        self._snapshots: dict[int, list[tuple[Snapshot, TskDisk | None]]] = {}
        self._volumes: list[tuple[str, int, int, str]] | None = None
        # Problems of the disk as a whole (a damaged partition table), for the reader.
        self.errors: list[str] = []

    def inner_name(self, prefix: str) -> str:
        """The volume at ``prefix`` as ``--key`` names it: ``p2``, ``lv_home``,
        ``p2/lv_home`` (a volume inside another); ``""`` for the whole image."""
        return (self.where + prefix).rstrip("/")

    def volume_name(self, prefix: str) -> str:
        """As ``inner_name``, with ``whole`` for the image itself (an encrypted image)."""
        return self.inner_name(prefix) or WHOLE

    def read(self, offset: int, length: int) -> bytes:
        self.stream.seek(offset)
        return self.stream.read(length)

    def volumes(self) -> list[tuple[str, int, int, str]]:
        """``(path prefix, byte offset, byte length, description)`` of each volume."""
        if self._volumes is None:
            self._volumes = self._read_volumes()
        return self._volumes

    def _read_volumes(self) -> list[tuple[str, int, int, str]]:
        try:
            vs = pytsk3.Volume_Info(self.img)
        except OSError:
            return [("", 0, self.size, "file system")]
        found: list[tuple[str, int, int, str]] = []
        bs = vs.info.block_size
        for part in vs:
            if int(part.flags) & int(pytsk3.TSK_VS_PART_FLAG_ALLOC):
                desc = part.desc.decode("utf-8", "replace")
                found.append((f"p{len(found) + 1}/", part.start * bs, part.len * bs, desc))
        self.errors.extend(overlaps(found))
        return found or [("", 0, self.size, "file system")]

    def fs(self, offset: int) -> pytsk3.FS_Info:
        found = self._fs.get(offset)
        if found is None:
            found = self._fs[offset] = pytsk3.FS_Info(self.img, offset=offset)
        return found

    def members(self, limits: Limits) -> Iterator[Member]:
        volumes = self.volumes()
        readable = 0
        for prefix, offset, length, desc in volumes:
            listed = self._volume_members(prefix, offset, length, desc, limits)
            found = yield from in_volume(prefix, listed)
            readable += found
        if not readable and not any(prefix for prefix, *_ in volumes):
            raise EvidenceError(
                "neither a partition table nor a file system The Sleuth Kit can read"
            )

    def _volume_members(
        self, prefix: str, offset: int, length: int, desc: str, limits: Limits
    ) -> Generator[Member, None, bool]:
        """The members of one volume; returns whether it held something readable."""
        try:
            fs = self.fs(offset)
        except OSError:
            head = self.read(offset, 4096)
            crypt = find_crypt(head)
            if crypt is not None:
                yield from self._encrypted(crypt, prefix, offset, length, limits)
                return True
            yal = find_fs(head)
            if yal is not None:
                yield from self._libyal_members(yal, prefix, offset, length)
                return True
            if sniff_lvm(head):
                yield from self._lvm_members(prefix, offset, length, limits)
                return True
            what = f"{desc}, {length} bytes at offset {offset}"
            problem = f"no file system The Sleuth Kit can read ({what})"
            if prefix:
                yield Member(
                    Entry(prefix.rstrip("/"), Volume(offset).encode(), "other", errors=(problem,))
                )
            return False
        shadowed = (
            not self.in_snapshot
            and int(fs.info.ftype) == _NTFS
            and has_snapshots(self.read(offset, 8192))
        )
        live: dict[str, tuple[int | None, float | None]] = {}
        for member in walk(fs, offset, prefix):
            e = member.entry
            if shadowed and e.kind == "file" and not e.deleted:
                live[e.path] = (e.size, e.mtime)
            yield member
        if limits.carve:
            yield from self._carve(fs, offset, prefix, limits)
        if shadowed:
            yield from self._snapshot_members(prefix, offset, length, live, limits)
        return True

    def _snapshot_members(
        self,
        prefix: str,
        offset: int,
        length: int,
        live: dict[str, tuple[int | None, float | None]],
        limits: Limits,
    ) -> Iterator[Member]:
        """What each shadow copy of the NTFS volume at ``offset`` holds that the live
        volume does not (see ``sources.vss``)."""
        catalog = InSnapshot(offset, 0, Volume(0)).encode()
        try:
            found = self.snapshot_disks(offset, length)
        except EvidenceError as exc:
            where = f"{prefix}$VSS"
            yield Member(Entry(where, catalog, "other", errors=(volume_error(exc),)))
            return
        volume = prefix.rstrip("/") or None
        for snap, disk in found:
            folder = f"{prefix}$VSS{snap.number}/"
            unread = InSnapshot(offset, snap.number, Volume(0)).encode()
            if disk is None:
                problem = snap.problem or "not examined"
                yield Member(Entry(folder.rstrip("/"), unread, "other", errors=(problem,)))
                continue
            same = 0
            try:
                for member in disk.members(replace(limits, carve=False)):
                    e = member.entry
                    if (
                        e.kind == "file"
                        and not e.deleted
                        and live.get(prefix + e.path)
                        == (
                            e.size,
                            e.mtime,
                        )
                    ):
                        same += 1
                        continue
                    try:
                        at = InSnapshot(offset, snap.number, DiskAddress.decode(e.locator))
                        locator = at.encode()
                    except LocatorError:  # kept as given: the item records it cannot open
                        locator = b"s%d:%d/" % (offset, snap.number) + e.locator
                    moved = replace(
                        e,
                        path=folder + e.path,
                        locator=locator,
                        snapshot=snap.number,
                        volume=volume,
                    )
                    yield replace(member, entry=moved)
            except EvidenceError as exc:
                problem = f"not examined: volume shadow copy {snap.number}: {exc}"
                yield Member(Entry(folder.rstrip("/"), unread, "other", errors=(problem,)))
            finally:
                self.errors.extend(inner_errors(disk))
            where = volume or "the volume"
            self.errors.append(
                f"volume shadow copy {snap.number} of {where} (created {snap.created}): "
                f"{same} files identical to the live volume, not listed again"
            )

    def snapshot_disks(self, offset: int, length: int) -> list[tuple[Snapshot, TskDisk | None]]:
        """The shadow copies of the NTFS volume at ``offset``, each as a disk, opened once."""
        found = self._snapshots.get(offset)
        if found is None:
            snaps = snapshots(volume_stream(self.stream, offset, length))
            found = [(snap, self._snapshot_disk(snap)) for snap in snaps]
            self._snapshots[offset] = found
        return found

    def _snapshot_disk(self, snap: Snapshot) -> TskDisk | None:
        if snap.media is None:
            return None
        disk = TskDisk(binary(snap.media), self.keys)
        disk.in_snapshot = True
        return disk

    def _snapshot_open(self, member: InSnapshot) -> BinaryIO:
        for _, at, length, _ in self.volumes():
            if at == member.offset:
                try:
                    found = self.snapshot_disks(at, length)
                except EvidenceError as exc:
                    raise OSError(str(exc)) from None
                disk = next((d for s, d in found if s.number == member.number), None)
                if disk is None:
                    raise OSError("no readable shadow copy at this disk address")
                return disk.open_member(member.inner)
        raise OSError("no volume at this disk address")

    def _encrypted(
        self, crypt: type[CryptFormat], prefix: str, offset: int, length: int, limits: Limits
    ) -> Iterator[Member]:
        """The members of an encrypted volume, or one item saying why it was not examined."""
        where = prefix.rstrip("/") or "."
        try:
            inner = self.decrypted(offset, crypt, self.volume_name(prefix), length)
            for member in inner.members(limits):  # streamed: a volume may hold millions
                entry = member.entry
                try:
                    inside = Decrypted(offset, DiskAddress.decode(entry.locator)).encode()
                except LocatorError:  # kept as given: the item records it cannot open
                    inside = b"e%d/" % offset + entry.locator
                located = replace(entry, path=prefix + entry.path, locator=inside)
                yield replace(member, entry=located)
        except EvidenceError as exc:
            message = str(exc)
            if not message.startswith("not examined"):
                message = f"not examined: decrypted {crypt.LABEL} volume: {message}"
            yield Member(Entry(where, Volume(offset).encode(), "other", errors=(message,)))
        finally:
            self.errors.extend(inner_errors(self._decrypted.get(offset)))

    def _libyal_members(
        self, yal: type[LibyalFs], prefix: str, offset: int, length: int
    ) -> Iterator[Member]:
        """The files of a file system TSK does not read, or one item saying why not."""
        try:
            _, volumes = self.libyal_fs(offset, yal, self.inner_name(prefix), length)
        except EvidenceError as exc:
            where = prefix.rstrip("/") or "."
            gone = Volume(offset).encode()
            yield Member(Entry(where, gone, "other", errors=(volume_error(exc),)))
            return
        yield from libyal_walk(yal, volumes, offset, prefix)
        problem = (
            f"unallocated space not carved and deleted files not listed: {yal.LABEL} is read "
            f"through {yal.LIBRARY}, which lists live files only and gives no allocation map"
        )
        space = Unallocated(offset).encode()
        yield Member(Entry(f"{prefix}$Unallocated", space, "other", errors=(problem,)))

    def libyal_fs(
        self, offset: int, yal: type[LibyalFs], volume: str, length: int
    ) -> tuple[type[LibyalFs], list[FsVolume]]:
        """The volumes of the libyal file system at ``offset``, opened once."""
        found = self._libyal.get(offset)
        if found is None:
            stream = volume_stream(self.stream, offset, length)
            found = self._libyal[offset] = (yal, yal.open(stream, volume, self.keys))
        return found

    def _lvm_members(
        self, prefix: str, offset: int, length: int, limits: Limits
    ) -> Iterator[Member]:
        """The files of each logical volume of the LVM2 physical volume at ``offset``."""
        try:
            found = self.logical_volumes(offset, length, prefix)
        except EvidenceError as exc:
            where = prefix.rstrip("/") or "."
            problem = volume_error(exc)
            yield Member(Entry(where, Volume(offset).encode(), "other", errors=(problem,)))
            return
        for k, (lv, disk) in enumerate(found):
            folder = f"{prefix}{lv.name}/"
            volume = folder.rstrip("/")
            unread = InLogical(offset, k, Volume(0)).encode()
            if disk is None:
                problem = lv.problem or "not examined"
                yield Member(Entry(volume, unread, "other", errors=(problem,), volume=volume))
                continue
            try:
                for member in disk.members(limits):
                    e = member.entry
                    path = volume if e.path == "." else folder + e.path
                    inner = f"{volume}/{e.volume}" if e.volume else volume
                    try:
                        at = InLogical(offset, k, DiskAddress.decode(e.locator)).encode()
                    except LocatorError:  # kept as given: the item records it cannot open
                        at = b"m%d:%d/" % (offset, k) + e.locator
                    yield replace(member, entry=replace(e, path=path, locator=at, volume=inner))
            except EvidenceError as exc:
                problem = f"not examined: LVM2 logical volume {lv.name}: {exc}"
                yield Member(Entry(volume, unread, "other", errors=(problem,), volume=volume))
            finally:
                self.errors.extend(inner_errors(disk))
                if lv.media is not None:
                    self.errors.extend(damage(lv.media, f"LVM2 logical volume {lv.name}"))

    def logical_volumes(
        self, offset: int, length: int, prefix: str
    ) -> list[tuple[LogicalVolume, TskDisk | None]]:
        """The logical volumes of the physical volume at ``offset``, each as a disk."""
        found = self._lvm.get(offset)
        if found is None:
            _, lvs = logical_volumes(volume_stream(self.stream, offset, length))
            found, names = [], set()
            for lv in lvs:
                name = lv.name
                while name in names:  # hostile metadata may repeat a name
                    name += "~"
                names.add(name)
                where = f"{self.where}{prefix}{name}/"
                disk = None if lv.media is None else TskDisk(binary(lv.media), self.keys, where)
                found.append((replace(lv, name=name), disk))
            self._lvm[offset] = found
        return found

    def _lvm_open(self, member: InLogical) -> BinaryIO:
        for prefix, at, length, _ in self.volumes():
            if at == member.offset and sniff_lvm(self.read(at, 4096)):
                try:
                    found = self.logical_volumes(at, length, prefix)
                except EvidenceError as exc:
                    raise OSError(str(exc)) from None
                disk = found[member.lv][1] if 0 <= member.lv < len(found) else None
                if disk is None:
                    raise OSError("no readable logical volume at this disk address")
                return disk.open_member(member.inner)
        raise OSError("no LVM2 physical volume at this disk address")

    def _libyal_open(self, offset: int, k: int, ident: int) -> BinaryIO:
        for prefix, at, length, _ in self.volumes():
            yal = find_fs(self.read(at, 4096)) if at == offset else None
            if yal is not None:
                try:
                    _, volumes = self.libyal_fs(at, yal, self.inner_name(prefix), length)
                except EvidenceError as exc:
                    raise OSError(str(exc)) from None
                return binary(open_file(yal, volumes, k, ident))
        raise OSError("no file system at this disk address")

    def decrypted(
        self, offset: int, crypt: type[CryptFormat], volume: str, length: int
    ) -> TskDisk:
        """The disk inside the encrypted volume at ``offset``, opened once."""
        found = self._decrypted.get(offset)
        if found is None:
            key = key_for(self.keys, volume)
            media = crypt.open(volume_stream(self.stream, offset, length), volume, key)
            inner = TskDisk(binary(media), self.keys, self.where + prefix_at(self, offset))
            found = self._decrypted[offset] = inner
        return found

    def _carve(
        self, fs: pytsk3.FS_Info, offset: int, prefix: str, limits: Limits
    ) -> Iterator[Member]:
        space = f"{prefix}$Unallocated"
        ranges = unallocated(fs, self.read, offset)
        if ranges is None:
            problem = "unallocated space not carved: no allocation map read for this file system"
            yield Member(Entry(space, Unallocated(offset).encode(), "other", errors=(problem,)))
            return
        for start, length in ranges:
            for at, size, ext in carve(self.read, start, length, limits.max_carved):
                entry = Entry(
                    f"{space}/carved-{at}.{ext}",
                    Carved(at, size).encode(),
                    size=size,
                    carved=True,
                    offset=at,
                )
                yield Member(entry)

    def open_member(self, member: DiskAddress) -> BinaryIO:
        if isinstance(member, Decrypted):
            for prefix, at, length, _ in self.volumes():
                crypt = find_crypt(self.read(at, 4096)) if at == member.offset else None
                if crypt is not None:
                    try:
                        disk = self.decrypted(at, crypt, self.volume_name(prefix), length)
                    except EvidenceError as exc:
                        raise OSError(str(exc)) from None
                    return disk.open_member(member.inner)
            raise OSError("no encrypted volume at this disk address")
        if isinstance(member, InLogical):
            return self._lvm_open(member)
        if isinstance(member, InSnapshot):
            return self._snapshot_open(member)
        if isinstance(member, Carved):
            at, size = member.offset, member.length
            return binary(Slice(self.stream, at, min(size, max(0, self.size - at))))
        if isinstance(member, LibyalEntry) and member.path is None:
            return self._libyal_open(member.fs_offset, member.volume, member.ident)
        if not isinstance(member, FsEntry):
            raise OSError("no content at this disk address")
        fs = self.fs(member.fs_offset)
        handle = fs.open_meta(inode=member.inode)
        if member.attr is None:
            meta = handle.info.meta
            return binary(TskStream(handle, int(meta.size) if meta else 0, None))
        kind, ident = member.attr
        for attr in handle:
            if int(attr.info.type) == kind and int(attr.info.id) == ident:
                return binary(TskStream(handle, int(attr.info.size), (kind, ident)))
        raise OSError("attribute (stream) not found")


class TskImage(pytsk3.Img_Info):  # type: ignore[misc]
    """TSK reads the image through a Python stream (a file, an E01, a member...)."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self._stream, self._size = stream, size
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def close(self) -> None:
        """The stream belongs to the reader; nothing to release here."""

    def read(self, offset: int, size: int) -> bytes:
        self._stream.seek(offset)
        return self._stream.read(size)

    def get_size(self) -> int:
        return self._size


class TskStream(PositionalStream):
    """A file's content (or one attribute of it) as TSK reads it, deleted ones too."""

    def __init__(self, handle: pytsk3.File, size: int, attr: tuple[int, int] | None) -> None:
        super().__init__(size)
        self._handle, self._attr = handle, attr

    def _read_at(self, offset: int, n: int) -> bytes:
        try:
            if self._attr is None:
                return bytes(self._handle.read_random(offset, n))
            return bytes(self._handle.read_random(offset, n, self._attr[0], self._attr[1]))
        except OSError as exc:
            raise OSError(f"content not recoverable at byte {offset}: {exc}") from exc
