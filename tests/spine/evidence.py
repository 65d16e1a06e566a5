"""Synthetic evidence for the spine tests: benign images, EXIF and hostile files.

Everything is drawn by code (gradients, shapes, noise) from fixed seeds, so each run
builds byte-identical files; expected values are computed here with the reference
libraries (hashlib, Pillow full decode, pdqhash), independently of the code under test.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pdqhash
import piexif
from PIL import Image, ImageDraw, ImageFilter

# Fixed file-system times (ns since 1970 UTC), set on every fixture so exports of two
# cases over the same evidence agree and mtime assertions are exact.
MTIME_NS = 1_600_000_000_123_456_000  # 2020-09-13T12:26:40.123456Z
ATIME_NS = 1_600_000_100_000_000_000  # 2020-09-13T12:28:20Z


def scene(width: int, height: int, seed: int) -> Image.Image:
    """A smooth photo-like RGB picture: gradient, soft shapes and a little grain.

    Drawn at most 800 px wide and enlarged, so even 4000 x 3000 takes well under a second.
    """
    rng = np.random.default_rng(seed)
    step = max(1, -(-width // 800))
    w, h = -(-width // step), -(-height // step)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.empty((h, w, 3), np.float32)
    for c in range(3):
        fx, fy, phase = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 6.3)
        base[..., c] = 127 + 90 * np.sin(xs / w * fx * 6.28 + ys / h * fy * 6.28 + phase)
    img = Image.fromarray(base.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    short = min(w, h)
    for _ in range(14):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.05, 0.25) * short
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        box = (x - r, y - r * rng.uniform(0.5, 1.5), x + r, y + r)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(max(1.0, short / 150)))
    if step > 1:
        img = img.resize((width, height), Image.Resampling.BICUBIC)
    grain = rng.integers(-4, 5, (height, width, 3), dtype=np.int16)
    return Image.fromarray(np.clip(np.asarray(img) + grain, 0, 255).astype(np.uint8), "RGB")


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def jpeg(width: int, height: int, seed: int, quality: int = 75, **params: object) -> bytes:
    return encode(scene(width, height, seed), "JPEG", quality=quality, **params)


def write(path: Path, data: bytes) -> Path:
    """Write a fixture file and pin its times (parents are created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(ATIME_NS, MTIME_NS))
    return path


def digests(data: bytes) -> dict[str, object]:
    """What the export must say about content ``data``."""
    return {
        "size": len(data),
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def pdq_of(rgb: Image.Image) -> tuple[str, int]:
    """PDQ (64 hex) and quality of an RGB image, straight from the reference library."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(np.asarray(rgb.convert("RGB"))))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def full_decode_pdq(data: bytes) -> tuple[str, int]:
    """The reference hash: full-size decode, converted to RGB (alpha dropped)."""
    return pdq_of(Image.open(io.BytesIO(data)).convert("RGB"))


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_bomb(width: int, height: int) -> bytes:
    """A well-formed PNG (valid CRCs) whose header claims ``width`` x ``height`` RGB.

    The IDAT holds 1 MiB of zero rows compressed (about 1 KiB): a decoder that trusts
    the header allocates for the claim and inflates what it is given.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 << 20), 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def exif_jpeg(
    seed: int,
    *,
    zeroth: dict[int, object],
    exif: dict[int, object],
    gps: dict[int, object],
    thumbnail: bool,
    size: tuple[int, int] = (400, 200),
) -> bytes:
    """A JPEG carrying EXIF written by piexif (optionally with an IFD1 thumbnail)."""
    img = scene(*size, seed)
    tags: dict[str, object] = {"0th": zeroth, "Exif": exif, "GPS": gps}
    if thumbnail:
        tags["1st"] = {
            piexif.ImageIFD.JPEGInterchangeFormat: 0,
            piexif.ImageIFD.JPEGInterchangeFormatLength: 0,
        }
        tags["thumbnail"] = encode(img.resize((80, 40)), "JPEG", quality=70)
    return encode(img, "JPEG", quality=85, exif=piexif.dump(tags))


def make_deep_dirs(root: Path, names: list[bytes]) -> int:
    """Create nested folders ``root/names[0]/names[1]/...`` without ever using a path
    longer than one name (so trees deeper than PATH_MAX can be built); returns an open
    descriptor of the deepest folder, which the caller closes."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for name in names:
        os.mkdir(name, dir_fd=fd)
        nxt = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    return fd


def write_at(dir_fd: int, name: bytes, data: bytes) -> None:
    """Write a file by name inside an open folder, and pin its times."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dir_fd)
    try:
        os.write(fd, data)
        os.utime(fd, ns=(ATIME_NS, MTIME_NS))
    finally:
        os.close(fd)


def settle_links(links: list[tuple[int | None, Path | bytes]]) -> None:
    """Read each symbolic link once, a moment after making it.

    Reading a link moves its access time (relatime: while it is not newer than the
    link's change time), whoever reads it; after one read a little later, further reads
    leave it alone, so two cases listing the same links record the same times.
    """
    time.sleep(0.05)  # past the file system's coarse clock tick
    for dir_fd, link in links:
        os.readlink(link, dir_fd=dir_fd)


def tiff_bomb(width: int) -> bytes:
    """A 4x4 greyscale TIFF whose ImageWidth tag is patched to ``width`` (> 2**31)."""
    data = bytearray(encode(Image.new("L", (4, 4)), "TIFF"))
    ifd = struct.unpack("<I", data[4:8])[0]
    for i in range(struct.unpack("<H", data[ifd : ifd + 2])[0]):
        entry = ifd + 2 + 12 * i
        if struct.unpack("<H", data[entry : entry + 2])[0] == 256:  # ImageWidth, LONG
            data[entry + 8 : entry + 12] = struct.pack("<I", width)
    return bytes(data)


def small_evidence(root: Path) -> dict[str, bytes]:
    """Seven entries: 3 JPEGs (one truncated), a PNG, text, an empty file, a link."""
    files = {
        "photos/a.jpg": jpeg(320, 240, 41),
        "photos/b.jpg": jpeg(240, 320, 42),
        "photos/c.png": encode(scene(200, 100, 43), "PNG"),
        "notes.txt": b"plain text notes\n",
        "empty.bin": b"",
    }
    files["photos/broken.jpg"] = files["photos/a.jpg"][:3000]
    for name, data in files.items():
        write(root / name, data)
    os.symlink("/etc/passwd", root / "passwd")
    settle_links([(None, root / "passwd")])
    return files
