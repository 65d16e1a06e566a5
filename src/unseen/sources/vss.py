"""Volume shadow copies (VSS) of NTFS volumes, through libvshadow (dfvfs's reader).

Each snapshot ("store") is the whole volume as it was when it was taken; it is read
as a volume of its own (``sources.tsk``). What the examiner needs from it is what the
live volume no longer shows: a snapshot's file whose path, size and modification
time match the live volume's is the same file and is not listed again (a note per
snapshot says how many), every other one (deleted since, or changed) is an item
under ``<volume>/$VSS<N>/`` with ``snapshot`` N (1 = the oldest). Content identical
across snapshots is stored once by the case, by hash, like any duplicate.

Member addresses: ``s<fs offset>:<N>/<address>`` is the member ``address`` of
snapshot N of the NTFS volume at ``fs offset``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from unseen.sources.media import MediaStream, libyal, libyal_cause, not_examined

# The VSS catalog identifier NTFS volumes with shadow copies carry at 0x1e00.
GUID = bytes.fromhex("6b87083876c1484eb7ae04046e6cc752")
HEADER_AT = 0x1E00


def has_snapshots(head: bytes) -> bool:
    """Whether a volume starting with ``head`` (at least 8 KiB) has a VSS header."""
    return head[HEADER_AT : HEADER_AT + 16] == GUID


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One shadow copy: its number (1 = oldest), creation time, and the volume in it."""

    number: int
    created: str
    media: MediaStream | None
    problem: str | None = None


def snapshots(stream: BinaryIO) -> list[Snapshot]:
    """The shadow copies of the volume in ``stream``, oldest first.

    Raises:
        EvidenceError: the VSS catalog is damaged (not examined).
    """
    volume = libyal("pyvshadow").volume()
    try:
        volume.open_file_object(stream)
        count = int(volume.number_of_stores)
    except OSError as exc:
        raise not_examined(f"volume shadow copies damaged ({libyal_cause(exc)})") from None
    return [_one(volume, k) for k in range(count)]


def _one(volume: Any, k: int) -> Snapshot:
    try:
        store = volume.get_store(k)
        created = str(store.creation_time)
        return Snapshot(k + 1, created, MediaStream(store, int(store.volume_size)))
    except OSError as exc:
        problem = f"not examined: volume shadow copy {k + 1} not readable ({libyal_cause(exc)})"
        return Snapshot(k + 1, "", None, problem)
