"""Storage-media images: virtual disks whose bytes are not the disk's bytes.

A VMDK, VHD/VHDX or QCOW2 holds a disk in its own layout (grains, blocks, clusters);
each format here decodes it into one flat ``MediaStream`` that the rest of the layers
(partitions, file systems, deleted files, carving: ``sources.tsk``) read as if it were
a raw image. Adding a format means one ``MediaFormat`` class registered in ``MEDIA``.

The decoding is done by the libyal libraries that dfvfs installs and wraps (libvmdk,
libvhdi, libqcow). They are driven through file objects only, never through paths:
dfvfs's resolver opens images by path, which cannot reach an image that is itself a
member of an archive or a file inside another disk, and a library given a path would
follow whatever a hostile descriptor names. So every file a format needs besides its
own stream (a VMDK's extent files) is opened here, read-only, and only when it is a
plain name of a regular file in the same folder as the image (``Siblings``); parent
and backing images (VMDK deltas, VHD differencing disks, QCOW backing files) are
never opened, and what they would supply is recorded as missing.
"""

from __future__ import annotations

import os
import re
import stat
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO, ClassVar

from unseen.core.errors import EvidenceError
from unseen.core.registry import Registry
from unseen.sources.streams import PositionalStream, open_readonly

MISSING = "virtual disk not read: install unseen[disk] (dfvfs and its libyal libraries)"
NOT_EXAMINED = "not examined"


def not_examined(reason: str) -> EvidenceError:
    """The error of a container whose contents could not be examined, worded alike
    everywhere so that status, export and the review grid can find it."""
    return EvidenceError(f"{NOT_EXAMINED}: {reason}")


class Siblings:
    """Read-only access to the files beside an image, by plain name only.

    A descriptor is evidence and may name ``../../etc/shadow``, an absolute path or a
    symbolic link planted beside it: only a name without separators whose entry in
    the image's own folder is a regular file (``lstat``, links not followed) opens.
    """

    def __init__(
        self, folder: Path | None, opener: Callable[[str], IO[bytes]] | None = None
    ) -> None:
        """``folder`` on the host, or ``opener``: how the source holding the image opens a
        file beside it (a folder source's own no-follow open)."""
        self.folder = folder
        self.opener = opener

    def open(self, name: str) -> IO[bytes]:
        """The sibling file ``name``, opened read-only.

        Raises:
            OSError: no such sibling, or the name points outside the image's folder.
        """
        if self.folder is None and self.opener is None:
            raise OSError(
                "files beside an image held inside other evidence are not opened; "
                "add the image with its files as a source"
            )
        if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
            raise OSError("it names a file outside the evidence folder (never followed)")
        if self.opener is not None:
            try:
                return self.opener(name)
            except FileNotFoundError:
                raise OSError("not found beside the image") from None
            except OSError:
                raise OSError("not a regular file (a link or device is never followed)") from None
        assert self.folder is not None
        target = self.folder / name
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            raise OSError("not found beside the image") from None
        if not stat.S_ISREG(st.st_mode):
            raise OSError("not a regular file (a link or device is never followed)")

        return open_readonly(target)


class MediaStream(PositionalStream):
    """The decoded disk of a libyal handle, read at offsets.

    A range the decoder cannot deliver (a truncated image, a damaged grain table)
    reads as zeros and is noted in ``damaged``, as damaged E01 chunks are: one bad
    grain must not hide the rest of the disk, and the gap is recorded, not silent.
    """

    def __init__(self, handle: Any, size: int, keep: tuple[IO[bytes], ...] = ()) -> None:
        super().__init__(size)
        self.handle = handle
        self._keep = keep  # extent files the handle reads from, kept open with it
        self.damaged: dict[int, int] = {}  # offset -> length read as zeros (the first ones)
        self.damaged_reads = 0

    def _read_at(self, offset: int, n: int) -> bytes:
        try:
            data = bytes(self.handle.read_buffer_at_offset(n, offset))
        except OSError:
            data = b""
        if len(data) < n:
            self.damaged_reads += 1
            if len(self.damaged) < 100:  # enough to show; a wrecked image must not eat memory
                self.damaged[offset + len(data)] = n - len(data)
            data += bytes(n - len(data))
        return data


def damage(media: MediaStream, what: str) -> list[str]:
    """The problem to record when ranges of a virtual disk could not be decoded."""
    if not media.damaged:
        return []
    ranges = sorted(media.damaged.items())
    shown = ", ".join(f"{length} bytes at {at}" for at, length in ranges[:10])
    rest = media.damaged_reads - min(len(ranges), 10)
    more = f" and {rest} more ranges" if rest > 0 else ""
    return [f"{what} damaged: parts not decodable read as zeros ({shown}{more})"]


class MediaFormat(ABC):
    """One storage-media image format: recognise it and decode it.

    ``open`` returns the decoded disk and appends to ``problems`` whatever is known
    to be missing from it (a parent image not opened) without failing.
    """

    NAME: ClassVar[str]
    DESCRIPTION: ClassVar[str]

    @classmethod
    @abstractmethod
    def sniff(cls, head: bytes) -> bool:
        """Whether content starting with ``head`` is this format."""

    @classmethod
    @abstractmethod
    def open(cls, stream: BinaryIO, siblings: Siblings, problems: list[str]) -> MediaStream:
        """The decoded disk of the image in ``stream``.

        Raises:
            EvidenceError: the image cannot be decoded (damaged, encrypted, ...).
        """


MEDIA: Registry[type[MediaFormat]] = Registry("media formats")


def find_media(head: bytes) -> type[MediaFormat] | None:
    return next((cls for cls in MEDIA if cls.sniff(head)), None)


def libyal(name: str) -> Any:
    """A libyal binding that dfvfs installs (optional extra ``disk``)."""
    try:
        return __import__(name)
    except ImportError as exc:
        raise EvidenceError(MISSING) from exc


def _failed(what: str, exc: Exception) -> EvidenceError:
    """The error for an image its decoder refuses, naming the decoder's own cause.

    libyal messages chain every calling function ("binding: ... . lib_a: cause. ...");
    the second link is the check that failed, which is what an examiner can act on.
    """
    return not_examined(f"{what} damaged or unreadable ({libyal_cause(exc)})")


def libyal_cause(exc: Exception) -> str:
    """The failed check in a libyal error chain (its second link), without the rest."""
    links = [part.strip() for part in str(exc).split(". ") if part.strip()]
    cause = links[1] if len(links) > 1 else (links[0] if links else "no detail")
    return cause.rstrip(".")


def _refuse_parent(what: str, role: str, name: str | bytes | None) -> None:
    """Images layered on another file are not examined: the other file lies outside
    this evidence (never opened), and the decoders read nothing of an overlay alone."""
    if name:
        shown = name.decode("utf-8", "replace") if isinstance(name, bytes) else name
        raise not_examined(
            f"{what} whose {role} {shown!r} is never opened (it lies outside this "
            "evidence); add the complete chain as evidence"
        )


_CREATE_TYPE = re.compile(rb'createType\s*=\s*"([A-Za-z0-9]+)"')
_ONE_FILE = (b"monolithicSparse", b"streamOptimized")


def _refuse_split_extent(stream: BinaryIO) -> None:
    """One sparse extent of a split VMDK carries a copy of the set's descriptor but no
    disk of its own: say so, rather than calling it damaged."""
    stream.seek(0)
    header = stream.read(512)
    if header[:4] != b"KDMV" or len(header) < 44:
        return
    at, sectors = struct.unpack_from("<QQ", header, 28)
    if at:  # an embedded descriptor: blank or naming a split type in split extents
        if not 0 < sectors <= 2048:
            return  # odd: its decoder judges
        stream.seek(at * 512)
        text = stream.read(sectors * 512)
        stream.seek(0)
        found = _CREATE_TYPE.search(text)
        if (found and found[1] in _ONE_FILE) or (not found and text.strip(b"\0")):
            return  # a whole disk in one file (or a damaged one: its decoder says so)
    raise not_examined(
        "one extent of a split VMDK, without a descriptor of its own: it is read through "
        "the descriptor .vmdk that names it; add that descriptor with its extent files "
        "as a source"
    )


class Vmdk(MediaFormat):
    NAME = "vmdk"
    DESCRIPTION = "VMware VMDK (sparse, flat, split; descriptor file or embedded)"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return head[:4] in (b"KDMV", b"COWD") or head.lstrip()[:21] == b"# Disk DescriptorFile"

    @classmethod
    def extent_names(cls, stream: BinaryIO) -> list[str]:
        """The extent file names a VMDK descriptor lists (nothing is opened)."""
        handle = libyal("pyvmdk").handle()
        try:
            handle.open_file_object(stream)
            return [d.filename or "" for d in handle.extent_descriptors]
        except OSError as exc:
            raise _failed("VMDK descriptor", exc) from exc
        finally:
            handle.close()

    @classmethod
    def open(cls, stream: BinaryIO, siblings: Siblings, problems: list[str]) -> MediaStream:
        _refuse_split_extent(stream)
        pyvmdk = libyal("pyvmdk")
        handle = pyvmdk.handle()
        try:
            handle.open_file_object(stream)
            extents = [(d.filename or "", int(d.type)) for d in handle.extent_descriptors]
        except OSError as exc:
            raise _failed("VMDK descriptor", exc) from exc
        embedded = stream.seek(0) == 0 and stream.read(4) in (b"KDMV", b"COWD")
        files: list[IO[bytes]] = []
        for name, _ in extents:
            if embedded and len(extents) == 1:
                stream.seek(0)
                files.append(stream)
                continue
            try:
                files.append(siblings.open(name))
            except OSError as exc:
                for f in files:
                    if f is not stream:
                        f.close()
                raise not_examined(f"VMDK extent file {name!r} not opened: {exc}") from None
        try:
            handle.open_extent_data_files_as_file_objects(files)
        except OSError as exc:
            raise _failed("VMDK extent", exc) from exc
        _refuse_parent("VMDK delta disk", "parent", handle.get_parent_filename())
        return MediaStream(handle, int(handle.get_media_size()), tuple(files))


class Vhd(MediaFormat):
    NAME = "vhd"
    DESCRIPTION = "Microsoft VHD (dynamic, differencing) and VHDX"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return head[:8] in (b"conectix", b"vhdxfile")

    @classmethod
    def open(cls, stream: BinaryIO, siblings: Siblings, problems: list[str]) -> MediaStream:
        pyvhdi = libyal("pyvhdi")
        handle = pyvhdi.file()
        try:
            handle.open_file_object(stream)
        except OSError as exc:
            raise _failed("VHD/VHDX", exc) from exc
        _refuse_parent("differencing VHD", "parent", handle.get_parent_filename())
        return MediaStream(handle, int(handle.get_media_size()))


class Qcow(MediaFormat):
    NAME = "qcow"
    DESCRIPTION = "QEMU QCOW (versions 1 to 3)"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return head[:4] == b"QFI\xfb"

    @classmethod
    def open(cls, stream: BinaryIO, siblings: Siblings, problems: list[str]) -> MediaStream:
        pyqcow = libyal("pyqcow")
        handle = pyqcow.file()
        try:
            handle.open_file_object(stream)
        except OSError as exc:
            raise _failed("QCOW", exc) from exc
        if handle.is_locked():
            raise not_examined("encrypted QCOW image: no key for it")
        _refuse_parent("QCOW overlay", "backing file", handle.get_backing_filename())
        return MediaStream(handle, int(handle.get_media_size()))


MEDIA.register(Vmdk)
MEDIA.register(Vhd)
MEDIA.register(Qcow)
