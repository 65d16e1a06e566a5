"""Where a file system's unallocated space lies, from its own allocation map.

pytsk3 has no block walk, so each map is read directly: the FAT (FAT12/16/32), the
``$Bitmap`` file (NTFS), the allocation file (HFS+) and the block bitmaps of the block
groups (ext2/3/4). The result is a list of ``(offset, length)`` byte ranges, absolute
in the image, merged where consecutive. Other file systems have no map here: their space
is not carved.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Literal

import numpy as np
import pytsk3

Read = Callable[[int, int], bytes]
Ranges = list[tuple[int, int]]
_CHUNK = 16 * 1024 * 1024
# Bitmaps larger than this many bytes are not read (a 128 TB volume at 4 KiB clusters).
_MAX_BITMAP = 4 * 1024**3


def unallocated(fs: pytsk3.FS_Info, read: Read, fs_offset: int) -> Ranges | None:
    """Unallocated byte ranges of the file system at ``fs_offset``; None if unsupported."""
    ftype = int(fs.info.ftype)
    if ftype & int(pytsk3.TSK_FS_TYPE_FAT_DETECT) and ftype != int(pytsk3.TSK_FS_TYPE_EXFAT):
        return _fat(read, fs_offset)
    if ftype == int(pytsk3.TSK_FS_TYPE_NTFS):
        return _ntfs(fs, fs_offset)
    if ftype & int(pytsk3.TSK_FS_TYPE_EXT_DETECT):
        return _ext(read, fs_offset)
    if ftype & int(pytsk3.TSK_FS_TYPE_HFS_DETECT):
        return _bitmap(fs, fs_offset, _HFS_ALLOCATION, "big")
    return None


def runs(free: np.ndarray, first: int, unit: int, base: int) -> Ranges:
    """Byte ranges of the runs of True in ``free`` (element i is unit ``first + i``)."""
    flags = np.concatenate(([False], free.astype(bool), [False]))
    edges = np.flatnonzero(flags[1:] != flags[:-1])
    return [
        (base + (first + int(a)) * unit, (int(b) - int(a)) * unit)
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def _fat(read: Read, base: int) -> Ranges:
    bpb = read(base, 512)
    bps, spc, reserved, nfats, root_entries, total16 = struct.unpack_from("<HBHBHH", bpb, 11)
    fat16_size, total32, fat32_size = (
        struct.unpack_from("<H", bpb, 22)[0],
        struct.unpack_from("<I", bpb, 32)[0],
        struct.unpack_from("<I", bpb, 36)[0],
    )
    if not bps or not spc:
        return []
    fat_sectors = fat16_size or fat32_size
    root_sectors = (root_entries * 32 + bps - 1) // bps
    data_sector = reserved + nfats * fat_sectors + root_sectors
    clusters = ((total16 or total32) - data_sector) // spc
    fat = _read_all(read, base + reserved * bps, fat_sectors * bps)
    if clusters < 4085:  # FAT12: 12-bit entries, two in three bytes
        raw = np.frombuffer(fat[: (len(fat) // 3) * 3], dtype=np.uint8).reshape(-1, 3)
        even = raw[:, 0].astype(np.uint16) | ((raw[:, 1].astype(np.uint16) & 0x0F) << 8)
        odd = (raw[:, 1].astype(np.uint16) >> 4) | (raw[:, 2].astype(np.uint16) << 4)
        entries = np.stack([even, odd], axis=1).reshape(-1)
    elif clusters < 65525:
        entries = np.frombuffer(fat[: len(fat) // 2 * 2], dtype="<u2")
    else:
        entries = np.frombuffer(fat[: len(fat) // 4 * 4], dtype="<u4") & 0x0FFFFFFF
    free = entries[2 : clusters + 2] == 0
    # Cluster 2 is the first of the data region.
    return runs(free, 0, spc * bps, base + data_sector * bps)


_HFS_ALLOCATION = 6  # catalog node id of HFS+'s allocation file: one bit a block, MSB first


def _ntfs(fs: pytsk3.FS_Info, base: int) -> Ranges:
    return _bitmap(fs, base, 6, "little")  # $Bitmap: one bit per cluster, LSB first


def _bitmap(fs: pytsk3.FS_Info, base: int, inode: int, order: Literal["big", "little"]) -> Ranges:
    """Free ranges from an allocation bitmap kept as a file of the file system."""
    bitmap_file = fs.open_meta(inode=inode)
    size = min(int(bitmap_file.info.meta.size), _MAX_BITMAP)
    data = b"".join(
        bitmap_file.read_random(at, min(_CHUNK, size - at)) for at in range(0, size, _CHUNK)
    )
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder=order)
    clusters = int(fs.info.block_count)
    return runs(bits[:clusters] == 0, 0, int(fs.info.block_size), base)


def _ext(read: Read, base: int) -> Ranges:
    sb = read(base + 1024, 1024)
    blocks_lo, first_data = struct.unpack_from("<I", sb, 4)[0], struct.unpack_from("<I", sb, 20)[0]
    block = 1024 << struct.unpack_from("<I", sb, 24)[0]
    per_group = struct.unpack_from("<I", sb, 32)[0]
    wide = bool(struct.unpack_from("<I", sb, 0x60)[0] & 0x80)  # INCOMPAT_64BIT
    desc_size = struct.unpack_from("<H", sb, 0xFE)[0] if wide else 32
    blocks = blocks_lo | (struct.unpack_from("<I", sb, 0x150)[0] << 32 if wide else 0)
    if not per_group or desc_size < 32:
        return []
    groups = (blocks - first_data + per_group - 1) // per_group
    table = _read_all(read, base + (first_data + 1) * block, groups * desc_size)
    found: Ranges = []
    for g in range(groups):
        desc = table[g * desc_size : (g + 1) * desc_size]
        if len(desc) < 32:
            break
        first = first_data + g * per_group
        count = min(per_group, blocks - first)
        if struct.unpack_from("<H", desc, 0x12)[0] & 0x2:  # BLOCK_UNINIT: never used
            free = np.ones(count, dtype=bool)
        else:
            where = struct.unpack_from("<I", desc, 0)[0]
            if wide and desc_size >= 64:
                where |= struct.unpack_from("<I", desc, 0x20)[0] << 32
            bits = np.unpackbits(
                np.frombuffer(read(base + where * block, block), dtype=np.uint8),
                bitorder="little",
            )
            free = bits[:count] == 0
        found.extend(runs(free, first, block, base))
    return _merge(found)


def _merge(ranges: Ranges) -> Ranges:
    merged: Ranges = []
    for start, length in ranges:
        if merged and merged[-1][0] + merged[-1][1] == start:
            merged[-1] = (merged[-1][0], merged[-1][1] + length)
        else:
            merged.append((start, length))
    return merged


def _read_all(read: Read, offset: int, length: int) -> bytes:
    length = min(length, _MAX_BITMAP)
    return b"".join(
        read(at, min(_CHUNK, offset + length - at))
        for at in range(offset, offset + length, _CHUNK)
    )
