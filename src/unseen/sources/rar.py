"""RAR archives (v4 and v5) through rarfile (optional extra ``archives``).

Listing and stored (uncompressed) members work in pure Python. Compressed members
need an external decompressor; only libarchive's ``bsdtar`` (Debian
``libarchive-tools``, in main) is used, and rarfile hands it a temporary copy of the
archive. Without it, such members are recorded as not readable.
"""

from __future__ import annotations

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

try:
    import rarfile
except ImportError:  # pragma: no cover - depends on the extra
    rarfile = None

MISSING = "RAR archive not read: install unseen[archives] (rarfile)"
NO_TOOL = "compressed RAR member not readable: needs bsdtar (Debian package libarchive-tools)"
_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, ValueError, LookupError)
if rarfile is not None:
    _ERRORS += (rarfile.Error,)


class RarReader(ContainerReader):
    NAME = "rar"
    DESCRIPTION = "RAR archive v4/v5 (rarfile; compressed members through bsdtar)"

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        if rarfile is None:
            raise EvidenceError(MISSING)
        try:
            self.rar = rarfile.RarFile(stream)
            self.infos = [i for i in self.rar.infolist() if not i.is_dir()]
        except rarfile.PasswordRequired as exc:
            raise EvidenceError(
                "encrypted: RAR archive with encrypted headers; members cannot be listed"
            ) from exc
        except rarfile.NeedFirstVolume as exc:
            raise EvidenceError("part of a multi-volume RAR set, not its first volume") from exc
        except _ERRORS as exc:
            raise EvidenceError(f"damaged RAR archive: {exc}") from exc

    @classmethod
    def sniff(cls, head: bytes, mime: str | None) -> bool:
        return head[:7] == b"Rar!\x1a\x07\x00" or head[:8] == b"Rar!\x1a\x07\x01\x00"

    def members(self, limits: Limits) -> Iterator[Member]:
        for index, info in enumerate(self.infos):
            shown, errors = member_path(info.filename or "")
            # RAR4 times are local times of an unknown zone: only zone-aware ones are kept.
            mtime = info.mtime.timestamp() if info.mtime and info.mtime.tzinfo else None
            entry = Entry(
                shown,
                ArchiveMember(index, info.filename or "").encode(),
                size=info.file_size,
                mtime=mtime,
                errors=errors,
            )
            yield Member(entry, packed=info.compress_size, encrypted=info.needs_password())

    def open_member(self, member: Address | bytes) -> BinaryIO:
        at = expect(member, ArchiveMember)
        index, name = at.index, at.name
        if index >= len(self.infos) or self.infos[index].filename != name:
            raise OSError("no such member in the RAR archive")
        info = self.infos[index]
        if info.needs_password():
            raise OSError(ENCRYPTED)
        try:
            if info.compress_type != rarfile.RAR_M0:
                rarfile.tool_setup(
                    unrar=False, unar=False, bsdtar=True, sevenzip=False, sevenzip2=False
                )
            return cast(BinaryIO, self.rar.open(info))
        except rarfile.RarCannotExec as exc:
            raise OSError(NO_TOOL) from exc
        except _ERRORS as exc:
            raise OSError(f"RAR member not readable: {exc}") from exc


CONTAINERS.register(RarReader)
