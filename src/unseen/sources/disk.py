"""Disk and file-system images (optional extra ``disk``: pytsk3, The Sleuth Kit).

Partition tables (MBR, GPT, ...) and every file system TSK reads (FAT, exFAT, NTFS,
ext2/3/4, HFS+, ISO 9660...). Listed: every allocated file; every deleted file whose
name survives (``deleted``), read from its old clusters where TSK can; NTFS alternate
data streams as ``file:stream``; and JPEG/PNG/GIF carved from each file system's
unallocated space (``carved``, with their image offset). File-system metadata files
(FAT tables, NTFS ``$MFT``, HFS+ ``$CatalogFile``...) are not listed. The work is
done in ``sources.tsk``. Where TSK finds no file system, a volume may still be XFS or
APFS (``sources.libyalfs``), an LVM2 physical volume (``sources.lvm``) or encrypted
(``sources.crypt``); NTFS volumes with shadow copies add them (``sources.vss``).

Member addresses (ASCII): ``f<fs offset>:i<inode>`` for a file's content,
``...:a<type>-<id>`` for one attribute (an ADS), ``...:n<k>`` for the k-th name of an
address already listed (hard links, reused inodes), ``c<offset>:<length>`` for carved
bytes, ``v<offset>`` for a partition or space that could not be read (or an encrypted
volume not examined), ``e<offset>/<address>`` for a member of the decrypted volume
at that offset (``sources.crypt``), ``m<offset>:<k>/<address>`` in the k-th LVM2
logical volume, ``s<offset>:<N>/<address>`` in shadow copy N, ``y<offset>:v<k>:i<id>``
for a file of a libyal file system (typed in ``core.locator``). Display paths
start ``p1/``, ``p2/``... (allocated partitions in table order) when there is a
partition table, and carved files are ``p1/$Unallocated/carved-<offset>.jpg``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

from unseen.core.errors import EvidenceError
from unseen.core.locator import Address, DiskAddress, expect
from unseen.sources.containers import CONTAINERS, ContainerReader, Keys, Limits, Member
from unseen.sources.crypt import find_crypt
from unseen.sources.libyalfs import find_fs
from unseen.sources.lvm import sniff_lvm
from unseen.sources.media import Siblings, find_media

MISSING = "disk image not read: install unseen[disk] (pytsk3)"


def sniff_disk(head: bytes) -> bool:
    """A partition table or a file-system boot block TSK reads, at the start of ``head``.

    Short signatures (ext's 2-byte magic) are checked with their neighbouring fields,
    so random binary files are not taken for disk images. Virtual disks (VMDK, VHD,
    QCOW) are not raw images even where their first sector looks like one.
    """
    if find_media(head) is not None:
        return False
    if len(head) >= 512 and head[510:512] == b"\x55\xaa":
        table = [head[446 + 16 * i : 462 + 16 * i] for i in range(4)]
        if all(e[0] in (0, 0x80) for e in table) and any(e[4] for e in table):
            return True
        if head[:1] in (b"\xeb", b"\xe9") and b"FAT" in (head[54:57], head[82:85]):
            return True
    return (
        head[512:520] == b"EFI PART"
        or head[3:11] in (b"NTFS    ", b"EXFAT   ")
        or _ext(head)
        or head[1024:1028] in (b"H+\x00\x04", b"HX\x00\x05")
        or head[32769:32774] == b"CD001"
        or find_fs(head) is not None  # XFS, APFS: through libyal (sources.libyalfs)
        or sniff_lvm(head)  # an LVM2 physical volume, through libvslvm (sources.lvm)
    )


def _ext(head: bytes) -> bool:
    if len(head) < 2048 or head[1080:1082] != b"\x53\xef":
        return False
    inodes, _, _, _, _, first_data, log_block, _, per_group = struct.unpack_from("<9I", head, 1024)
    state = struct.unpack_from("<H", head, 1082)[0]
    return (
        inodes > 0 and first_data <= 1 and log_block <= 6 and per_group > 0 and state in (1, 2, 3)
    )


class DiskReader(ContainerReader):
    NAME = "disk"
    DESCRIPTION = "raw disk or file-system image (The Sleuth Kit)"
    BOMB_LIMITS = False

    def __init__(self, stream: BinaryIO, keys: dict[str, str] | None = None) -> None:
        super().__init__(stream)
        try:
            from unseen.sources.tsk import TskDisk
        except ImportError as exc:
            raise EvidenceError(MISSING) from exc
        self.disk = TskDisk(stream, keys)

    @classmethod
    def sniff(cls, head: bytes, mime: str | None) -> bool:
        # An encrypted volume found as a file (a LUKS image in an archive) is a disk
        # too: opened with its key, else recorded as not examined.
        return sniff_disk(head) or find_crypt(head) is not None

    @classmethod
    def open_with(
        cls, stream: BinaryIO, siblings: Siblings | None, keys: Keys | None = None
    ) -> ContainerReader:
        return cls(stream, dict(keys or {}))

    def members(self, limits: Limits) -> Iterator[Member]:
        try:
            yield from self.disk.members(limits)
        finally:
            self.errors.extend(self.disk.errors)

    def open_member(self, member: Address | bytes) -> BinaryIO:
        return self.disk.open_member(expect(member, DiskAddress))


CONTAINERS.register(DiskReader)
