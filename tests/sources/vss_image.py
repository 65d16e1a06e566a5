"""An NTFS volume with one volume shadow copy, written by code, for tests.

No tool here takes shadow copies (Windows' VSS service does), so the on-disk
structures are laid out as libvshadow's format notes describe them: the volume
header at 0x1e00, one catalog block (entries of type 2 and 3), the store header with
its information, one store block list mapping every 16 KiB block that differs
between the snapshot's volume and the live one to a copy of the old block, an empty
block range list and a current bitmap with no block flagged. Everything the store
adds is written into a region that is free in the live volume's own ``$Bitmap``, so
the live file system is unchanged.
"""

from __future__ import annotations

import struct
import uuid

GUID = bytes.fromhex("6b87083876c1484eb7ae04046e6cc752")
BLOCK = 0x4000
HEADER_AT = 0x1E00
CREATED = 133_443_936_000_000_000  # 2023-11-14 00:00:00 UTC, as a Windows FILETIME


def _id(n: int) -> bytes:
    return uuid.UUID(int=n * 0x0101010101010101).bytes_le


def _block_header(kind: int, relative: int, current: int, info_size: int = 0) -> bytes:
    return GUID + struct.pack("<IIQQQQ", 1, kind, relative, current, 0, info_size) + bytes(72)


def free_region(volume: bytes, blocks: int) -> int:
    """A 16 KiB-aligned offset where the NTFS ``volume`` is unallocated for ``blocks``
    blocks, from its own ``$Bitmap`` (read with pytsk3)."""
    import pytsk3

    from unseen.sources.unalloc import unallocated

    class Image(pytsk3.Img_Info):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

        def read(self, offset: int, n: int) -> bytes:
            return volume[offset : offset + n]

        def get_size(self) -> int:
            return len(volume)

    ranges = unallocated(pytsk3.FS_Info(Image()), lambda o, n: volume[o : o + n], 0) or []
    for start, length in ranges:
        first = -(-start // BLOCK) * BLOCK
        if first + blocks * BLOCK <= start + length:
            return first
    raise ValueError("no free region large enough for the store")


def with_snapshot(old: bytes, live: bytes, free_at: int) -> bytes:
    """``live`` with one shadow copy holding ``old`` (both the same volume, same size).

    ``free_at``: a 16 KiB-aligned offset from which the live volume is unallocated
    for as many blocks as the store needs (its metadata and the old blocks).
    """
    assert len(old) == len(live) and free_at % BLOCK == 0
    changed = [
        at
        for at in range(0, len(live), BLOCK)
        if old[at : at + BLOCK] != live[at : at + BLOCK] and at // BLOCK != 0
    ]
    # Block 0 holds the VSS volume header itself: the snapshot's copy of it is the live one.
    catalog, header, block_list, ranges, bitmap = (free_at + k * BLOCK for k in range(5))
    data_at = free_at + 5 * BLOCK
    assert data_at + len(changed) * BLOCK <= len(live), "not enough free space for the store"
    out = bytearray(live)

    volume = GUID + struct.pack("<IIQQQQQ", 1, 1, HEADER_AT, HEADER_AT, 0, catalog, 0)
    volume += _id(1) + _id(2)
    out[HEADER_AT : HEADER_AT + len(volume)] = volume

    entry2 = struct.pack("<QQ", 2, len(live)) + _id(3)
    entry2 += struct.pack("<QQQ", 1, 0x40, CREATED)
    entry3 = struct.pack("<QQ", 3, block_list) + _id(3)
    entry3 += struct.pack("<QQQQQQQ", header, ranges, bitmap, 0, 5 * BLOCK, 0, 0)
    block = _block_header(2, 0, catalog) + entry2.ljust(128, b"\0") + entry3.ljust(128, b"\0")
    out[catalog : catalog + BLOCK] = block.ljust(BLOCK, b"\0")

    machine = "EVIDENCE-PC".encode("utf-16-le")
    info = _id(4) + _id(5) + _id(6) + struct.pack("<IIII", 0x0D, 1, 0x0042000D, 0)
    info += struct.pack("<H", len(machine)) + machine + struct.pack("<H", len(machine)) + machine
    block = _block_header(4, 0, header, len(info)) + info
    out[header : header + BLOCK] = block.ljust(BLOCK, b"\0")

    descriptors = b"".join(
        struct.pack("<QQQII", at, data_at - free_at + k * BLOCK, data_at + k * BLOCK, 0, 0)
        for k, at in enumerate(changed)
    )
    assert 128 + len(descriptors) <= BLOCK, "more changed blocks than one list block holds"
    block = _block_header(3, block_list - free_at, block_list) + descriptors
    out[block_list : block_list + BLOCK] = block.ljust(BLOCK, b"\0")
    block = _block_header(5, ranges - free_at, ranges)
    out[ranges : ranges + BLOCK] = block.ljust(BLOCK, b"\0")
    block = _block_header(6, bitmap - free_at, bitmap)
    out[bitmap : bitmap + BLOCK] = block.ljust(BLOCK, b"\0")

    for k, at in enumerate(changed):
        out[data_at + k * BLOCK : data_at + (k + 1) * BLOCK] = old[at : at + BLOCK]
    return bytes(out)
