"""ZIP and TAR (plain, gzip, bzip2, xz) archives, read with the standard library.

Members are addressed by ``ArchiveMember(index, name)`` (ZIP, central-directory order)
and ``TarMember(header offset, name)`` (TAR), so members sharing a name stay distinct;
the name is checked again on opening. Nothing is extracted: members are streamed.
"""

from __future__ import annotations

import bz2
import io
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO, cast

from unseen.core.errors import EvidenceError, WrongFormat
from unseen.core.locator import Address, ArchiveMember, TarMember, expect
from unseen.core.models import Entry
from unseen.sources.containers import (
    CONTAINERS,
    ENCRYPTED,
    ContainerReader,
    Limits,
    Member,
    member_path,
)

_S_IFMT, _S_IFLNK = 0o170000, 0o120000
_UT_EXTRA = 0x5455  # "extended timestamp" extra field: UTC Unix times


def _zip_mtime(extra: bytes) -> float | None:
    """The UTC modification time from a ZIP member's extended-timestamp field.

    Plain ZIP times are local times of an unknown zone, so only this field is used.
    """
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if tag == _UT_EXTRA and len(body) >= 5 and body[0] & 1:
            return float(struct.unpack_from("<i", body, 1)[0])
        pos += 4 + size
    return None


# What zipfile raises on a damaged member, opening or reading it.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, ValueError, struct.error)


class ZipReader(ContainerReader):
    NAME = "zip"
    DESCRIPTION = "ZIP archive (stored, deflate, bzip2, lzma members)"

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        try:
            self.zip = zipfile.ZipFile(stream)
        except zipfile.BadZipFile as exc:
            raise EvidenceError(f"damaged ZIP archive: {exc}") from exc
        self.infos = self.zip.infolist()

    @classmethod
    def sniff(cls, head: bytes, mime: str | None) -> bool:
        # Local header, or an empty archive's end record.
        return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")

    def members(self, limits: Limits) -> Iterator[Member]:
        for index, info in enumerate(self.infos):
            if info.filename.endswith("/"):  # is_dir() fails on an empty name
                continue
            shown, errors = member_path(info.filename)
            kind = "file"
            if (info.external_attr >> 16) & _S_IFMT == _S_IFLNK:
                kind = "symlink"
                errors += ("symbolic link stored as a member; not followed",)
            entry = Entry(
                shown,
                ArchiveMember(index, info.filename).encode(),
                kind=kind,
                size=info.file_size,
                mtime=_zip_mtime(info.extra),
                errors=errors,
            )
            yield Member(entry, packed=info.compress_size, encrypted=bool(info.flag_bits & 1))

    def open_member(self, member: Address | bytes) -> BinaryIO:
        at = expect(member, ArchiveMember)
        index, name = at.index, at.name
        if index >= len(self.infos) or self.infos[index].filename != name:
            raise OSError("no such member in the ZIP archive")
        info = self.infos[index]
        if info.flag_bits & 1:
            raise OSError(ENCRYPTED)
        try:
            return guarded(cast(BinaryIO, self.zip.open(info)), _ZIP_ERRORS, "ZIP")
        except NotImplementedError as exc:
            raise OSError(f"unsupported ZIP compression: {exc}") from exc
        except _ZIP_ERRORS as exc:  # a local header pointing anywhere: a bad seek
            raise OSError(f"damaged ZIP member: {exc}") from exc


def _inflate_head(head: bytes) -> bytes:
    """The first bytes of a gzip, xz or bzip2 stream, decompressed as far as it goes."""
    try:
        if head[:2] == b"\x1f\x8b":
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 1024)
        if head[:6] == b"\xfd7zXZ\x00":
            return lzma.LZMADecompressor().decompress(head, 1024)
        if head[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(head, 1024)
    except (zlib.error, lzma.LZMAError, OSError, EOFError):
        return b""
    return head


def _is_tar_header(block: bytes) -> bool:
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    try:  # old (v7) tar: only the header checksum tells
        stored = int(block[148:156].split(b"\x00")[0].strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(block[:148]) + 8 * 32 + sum(block[156:512])


_TAR_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


class TarReader(ContainerReader):
    NAME = "tar"
    DESCRIPTION = "TAR archive, plain or compressed with gzip, bzip2 or xz"

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        try:
            self.tar = tarfile.open(fileobj=stream, mode="r:*")  # noqa: SIM115 - kept open
        except tarfile.ReadError as exc:
            raise WrongFormat(f"not a TAR archive: {exc}") from exc
        except _TAR_ERRORS as exc:
            raise EvidenceError(f"damaged TAR archive: {exc}") from exc

    @classmethod
    def sniff(cls, head: bytes, mime: str | None) -> bool:
        plain = _inflate_head(head)
        if plain is not head and not plain and head[:3] == b"BZh":
            # bzip2 gives nothing before a whole block (up to 900 kB): look inside.
            return True
        return _is_tar_header(plain[:512])

    def members(self, limits: Limits) -> Iterator[Member]:
        """Members with their packed size: how far the compressed stream advanced
        between one member's header and the next (TAR states no compressed sizes, and a
        compressed TAR must not escape the bomb limits), so each member is yielded once
        the next header has been read. Decompressors read ahead, so this over-states
        what a member took (the ratio is under-stated: never a false bomb)."""
        count, held, start, last = 0, None, 0, 0
        while True:
            try:
                info = self.tar.next()
            except _TAR_ERRORS as exc:
                self.errors.append(f"TAR archive damaged after {count} members: {exc}")
                if held is not None:
                    yield Member(self._entry(held))
                return
            now = self.stream.tell()
            if held is not None:
                yield Member(self._entry(held), packed=max(now - start, 1))
            if info is None:
                return
            start, last = last, now  # from before this member's header was read
            cast(Any, self.tar).members.clear()  # listed once, not kept (millions of members)
            count += 1
            held = info if not info.isdir() else None

    def _entry(self, info: tarfile.TarInfo) -> Entry:
        shown, errors = member_path(info.name)
        kind, target = "file", None
        if info.issym():
            kind, target = "symlink", info.linkname
            errors += (f"symbolic link not followed (points to {info.linkname!r})",)
        elif info.islnk():
            kind, target = "other", info.linkname
            errors += (f"hard link to member {info.linkname!r}; its content is listed there",)
        elif not info.isreg():
            kind = "other"
            errors += ("not a regular file (device or FIFO); no content",)
        return Entry(
            shown,
            TarMember(info.offset, info.name).encode(),
            kind=kind,
            size=info.size if kind == "file" else None,
            mtime=float(info.mtime),
            link_target=target,
            errors=errors,
        )

    def open_member(self, member: Address | bytes) -> BinaryIO:
        at = expect(member, TarMember)
        offset, name = at.offset, at.name
        try:
            cast(BinaryIO, self.tar.fileobj).seek(offset)
            info = tarfile.TarInfo.fromtarfile(self.tar)
            stream = self.tar.extractfile(info) if info.name == name else None
        except _TAR_ERRORS as exc:
            raise OSError(f"damaged TAR member: {exc}") from exc
        if stream is None:
            raise OSError("no such regular file in the TAR archive")
        return guarded(cast(BinaryIO, stream), _TAR_ERRORS, "TAR")


class _GuardedMember(io.RawIOBase):
    """A member's content whose damage reads as ``OSError``, as readers promise.

    zipfile and tarfile raise their own errors, EOFError, zlib or lzma errors from a
    member's ``read`` when the archive is truncated or corrupt; a caller that records
    OSError as "cannot read" would otherwise see them escape (a truncated .tar.gz or a
    ZIP member with a bad CRC stopped a whole run).
    """

    def __init__(self, inner: BinaryIO, errors: tuple[type[Exception], ...], what: str) -> None:
        super().__init__()
        self._inner, self._errors, self._what = inner, errors, what

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._inner.read(len(buffer))
        except self._errors as exc:
            raise OSError(f"damaged {self._what} member: {exc}") from exc
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            return self._inner.seek(offset, whence)
        except self._errors as exc:
            raise OSError(f"damaged {self._what} member: {exc}") from exc

    def tell(self) -> int:
        return self._inner.tell()

    def close(self) -> None:
        self._inner.close()
        super().close()


def guarded(stream: BinaryIO, errors: tuple[type[Exception], ...], what: str) -> BinaryIO:
    """``stream`` buffered, with read and seek errors of ``errors`` turned into OSError."""
    return cast(BinaryIO, io.BufferedReader(_GuardedMember(stream, errors, what)))


CONTAINERS.register(ZipReader)
CONTAINERS.register(TarReader)
