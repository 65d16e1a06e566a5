"""Virtual disks (VMDK, VHD/VHDX, QCOW2) as containers and as sources.

The image is decoded by its ``MediaFormat`` (``sources.media``) into a flat disk, and
that disk is read by The Sleuth Kit exactly as a raw image is (``sources.tsk``), so a
virtual disk lists the same items, deleted files, streams and carved files as the raw
disk it holds, with the same paths and offsets. As a source the image may use extent
files beside it (``Siblings``); found inside other evidence it may not, and a split
VMDK there is recorded as not examined.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from unseen.core.errors import EvidenceError, WrongFormat
from unseen.core.locator import Address, DiskAddress, expect
from unseen.sources.base import SOURCES
from unseen.sources.containers import CONTAINERS, ContainerReader, Keys, Limits, Member
from unseen.sources.files import FileContainerSource, head_of
from unseen.sources.media import MediaStream, Siblings, Vmdk, damage, find_media
from unseen.sources.streams import binary, open_readonly


class VirtualDiskReader(ContainerReader):
    NAME = "vdisk"
    DESCRIPTION = "virtual disk: VMDK, VHD/VHDX, QCOW2 (libyal via dfvfs, The Sleuth Kit)"
    BOMB_LIMITS = False

    def __init__(
        self,
        stream: BinaryIO,
        siblings: Siblings | None = None,
        keys: dict[str, str] | None = None,
    ) -> None:
        super().__init__(stream)
        stream.seek(0)
        fmt = find_media(stream.read(4096))
        if fmt is None:
            raise WrongFormat("not a virtual disk")
        try:
            from unseen.sources.tsk import TskDisk
        except ImportError as exc:
            raise EvidenceError("disk image not read: install unseen[disk] (pytsk3)") from exc
        stream.seek(0)
        self.what = fmt.NAME.upper()
        self.media: MediaStream = fmt.open(stream, siblings or Siblings(None), self.errors)
        self.disk = TskDisk(binary(self.media), keys)

    @classmethod
    def sniff(cls, head: bytes, mime: str | None) -> bool:
        return find_media(head) is not None

    @classmethod
    def open_with(
        cls, stream: BinaryIO, siblings: Siblings | None, keys: Keys | None = None
    ) -> ContainerReader:
        return cls(stream, siblings, dict(keys or {}))

    def members(self, limits: Limits) -> Iterator[Member]:
        try:
            yield from self.disk.members(limits)
        finally:
            self.errors.extend(self.disk.errors)
            self.errors.extend(damage(self.media, self.what))

    def open_member(self, member: Address | bytes) -> BinaryIO:
        inner = self.disk.open_member(expect(member, DiskAddress))
        return binary(Undamaged(inner, self.media, self.what))


class Undamaged(io.RawIOBase):
    """A member's content that fails, instead of reading zeros, where the virtual disk
    could not be decoded: the item records the error rather than a wrong hash."""

    cheap_seek = True  # positional all the way down: containers inside read in place

    def __init__(self, inner: BinaryIO, media: MediaStream, what: str) -> None:
        super().__init__()
        self._inner, self._media, self._what = inner, media, what

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        before, at = self._media.damaged_reads, self._inner.tell()
        data = self._inner.read(len(buffer))
        if self._media.damaged_reads > before:
            raise OSError(
                f"content not recoverable: the {self._what} image is damaged under it "
                f"(reading at byte {at} of the file)"
            )
        buffer[: len(data)] = data
        return len(data)


def evidence_files(path: Path) -> list[Path]:
    """The image and the extent files it reads beside it (a VMDK descriptor's), for the
    fingerprint; names that are not plain siblings are left out, as when reading."""
    files = [path]
    if find_media(head_of(path)) is not Vmdk:
        return files
    try:
        with open_readonly(path) as f:
            names = Vmdk.extent_names(binary(f))
    except (OSError, EvidenceError):
        return files
    for name in names:
        try:
            Siblings(path.parent).open(name).close()
        except OSError:
            continue
        if path.parent / name != path:
            files.append(path.parent / name)
    return files


class VirtualDiskSource(FileContainerSource):
    NAME = "vdisk"
    DESCRIPTION = "a virtual disk: VMDK (with its extent files), VHD, VHDX, QCOW2"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_file() and find_media(head_of(path)) is not None

    def _make_reader(self, files: list[io.FileIO]) -> ContainerReader:
        folder = Siblings(Path(self.spec.path).parent)
        return VirtualDiskReader(binary(files[0]), folder, dict(self.spec.keys))


CONTAINERS.register(VirtualDiskReader)
SOURCES.register(VirtualDiskSource)
