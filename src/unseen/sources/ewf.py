"""EnCase E01 images through libewf (pyewf, optional extra ``disk``).

The media stream of an E01 is read like a raw disk image (``sources.tsk``), through
``sources.ewfread`` (zlib; EWF1, measured faster) where the layout allows and libewf
otherwise (EWF2 ``.Ex01`` images always). An E01
found inside other evidence is opened from its one stream: further segments
(``.E02``...) beside it are not looked for, and reads that need them fail with a
recorded error; add such a set as a source of its own. ``acquisition`` returns what
the examiner wrote at acquisition (case and evidence numbers, examiner, notes) and
the stored MD5/SHA-1 of the media, which ``unseen verify`` checks.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

from unseen.core.errors import EvidenceError
from unseen.core.locator import Address, DiskAddress, expect
from unseen.sources.containers import CONTAINERS, ContainerReader, Keys, Limits, Member
from unseen.sources.ewfread import EwfMedia, Unsupported
from unseen.sources.media import Siblings
from unseen.sources.streams import PositionalStream, binary

MAGIC = b"EVF\x09\x0d\x0a\xff\x00"
# EWF2 (EnCase 7 .Ex01): only libewf reads it; ``sources.ewfread`` knows EWF1 alone.
MAGIC2 = b"EVF2\x0d\x0a\x81\x00"


def is_ewf(head: bytes) -> bool:
    """An EWF1 (.E01) or EWF2 (.Ex01) segment."""
    return head[:8] in (MAGIC, MAGIC2)


MISSING = "E01 image not read: install unseen[disk] (libewf-python)"


def open_ewf(segments: list[IO[bytes]]) -> Any:
    """A pyewf handle over the segment streams, in order (E01, E02, ...).

    Raises:
        EvidenceError: pyewf is missing or the segments are not a readable E01 set.
    """
    try:
        import pyewf
    except ImportError as exc:
        raise EvidenceError(MISSING) from exc
    handle = pyewf.handle()
    try:
        handle.open_file_objects(segments)
    except OSError as exc:
        raise EvidenceError(f"E01 not readable (damaged or missing segments): {exc}") from exc
    return handle


class EwfStream(PositionalStream):
    """The acquired media of an E01, decompressed by libewf."""

    def __init__(self, handle: Any) -> None:
        super().__init__(int(handle.get_media_size()))
        self.handle = handle

    def _read_at(self, offset: int, n: int) -> bytes:
        try:
            return bytes(self.handle.read_buffer_at_offset(n, offset))
        except OSError as exc:
            raise OSError(f"E01 media not readable at byte {offset}: {exc}") from exc


def media_stream(segments: list[IO[bytes]]) -> PositionalStream:
    """The media of an E01 set: read with zlib where the layout allows, else by libewf."""
    segments[0].seek(0)
    ewf2 = segments[0].read(8) == MAGIC2
    segments[0].seek(0)
    try:
        if ewf2:
            raise Unsupported("EWF2: read by libewf")
        return EwfMedia(segments)
    except (Unsupported, struct.error, OSError):
        return EwfStream(open_ewf(segments))


def damage(media: PositionalStream) -> list[str]:
    """The problem to record when chunks of the media were damaged (read as zeros)."""
    chunks = sorted(getattr(media, "damaged", ()))
    if not chunks:
        return []
    shown = ", ".join(map(str, chunks[:20])) + (" ..." if len(chunks) > 20 else "")
    return [
        f"E01 damaged: {len(chunks)} chunks do not decompress or fail their checksum and "
        f"read as zeros (chunks {shown})"
    ]


def acquisition(handle: Any) -> dict[str, Any]:
    """Acquisition metadata and stored hashes of an opened E01."""
    headers = {k: v for k, v in handle.get_header_values().items() if v}
    hashes = {k.lower(): v.lower() for k, v in handle.get_hash_values().items() if v}
    return {
        "format": "EnCase E01",
        "case_number": headers.get("case_number"),
        "evidence_number": headers.get("evidence_number"),
        "examiner": headers.get("examiner_name"),
        "description": headers.get("description"),
        "notes": headers.get("notes"),
        "acquired": headers.get("acquiry_date"),
        "media_size": int(handle.get_media_size()),
        "stored_hashes": hashes,
        "headers": headers,
    }


class EwfReader(ContainerReader):
    NAME = "ewf"
    DESCRIPTION = "EnCase E01 image found inside other evidence (libewf, The Sleuth Kit)"
    BOMB_LIMITS = False

    def __init__(
        self,
        stream: BinaryIO,
        more: tuple[IO[bytes], ...] = (),
        keys: dict[str, str] | None = None,
    ) -> None:
        """Read the E01 in ``stream``, followed by segments ``more`` (E02...) if given."""
        super().__init__(stream)
        try:
            from unseen.sources.tsk import TskDisk
        except ImportError as exc:
            raise EvidenceError("disk image not read: install unseen[disk] (pytsk3)") from exc
        self.media = media_stream([stream, *more])
        self.disk = TskDisk(binary(self.media), keys)

    @classmethod
    def sniff(cls, head: bytes, mime: str | None) -> bool:
        return is_ewf(head)

    @classmethod
    def open_with(
        cls, stream: BinaryIO, siblings: Siblings | None, keys: Keys | None = None
    ) -> ContainerReader:
        return cls(stream, (), dict(keys or {}))

    def members(self, limits: Limits) -> Iterator[Member]:
        try:
            yield from self.disk.members(limits)
        finally:
            self.errors.extend(self.disk.errors)
            self.errors.extend(damage(self.media))

    def open_member(self, member: Address | bytes) -> BinaryIO:
        return self.disk.open_member(expect(member, DiskAddress))


CONTAINERS.register(EwfReader)
