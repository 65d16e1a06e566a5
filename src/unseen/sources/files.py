"""Evidence given as one file (or a segment set): archives, raw disk images, E01 images.

Each is recognised by its content. The file (every segment) is opened read-only,
with ``O_NOATIME`` where allowed, and read through a container reader; the locators
of its entries are the reader's member addresses, escaped (``core.locator.Root``).
Split raw images are named ``<name>.001``, ``.002``...;
E01 sets are found by libewf (``.E01``, ``.E02``...).
"""

from __future__ import annotations

import bisect
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from unseen.core.errors import EvidenceError, UnseenError
from unseen.core.locator import Root
from unseen.core.models import Entry, SourceSpec
from unseen.sources.base import SOURCES, Source
from unseen.sources.containers import ContainerReader, Limits, find_reader, listed, located
from unseen.sources.crypt import find_crypt
from unseen.sources.disk import DiskReader, sniff_disk
from unseen.sources.ewf import EwfReader, is_ewf
from unseen.sources.media import find_media
from unseen.sources.streams import PositionalStream, binary, open_readonly

HEAD = 64 * 1024
ARCHIVES = ("zip", "tar", "7z", "rar")


def head_of(path: Path) -> bytes:
    try:
        with open_readonly(path) as f:
            return f.read(HEAD)
    except OSError:
        return b""


def raw_segments(path: Path) -> list[Path]:
    """The segments of a split raw image given its first (``x.001``), else ``[path]``."""
    found = re.fullmatch(r"(.*)\.(\d{3,})", path.name)
    if not found or int(found[2]) != 1:
        return [path]
    stem, width = found[1], len(found[2])
    segments: list[Path] = []
    while (seg := path.with_name(f"{stem}.{len(segments) + 1:0{width}d}")).is_file():
        segments.append(seg)
    return segments


def ewf_segments(path: Path) -> list[Path]:
    """The segments of an E01 set (found by libewf), else ``[path]``."""
    try:
        import pyewf

        return [Path(p) for p in pyewf.glob(str(path))] or [path]
    except (ImportError, OSError):
        return [path]


class Concat(PositionalStream):
    """Segment files read as one stream (split raw images)."""

    def __init__(self, files: list[io.FileIO]) -> None:
        sizes = [os.fstat(f.fileno()).st_size for f in files]
        self._starts = [sum(sizes[:i]) for i in range(len(sizes))]
        self._files = files
        super().__init__(sum(sizes))

    def _read_at(self, offset: int, n: int) -> bytes:
        out = bytearray()
        while n > 0 and offset < self.size:
            i = bisect.bisect_right(self._starts, offset) - 1
            f = self._files[i]
            f.seek(offset - self._starts[i])
            data = f.read(n)
            if not data:
                break
            out += data
            offset += len(data)
            n -= len(data)
        return bytes(out)


class FileContainerSource(Source):
    """A source that is one container read by a ``ContainerReader``."""

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        self._reader: ContainerReader | None = None
        self._files: list[io.FileIO] = []

    def segments(self) -> list[Path]:
        """The evidence files, in order."""
        return [Path(self.spec.path)]

    def _make_reader(self, files: list[io.FileIO]) -> ContainerReader:
        raise NotImplementedError

    @property
    def reader(self) -> ContainerReader:
        if self._reader is None:
            self._files = [open_readonly(p) for p in self.segments()]
            self._reader = self._make_reader(self._files)
        return self._reader

    def entries(self) -> Iterator[Entry]:
        problems: list[str] = []
        try:
            reader = self.reader
            limits = Limits.from_settings(self.settings)
            for entry in listed(reader, limits):
                yield located(entry, reader.NAME, None)
            problems = reader.errors
        except UnseenError as exc:
            problems = [str(exc), *(self._reader.errors if self._reader else [])]
        except Exception as exc:  # hostile evidence: recorded on the source, never a crash
            problems = [f"listing stopped: {exc.__class__.__name__}: {exc}"]
            problems += self._reader.errors if self._reader else []
        if problems:
            yield Entry(".", b"", kind="other", errors=tuple(problems))

    def _open_top(self, locator: bytes) -> BinaryIO:
        if not locator:
            raise OSError("the evidence itself has no content item")
        return self.reader.open_member(Root(locator).member(self.reader.NAME))

    def close(self) -> None:
        super().close()
        self._reader = None
        for f in self._files:
            f.close()
        self._files = []


class ArchiveSource(FileContainerSource):
    NAME = "archive"
    DESCRIPTION = "an archive file: ZIP, 7z, TAR (plain, gzip, bzip2, xz), RAR"

    @classmethod
    def detect(cls, path: Path) -> bool:
        found = find_reader(head_of(path), None) if path.is_file() else None
        return found is not None and found.NAME in ARCHIVES

    def _make_reader(self, files: list[io.FileIO]) -> ContainerReader:
        found = find_reader(files[0].read(HEAD), None)
        if found is None or found.NAME not in ARCHIVES:
            raise EvidenceError("no longer recognised as an archive")
        files[0].seek(0)
        return found(files[0])


class RawImageSource(FileContainerSource):
    NAME = "raw"
    DESCRIPTION = (
        "a raw disk or file-system image (.dd/.raw/.img, split .001/.002...), or one "
        "encrypted volume (LUKS, BitLocker)"
    )

    @classmethod
    def detect(cls, path: Path) -> bool:
        if not path.is_file():
            return False
        head = head_of(path)
        if sniff_disk(head) or find_crypt(head) is not None:
            return True
        return find_media(head) is None and _tsk_probe(path)

    def segments(self) -> list[Path]:
        return raw_segments(Path(self.spec.path))

    def _make_reader(self, files: list[io.FileIO]) -> ContainerReader:
        stream = binary(Concat(files)) if len(files) > 1 else files[0]
        return DiskReader(stream, dict(self.spec.keys))


class EwfSource(FileContainerSource):
    NAME = "ewf"
    DESCRIPTION = "an EnCase E01 or Ex01 image with its segments (libewf)"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_file() and is_ewf(head_of(path))

    def segments(self) -> list[Path]:
        return ewf_segments(Path(self.spec.path))

    def _make_reader(self, files: list[io.FileIO]) -> ContainerReader:
        return EwfReader(files[0], tuple(files[1:]), dict(self.spec.keys))


def _tsk_probe(path: Path) -> bool:
    """Whether TSK finds a partition table or file system the signatures missed."""
    try:
        import pytsk3
    except ImportError:
        return False
    try:
        img = pytsk3.Img_Info(str(path))
    except OSError:
        return False
    for probe in (pytsk3.Volume_Info, pytsk3.FS_Info):
        try:
            probe(img)
            return True
        except OSError:
            continue
    return False


SOURCES.register(EwfSource)
SOURCES.register(ArchiveSource)
SOURCES.register(RawImageSource)
