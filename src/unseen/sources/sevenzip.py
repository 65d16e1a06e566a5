"""7z archives through py7zr (optional extra ``archives``).

An archive whose headers are encrypted cannot even be listed: that is recorded on
the archive. Encrypted members of a listable archive are listed and flagged. A member
is decompressed into a spool (memory, then an anonymous temporary file) when opened;
members of a solid block are decompressed from the block's start each time.
"""

from __future__ import annotations

import lzma
import tempfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO, cast

from unseen.core.errors import EvidenceError
from unseen.core.locator import Address, ArchiveMember, expect
from unseen.core.models import Entry
from unseen.sources.containers import (
    CONTAINERS,
    ENCRYPTED,
    ContainerReader,
    Limits,
    Member,
    member_path,
)
from unseen.sources.streams import SPOOL_MEMORY

try:
    import py7zr
    from py7zr.exceptions import ArchiveError, PasswordRequired
    from py7zr.io import Py7zIO, WriterFactory
except ImportError:  # pragma: no cover - depends on the extra
    py7zr = None  # type: ignore[assignment]

MAGIC = b"7z\xbc\xaf\x27\x1c"
MISSING = "7z archive not read: install unseen[archives] (py7zr)"
# Anything py7zr raises on hostile input that is not a bug of ours.
_ERRORS: tuple[type[BaseException], ...] = (
    EOFError,
    OSError,
    ValueError,
    LookupError,
    lzma.LZMAError,  # a corrupt LZMA/LZMA2 stream, raised from extract (found by fuzzing)
    zlib.error,
)
if py7zr is not None:
    _ERRORS += (ArchiveError, PasswordRequired)


class SevenZipReader(ContainerReader):
    NAME = "7z"
    DESCRIPTION = "7z archive (py7zr)"

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        if py7zr is None:
            raise EvidenceError(MISSING)
        try:
            self.archive = py7zr.SevenZipFile(stream, "r")
            self.encrypted = self.archive.needs_password()
            self.infos = [i for i in self.archive.list() if not i.is_directory]
        except PasswordRequired as exc:
            raise EvidenceError(
                "encrypted: 7z archive with encrypted headers; members cannot be listed"
            ) from exc
        except _ERRORS as exc:
            raise EvidenceError(f"damaged 7z archive: {exc}") from exc

    @classmethod
    def sniff(cls, head: bytes, mime: str | None) -> bool:
        return head[:6] == MAGIC

    def members(self, limits: Limits) -> Iterator[Member]:
        for index, info in enumerate(self.infos):
            shown, errors = member_path(info.filename)
            mtime = info.creationtime.timestamp() if info.creationtime else None
            entry = Entry(
                shown,
                ArchiveMember(index, info.filename).encode(),
                size=info.uncompressed,
                mtime=mtime,
                errors=errors,
            )
            # Members of a solid block after the first have no packed size of their own.
            yield Member(entry, packed=info.compressed, encrypted=self.encrypted)

    def open_member(self, member: Address | bytes) -> BinaryIO:
        at = expect(member, ArchiveMember)
        index, name = at.index, at.name
        if index >= len(self.infos) or self.infos[index].filename != name:
            raise OSError("no such member in the 7z archive")
        if self.encrypted:
            raise OSError(ENCRYPTED)
        factory = _SpoolFactory(self.infos[index].uncompressed or 0)
        try:
            self.archive.reset()
            self.archive.extract(targets=[name], factory=factory)
        except _ERRORS as exc:
            raise OSError(f"7z member not readable: {exc}") from exc
        spool = factory.spools.get(name)
        if spool is None:
            raise OSError("7z member not found while decompressing")
        spool.file.seek(0)
        return cast(BinaryIO, spool.file)


if py7zr is not None:

    class _Spool(Py7zIO):
        """Where py7zr writes one member: bounded by the member's declared size."""

        def __init__(self, limit: int) -> None:
            self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115
            self.limit = limit
            self.written = 0

        def write(self, s: bytes | bytearray) -> int:
            self.written += len(s)
            if self.written > self.limit:
                raise OSError("member expands past its declared size")
            return self.file.write(s)

        def read(self, size: int | None = None) -> bytes:
            return self.file.read(-1 if size is None else size)

        def seek(self, offset: int, whence: int = 0) -> int:
            return self.file.seek(offset, whence)

        def flush(self) -> None:
            self.file.flush()

        def size(self) -> int:
            return self.written

    class _SpoolFactory(WriterFactory):
        def __init__(self, limit: int) -> None:
            self.limit = limit
            self.spools: dict[str, _Spool] = {}

        def create(self, filename: str) -> Py7zIO:
            spool = self.spools[filename] = _Spool(self.limit)
            return spool


CONTAINERS.register(SevenZipReader)
