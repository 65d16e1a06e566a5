"""Read-only streams for container members: positional views and spools.

``PositionalStream`` turns a ``read_at(offset, n)`` (a TSK file, libewf media, a slice
of an image) into a seekable stream; ``random_access`` gives a stream that is cheap
to seek, copying a compressed member to a spool when needed.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from typing import IO, BinaryIO, cast

# Member streams that are cheap to seek are read in place; others (compressed archive
# members) are copied to memory, then to an anonymous temporary file past this size.
SPOOL_MEMORY = 16 * 1024 * 1024


class PositionalStream(io.RawIOBase):
    """A read-only stream of known size over ``_read_at``; cheap to seek."""

    cheap_seek = True

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size, self._pos = size, 0

    def _read_at(self, offset: int, n: int) -> bytes:
        raise NotImplementedError

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.size - self._pos)
        if n <= 0:
            return 0
        data = self._read_at(self._pos, n)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def binary(stream: io.RawIOBase | IO[bytes]) -> BinaryIO:
    """A read-only stream typed as the ``BinaryIO`` sources hand out."""
    return cast(BinaryIO, stream)


class Slice(PositionalStream):
    """``length`` bytes of a seekable stream from ``start`` (e.g. a carved file)."""

    def __init__(self, stream: IO[bytes], start: int, length: int) -> None:
        super().__init__(length)
        self._stream, self._start = stream, start

    def _read_at(self, offset: int, n: int) -> bytes:
        self._stream.seek(self._start + offset)
        return self._stream.read(n)


def random_access(stream: IO[bytes]) -> BinaryIO:
    """``stream`` (from its start) when seeking it is cheap, else a temporary copy of it.

    A compressed member seeks backwards by decompressing again from its start;
    containers inside it (a zip's central directory, a disk image's tables) seek a
    lot, so they are read from a copy: in memory up to ``SPOOL_MEMORY``, beyond it in
    an anonymous temporary file (deleted on close; never named after the member).
    """
    cheap = getattr(stream, "cheap_seek", False)
    if cheap or isinstance(stream, io.FileIO | io.BytesIO | tempfile.SpooledTemporaryFile):
        stream.seek(0)
        return cast(BinaryIO, stream)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 - returned
    try:
        stream.seek(0)
        shutil.copyfileobj(stream, spool, 1024 * 1024)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return cast(BinaryIO, spool)


_NOATIME = getattr(os, "O_NOATIME", 0)


def open_readonly(path: str | os.PathLike[str]) -> io.FileIO:
    """``path`` opened for reading only, without updating its access time if allowed."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | _NOATIME)
    except PermissionError:  # O_NOATIME needs ownership of the file
        fd = os.open(path, flags)
    return io.FileIO(fd, "rb", closefd=True)
