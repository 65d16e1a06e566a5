"""Benign synthetic evidence for the source tests: pictures, archives, disk images, E01.

Pictures are drawn by code from fixed seeds. Disk images are built without mounting
(mkfs.vfat + mtools, mkfs.ext4 -d + debugfs, mkntfs + ntfscp, sfdisk, ewfacquire);
a test needing a tool that is absent skips with the reason. Expected values (hashes,
offsets) are computed here from the bytes written, independently of the code under
test.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import re
import shutil
import struct
import subprocess
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

MTIME = 1_700_000_000  # 2023-11-14T22:13:20Z, set on archive members


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def photo(seed: int, size: tuple[int, int] = (320, 240), fmt: str = "JPEG") -> bytes:
    """A small picture: coarse noise blown up, with a disc on it."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 256, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    img = Image.fromarray(cells).resize(size, Image.Resampling.BILINEAR)
    ImageDraw.Draw(img).ellipse((40, 40, 160, 160), fill=(255, 200, seed * 40 % 256))
    out = io.BytesIO()
    if fmt == "GIF":
        img = img.convert("P", palette=Image.Palette.ADAPTIVE)
    img.save(out, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (make test installs them via APT_PACKAGES)")


def run(*cmd: str | Path, stdin: bytes | None = None) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True, input=stdin)


# ---------------------------------------------------------------------- file systems


def fat_geometry(image: bytes, base: int = 0) -> tuple[int, int]:
    """(byte offset of cluster 2, bytes per cluster) of a FAT file system."""
    bps, spc, reserved, nfats = struct.unpack_from("<HBHB", image, base + 11)
    fat_size = (
        struct.unpack_from("<H", image, base + 22)[0]
        or struct.unpack_from("<I", image, base + 36)[0]
    )
    root = (struct.unpack_from("<H", image, base + 17)[0] * 32 + bps - 1) // bps
    return base + (reserved + nfats * fat_size + root) * bps, spc * bps


def fat32(path: Path, files: dict[str, bytes], delete: list[str], label: str = "TESTFAT") -> None:
    """A 64 MiB FAT32 image holding ``files`` (``DIR/name`` paths), then ``delete``d."""
    need("mkfs.vfat", "mcopy")
    path.write_bytes(b"")
    run("truncate", "-s", "64M", path)
    run("mkfs.vfat", "-F", "32", "-n", label, path)
    src = path.parent / f"{path.stem}-src"
    made: set[str] = set()
    for name, data in files.items():
        folder = name.rpartition("/")[0]
        if folder and folder not in made:
            run("mmd", "-i", path, f"::/{folder}")
            made.add(folder)
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
        run("mcopy", "-i", path, src / name, f"::/{name}")
    for name in delete:
        run("mdel", "-i", path, f"::/{name}")


def ext4(path: Path, files: dict[str, bytes], delete: list[str], size: str = "16M") -> None:
    need("mkfs.ext4", "debugfs")
    src = path.parent / f"{path.stem}-src"
    for name, data in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    path.write_bytes(b"")
    run("truncate", "-s", size, path)
    run("mkfs.ext4", "-q", "-F", "-L", "TESTEXT", "-d", src, path)
    for name in delete:
        run("debugfs", "-w", "-R", f"rm /{name}", path)


def ntfs(path: Path, files: dict[str, bytes], streams: dict[str, tuple[str, bytes]]) -> None:
    """A 16 MiB NTFS image; ``streams`` maps a file to (stream name, content) (an ADS)."""
    need("mkntfs", "ntfscp")
    path.write_bytes(b"")
    run("truncate", "-s", "16M", path)
    run("mkntfs", "-q", "-F", "-f", "-L", "TESTNTFS", path)
    tmp = path.parent / f"{path.stem}-part"
    for name, data in files.items():
        tmp.write_bytes(data)
        run("ntfscp", path, tmp, name)
    for name, (stream, data) in streams.items():
        tmp.write_bytes(data)
        run("ntfscp", "-N", stream, path, tmp, name)


def mbr_disk(path: Path, size_mib: int, parts: list[tuple[int, Path, str]]) -> None:
    """An MBR disk of ``size_mib`` holding each (start sector, image, type) partition."""
    need("sfdisk")
    path.write_bytes(b"")
    run("truncate", "-s", f"{size_mib}M", path)
    table = "label: dos\n" + "".join(
        f"start={start}, size={img.stat().st_size // 512}, type={kind}\n"
        for start, img, kind in parts
    )
    run("sfdisk", "-q", path, stdin=table.encode())
    with path.open("r+b") as disk:
        for start, img, _ in parts:
            disk.seek(start * 512)
            disk.write(img.read_bytes())


def e01(raw: Path, target: Path) -> Path:
    """An EnCase 6 image of ``raw`` made by ewfacquire, with case metadata."""
    need("ewfacquire")
    run(
        "ewfacquire",
        "-u",
        "-q",
        "-t",
        target,
        "-f",
        "encase6",
        "-c",
        "deflate:fast",
        "-d",
        "sha1",
        "-C",
        "CASE-001",
        "-E",
        "EV-1",
        "-e",
        "Test Examiner",
        "-D",
        "synthetic test disk",
        "-N",
        "no real data",
        raw,
    )
    return target.with_suffix(".E01")


# ---------------------------------------------------------------------------- archives


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, (2023, 11, 14, 22, 13, 20))
            info.compress_type = method
            z.writestr(info, data)
    return out.getvalue()


def tar_bytes(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as t:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), MTIME
            t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def sevenzip_bytes(members: dict[str, bytes], password: str | None = None, **kw: bool) -> bytes:
    py7zr = pytest.importorskip("py7zr")
    out = io.BytesIO()
    with py7zr.SevenZipFile(out, "w", password=password, **kw) as z:
        for name, data in members.items():
            z.writestr(data, name)
    return out.getvalue()


def _zipcrypto(data: bytes, password: bytes, check: int) -> bytes:
    """Traditional PKWARE encryption of ``data`` (12-byte header ending in ``check``)."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(byte: int) -> None:
        keys[0] = zlib.crc32(bytes((byte,)), keys[0] ^ 0xFFFFFFFF) ^ 0xFFFFFFFF
        keys[1] = (keys[1] + (keys[0] & 0xFF)) & 0xFFFFFFFF
        keys[1] = (keys[1] * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = zlib.crc32(bytes((keys[1] >> 24,)), keys[2] ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    for b in password:
        update(b)
    out = bytearray()
    for p in bytes(range(11)) + bytes((check,)) + data:
        t = (keys[2] | 2) & 0xFFFF
        out.append(p ^ ((t * (t ^ 1)) >> 8) & 0xFF)
        update(p)
    return bytes(out)


def encrypted_zip(name: str, data: bytes, password: bytes) -> bytes:
    """A one-member ZIP (stored) encrypted with the traditional PKWARE cipher."""
    crc = zlib.crc32(data)
    body = _zipcrypto(data, password, crc >> 24)
    raw = name.encode()
    fields = struct.pack("<HHHHHIII", 20, 1, 0, 0, 0x21, crc, len(body), len(data))
    local = b"PK\x03\x04" + fields + struct.pack("<HH", len(raw), 0) + raw
    central = (
        b"PK\x01\x02"
        + struct.pack("<H", 20)
        + fields
        + struct.pack("<HHHHHII", len(raw), 0, 0, 0, 0, 0, 0)
        + raw
    )
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(body), 0
    )
    return local + body + central + end


def _rar_block(kind: int, flags: int, body: bytes) -> bytes:
    head = struct.pack("<BHH", kind, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(head) & 0xFFFF) + head


def rar4(members: list[tuple[str, bytes, bool]]) -> bytes:
    """A RAR 4 archive of stored members; (name, data, encrypted-flag) each."""
    out = b"Rar!\x1a\x07\x00" + _rar_block(0x73, 0, b"\x00" * 6)
    for name, data, encrypted in members:
        raw = name.encode()
        body = (
            struct.pack(
                "<IIBIIBBHI",
                len(data),
                len(data),
                3,
                zlib.crc32(data),
                0x57714E8A,
                20,
                0x30,
                len(raw),
                0x20,
            )
            + raw
        )
        out += _rar_block(0x74, 0x8000 | (0x4 if encrypted else 0), body) + data
    return out + _rar_block(0x7B, 0, b"")


def _fixups(block: bytearray, restore: bool) -> None:
    """Undo (``restore``) or apply NTFS update-sequence fixups of a 512-byte-sector record."""
    usa, count = struct.unpack_from("<HH", block, 4)
    for i in range(1, count):
        end, slot = i * 512, usa + 2 * i
        if restore:
            block[end - 2 : end] = block[slot : slot + 2]
        else:
            block[slot : slot + 2] = block[end - 2 : end]
            block[end - 2 : end] = block[usa : usa + 2]


def ntfs_delete(path: Path, name: str) -> int:
    """Delete a root-folder file of an NTFS image as Windows does; returns its cluster offset.

    Its index entry is removed from the root's INDX block (the freed bytes zeroed), its
    MFT record is marked not in use and its clusters are freed in ``$Bitmap``; the
    content stays on disk. pytsk3 is used here only to find the file's clusters.
    """
    import pytsk3

    img = bytearray(path.read_bytes())
    cluster = struct.unpack_from("<H", img, 11)[0] * img[13]
    mft = struct.unpack_from("<Q", img, 48)[0] * cluster
    fs = pytsk3.FS_Info(pytsk3.Img_Info(str(path)))
    inode = int(fs.open("/" + name).info.meta.addr)
    runs = [(r.addr, r.len) for a in fs.open("/" + name) if int(a.info.type) == 128 for r in a]
    bitmap_runs = [
        (r.addr, r.len) for a in fs.open_meta(inode=6) if int(a.info.type) == 128 for r in a
    ]
    for at in range(0, len(img), cluster):
        block = bytearray(img[at : at + 4096])
        if block[:4] != b"INDX":
            continue
        _fixups(block, restore=True)
        first, length = struct.unpack_from("<II", block, 0x18)
        pos, end = 0x18 + first, 0x18 + length
        while pos < end:
            size, key = struct.unpack_from("<HH", block, pos + 8)
            if key and struct.unpack_from("<Q", block, pos)[0] & 0xFFFFFFFFFFFF == inode:
                block[pos:end] = block[pos + size : end] + bytes(size)
                struct.pack_into("<I", block, 0x1C, length - size)
                break
            pos += size
        _fixups(block, restore=False)
        img[at : at + 4096] = block
    flags = struct.unpack_from("<H", img, mft + inode * 1024 + 0x16)[0]
    struct.pack_into("<H", img, mft + inode * 1024 + 0x16, flags & ~1)
    for start, count in runs:
        for c in range(start, start + count):
            at, bit = divmod(c, 8)
            for bstart, bcount in bitmap_runs:  # the bit's place inside $Bitmap's clusters
                if at < bcount * cluster:
                    img[bstart * cluster + at] &= ~(1 << bit) & 0xFF
                    break
                at -= bcount * cluster
    path.write_bytes(bytes(img))
    return runs[0][0] * cluster


# ------------------------------------------------------------------- virtual disks


def virtual_disk(raw: Path, fmt: str, target: Path, *options: str) -> Path:
    """``raw`` converted by ``qemu-img convert`` to ``fmt`` (vmdk, vpc, vhdx, qcow2)."""
    need("qemu-img")
    extra = ["-o", ",".join(options)] if options else []
    run("qemu-img", "convert", "-q", "-f", "raw", "-O", fmt, *extra, raw, target)
    return target


# ------------------------------------------------------------------ encrypted volumes


def luks(volume: Path, target: Path, password: str) -> Path:
    """A LUKS1 volume holding the bytes of ``volume``, header made by cryptsetup.

    ``cryptsetup luksFormat`` writes the header on a plain file (no device mapping);
    the payload is then encrypted here as dm-crypt would (aes-xts-plain64, 512-byte
    sectors numbered from the payload start) with the volume key cryptsetup reports.
    """
    need("cryptsetup")
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    data = volume.read_bytes()
    header = 2 * 1024 * 1024
    target.write_bytes(bytes(header + len(data)))
    key = password.encode()
    options = ["--batch-mode", "--key-file=-"]
    fmt = [*options, "--type", "luks1", "--key-size", "256", "--cipher", "aes-xts-plain64"]
    run("cryptsetup", "luksFormat", *fmt, "--pbkdf-force-iterations", "1000", target, stdin=key)
    dump = subprocess.run(
        ["cryptsetup", "luksDump", "--dump-master-key", *options, str(target)],
        input=key,
        capture_output=True,
        check=True,
    ).stdout.decode()
    offset = int(dump.split("Payload offset:")[1].split()[0]) * 512
    tokens = dump.split("MK dump:")[1].split()
    hexes = itertools.takewhile(re.compile("[0-9a-f]{2}").fullmatch, tokens)
    master = bytes.fromhex("".join(hexes))
    assert offset == header and len(master) == 32
    out = bytearray()
    for n in range(len(data) // 512):
        tweak = n.to_bytes(16, "little")
        enc = Cipher(algorithms.AES(master), modes.XTS(tweak)).encryptor()
        out += enc.update(data[n * 512 : (n + 1) * 512]) + enc.finalize()
    with target.open("r+b") as f:
        f.seek(offset)
        f.write(bytes(out))
    return target


def overlapping_gpt(path: Path, files: dict[str, bytes]) -> None:
    """A GPT disk whose second partition is moved to start inside the first (a small
    FAT holding ``files``), its checksums recomputed so the table still validates."""
    need("sfdisk", "mkfs.vfat", "mcopy")
    part = path.with_suffix(".p1")
    run("mkfs.vfat", "-C", part, "10240")
    for name, data in files.items():
        src = path.with_name(name)
        src.write_bytes(data)
        run("mcopy", "-i", part, src, f"::/{name}")
    run("truncate", "-s", "40M", path)
    table = b"label: gpt\nstart=2048, size=20480\nstart=22528, size=40000\n"
    run("sfdisk", "-q", path, stdin=table)
    disk = bytearray(path.read_bytes())
    disk[2048 * 512 : 2048 * 512 + part.stat().st_size] = part.read_bytes()
    entries_lba, count, size = struct.unpack_from("<QII", disk, 512 + 72)
    at = entries_lba * 512
    struct.pack_into("<Q", disk, at + size + 32, 10000)  # entry 2 starts in partition 1
    struct.pack_into("<I", disk, 512 + 88, zlib.crc32(disk[at : at + count * size]))
    struct.pack_into("<I", disk, 512 + 16, 0)
    struct.pack_into("<I", disk, 512 + 16, zlib.crc32(disk[512 : 512 + 92]))
    path.write_bytes(bytes(disk))
