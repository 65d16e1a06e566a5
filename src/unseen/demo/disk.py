"""Demo roles ``disk_image`` and ``video``: a USB stick image and a short phone clip.

``usb_stick`` writes ``Evidence/usb-stick.dd``: a raw disk (MBR, one FAT12 partition)
written byte by byte here, without tools, so every build is identical. It holds
camera pictures, two deleted pictures (directory entries marked deleted, clusters
free but intact: recoverable), a ZIP of two more pictures, and one picture that only
exists in unallocated space (found by carving). ``laptop_vmdk`` writes
``Evidence/vm/laptop.vmdk``: a VMware sparse virtual disk (written here too, grain by
grain) holding a disk laid out like the stick with other pictures: a virtual disk
found inside a folder, opened and examined. ``video_clip`` writes
``Users/sam/Videos/clip.mp4`` (MPEG-4, 6 s, 25 fps, with creation time, device and an
ISO 6709 location) when PyAV (the ``video`` extra) is installed. Everything is drawn
by code: gradients, shapes, noise.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from PIL import Image, ImageDraw

from unseen.demo.builder import DemoBuilder, image_bytes

SECTOR = 512
PART_START = 2048  # sectors: the partition starts at 1 MiB, as partitioning tools do
PART_SECTORS = 4096  # 2 MiB: FAT12 (fewer than 4085 clusters of one sector)
RESERVED, FATS, ROOT_ENTRIES, FAT_SECTORS = 1, 2, 224, 12
ROOT_SECTORS = ROOT_ENTRIES * 32 // SECTOR
DATA_SECTOR = RESERVED + FATS * FAT_SECTORS + ROOT_SECTORS
CLUSTERS = PART_SECTORS - DATA_SECTOR
STICK_TIME = datetime(2024, 5, 20, 16, 30)
CARVE_CLUSTER = 3000  # where the picture with no directory entry lies


def picture(seed: int, size: tuple[int, int] = (480, 360)) -> bytes:
    """A benign synthetic photo: a soft gradient, a few shapes, a little grain."""
    rng = np.random.default_rng(1000 + seed)
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([127 + 100 * np.sin(xs / w * rng.uniform(1, 4) + c) for c in range(3)], -1)
    base += 20 * np.cos(ys / h * 3)[..., None]
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(15, 70)
        draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3))
        )
    return image_bytes(img, "JPEG", quality=88)


@dataclass
class _File:
    name: bytes  # 8.3 name, 11 bytes padded
    data: bytes
    deleted: bool = False
    folder: bool = False
    children: list[_File] | None = None
    cluster: int = 0


def _short(name: str) -> bytes:
    stem, _, ext = name.upper().partition(".")
    return stem.ljust(8).encode() + ext.ljust(3).encode()


def _dos(when: datetime) -> tuple[int, int]:
    date = ((when.year - 1980) << 9) | (when.month << 5) | when.day
    return date, (when.hour << 11) | (when.minute << 5) | (when.second // 2)


def _entry(name: bytes, attr: int, cluster: int, size: int, deleted: bool = False) -> bytes:
    date, time = _dos(STICK_TIME)
    raw = (b"\xe5" + name[1:]) if deleted else name
    return struct.pack(
        "<11sBBBHHHHHHHI", raw, attr, 0, 0, time, date, date, 0, time, date, cluster, size
    )


class _Fat12:
    """Lays out files in clusters and writes the FAT12 partition."""

    def __init__(self) -> None:
        self.data = bytearray(CLUSTERS * SECTOR)
        self.fat = [0xFF8, 0xFFF] + [0] * CLUSTERS
        self.next = 2

    def store(self, blob: bytes, chain: bool = True) -> int:
        first, count = self.next, max(1, -(-len(blob) // SECTOR))
        at = (first - 2) * SECTOR
        self.data[at : at + len(blob)] = blob
        if chain:  # deleted files keep their bytes but their clusters are free
            for c in range(first, first + count):
                self.fat[c] = c + 1 if c < first + count - 1 else 0xFFF
        self.next += count
        return first

    def folder(self, items: list[_File], parent: int) -> int:
        cluster = self.next
        self.store(bytes(SECTOR))
        entries = _entry(b".          ", 0x10, cluster, 0) + _entry(
            b"..         ", 0x10, parent, 0
        )
        entries += self.entries(items, cluster)
        at = (cluster - 2) * SECTOR
        self.data[at : at + len(entries)] = entries
        return cluster

    def entries(self, items: list[_File], here: int) -> bytes:
        out = b""
        for item in items:
            if item.folder:
                item.cluster = self.folder(item.children or [], here)
                out += _entry(item.name, 0x10, item.cluster, 0)
            else:
                item.cluster = self.store(item.data, chain=not item.deleted)
                out += _entry(item.name, 0x20, item.cluster, len(item.data), item.deleted)
        return out

    def image(self, root: list[_File]) -> bytes:
        table = _entry(b"USB STICK  ", 0x08, 0, 0) + self.entries(root, 0)
        fat = bytearray()
        for i in range(0, len(self.fat) - 1, 2):
            a, b = self.fat[i], self.fat[i + 1]
            fat += bytes((a & 0xFF, (a >> 8) | ((b & 0xF) << 4), b >> 4))
        table_bytes = bytes(fat[: FAT_SECTORS * SECTOR]).ljust(FAT_SECTORS * SECTOR, b"\0")
        boot = bytearray(SECTOR)
        struct.pack_into(
            "<3s8sHBHBHHBHHHII",
            boot,
            0,
            b"\xeb\x3c\x90",
            b"UNSEEN  ",
            SECTOR,
            1,
            RESERVED,
            FATS,
            ROOT_ENTRIES,
            PART_SECTORS,
            0xF8,
            FAT_SECTORS,
            32,
            64,
            PART_START,
            0,
        )
        struct.pack_into(
            "<BBBI11s8s", boot, 36, 0x80, 0, 0x29, 0x20240520, b"USB STICK  ", b"FAT12   "
        )
        boot[510:512] = b"\x55\xaa"
        root_dir = table.ljust(ROOT_SECTORS * SECTOR, b"\0")
        return bytes(boot) + table_bytes * FATS + root_dir + bytes(self.data)


def stick_image(
    photos: list[bytes], deleted: list[bytes], zipped: list[bytes], lost: bytes
) -> bytes:
    """The raw disk: MBR + the FAT12 partition (see the module docstring)."""
    media = [_File(_short(f"IMG_{i + 1:04d}.JPG"), p) for i, p in enumerate(photos)]
    media += [
        _File(_short(f"IMG_{len(photos) + i + 1:04d}.JPG"), p, deleted=True)
        for i, p in enumerate(deleted)
    ]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for i, p in enumerate(zipped):
            z.writestr(zipfile.ZipInfo(f"holiday/beach{i + 1}.jpg", (2024, 5, 1, 12, 0, 0)), p)
    dcim = _File(
        _short("DCIM"),
        b"",
        folder=True,
        children=[_File(_short("100MEDIA"), b"", folder=True, children=media)],
    )
    fat = _Fat12()
    part = bytearray(fat.image([dcim, _File(_short("HOLIDAY.ZIP"), archive.getvalue())]))
    at = (DATA_SECTOR + CARVE_CLUSTER - 2) * SECTOR
    part[at : at + len(lost)] = lost
    mbr = bytearray(SECTOR)
    struct.pack_into(
        "<B3sB3sII", mbr, 446, 0, b"\0\0\0", 0x01, b"\0\0\0", PART_START, PART_SECTORS
    )
    mbr[510:512] = b"\x55\xaa"
    return bytes(mbr) + bytes((PART_START - 1) * SECTOR) + bytes(part)


def usb_stick(b: DemoBuilder) -> None:
    """Role ``disk_image``: ``Evidence/usb-stick.dd``."""
    shots = [picture(i) for i in range(8)]
    image = stick_image(shots[:3], shots[3:5], shots[5:7], shots[7])
    b.write(
        "Evidence/usb-stick.dd",
        image,
        STICK_TIME,
        "disk_image",
        note="raw USB stick image (MBR, FAT12): 3 photos, 2 deleted photos, a ZIP of 2 "
        "photos, 1 photo only in unallocated space",
    )


GRAIN = 128  # sectors per VMDK grain (64 KiB), as VMware and qemu-img write them
GRAINS_PER_TABLE = 512


def sparse_vmdk(disk: bytes, name: str) -> bytes:
    """``disk`` as a monolithic sparse VMDK: header, embedded descriptor, one grain
    directory, grain tables, then only the grains that hold anything."""
    sectors = -(-len(disk) // SECTOR)
    grains = -(-sectors // GRAIN)
    tables = -(-grains // GRAINS_PER_TABLE)
    descriptor = (
        "# Disk DescriptorFile\nversion=1\nCID=5eed0001\nparentCID=ffffffff\n"
        'createType="monolithicSparse"\n\n# Extent description\n'
        f'RW {sectors} SPARSE "{name}"\n\n# The Disk Data Base\n#DDB\n\n'
        'ddb.adapterType = "ide"\nddb.virtualHWVersion = "4"\n'
    ).encode()
    desc_at, desc_sectors = 1, 20
    gd_at = desc_at + desc_sectors
    gt_at = gd_at + -(-tables * 4 // SECTOR)
    overhead = -(-(gt_at + tables * 4) // GRAIN) * GRAIN
    header = struct.pack(
        "<4sIIQQQQIQQQB4sH",
        b"KDMV", 1, 1, sectors, GRAIN, desc_at, desc_sectors, GRAINS_PER_TABLE,
        0, gd_at, overhead, 0, b"\n \r\n", 0,
    )  # fmt: skip
    entries = [0] * (tables * GRAINS_PER_TABLE)
    data = bytearray()
    for g in range(grains):
        grain = disk[g * GRAIN * SECTOR : (g + 1) * GRAIN * SECTOR].ljust(GRAIN * SECTOR, b"\0")
        if grain.strip(b"\0"):
            entries[g] = overhead + len(data) // SECTOR
            data += grain
    meta = bytearray(overhead * SECTOR)
    meta[: len(header)] = header
    meta[desc_at * SECTOR : desc_at * SECTOR + len(descriptor)] = descriptor
    directory = [gt_at + 4 * t for t in range(tables)]
    struct.pack_into(f"<{tables}I", meta, gd_at * SECTOR, *directory)
    struct.pack_into(f"<{len(entries)}I", meta, gt_at * SECTOR, *entries)
    return bytes(meta) + bytes(data)


def laptop_vmdk(b: DemoBuilder) -> None:
    """Role ``disk_image``: ``Evidence/vm/laptop.vmdk``."""
    shots = [picture(i) for i in range(30, 38)]
    disk = stick_image(shots[:3], shots[3:5], shots[5:7], shots[7])
    b.write(
        "Evidence/vm/laptop.vmdk",
        sparse_vmdk(disk, "laptop.vmdk"),
        STICK_TIME,
        "disk_image",
        note="VMware sparse virtual disk (MBR, FAT12): 3 photos, 2 deleted photos, a ZIP "
        "of 2 photos, 1 photo only in unallocated space",
    )


def video_clip(b: DemoBuilder) -> None:
    """Role ``video``: ``Users/sam/Videos/clip.mp4`` (skipped without PyAV)."""
    try:
        import av
    except ImportError:
        return
    out = io.BytesIO()
    options = {"movflags": "use_metadata_tags", "fflags": "+bitexact"}
    with av.open(out, "w", format="mp4", options=options) as container:
        container.metadata.update(
            {
                "creation_time": "2024-06-01T17:05:00.000000Z",
                "location": "+51.5007-000.1246+012.000/",
                "com.apple.quicktime.make": "Demo Phone Co",
                "com.apple.quicktime.model": "DP-7",
            }
        )
        # MPEG-4 Part 2 from FFmpeg itself, one thread, bit-exact: the same bytes on
        # every build (libx264's adaptive decisions vary between runs under load).
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.codec_context.thread_count = 1
        stream.options = {"g": "50", "qscale": "4", "flags": "+bitexact"}
        base = np.asarray(Image.open(io.BytesIO(picture(20, (320, 180)))).convert("RGB"))
        for i in range(150):
            frame = np.roll(base, 3 * i, axis=1)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    b.write(
        "Users/sam/Videos/clip.mp4",
        out.getvalue(),
        datetime(2024, 6, 1, 17, 5, 6),
        "video",
        note="synthetic 6 s clip with creation time, device and GPS in its metadata",
        gps=(51.5007, -0.1246, 12.0),
    )
