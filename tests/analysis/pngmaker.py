"""PNG files written row by row with chosen filters, so tests control every byte."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filtered(row: bytes, prev: bytes, kind: int, bpp: int) -> bytes:
    """One scanline filtered with PNG filter ``kind`` (0 None .. 4 Paeth)."""
    out = bytearray(len(row))
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]
        out[i] = (x - pred) & 0xFF
    return bytes([kind]) + bytes(out)


def png_from_rows(
    width: int, height: int, colour: int, rows: Iterable[bytes], extra: bytes = b""
) -> bytes:
    """A PNG (8-bit samples) whose IDAT holds ``rows``: already filtered scanlines."""
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(r) for r in rows) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def every_filter_png(pixels: np.ndarray, colour: int, extra: bytes = b"") -> bytes:
    """``pixels`` (rows x width x samples, uint8) with the filters cycling 0-4 by row."""
    height, width, samples = pixels.shape
    prev = bytes(width * samples)
    rows = []
    for y in range(height):
        raw = pixels[y].tobytes()
        rows.append(filtered(raw, prev, y % 5, samples))
        prev = raw
    return png_from_rows(width, height, colour, rows, extra)


def banded_png(side: int, band: int, seed: int) -> bytes:
    """A ``side`` x ``side`` RGB PNG of ``band``-pixel colour blocks that compresses about
    1000:1: each band's first row is written plainly and the rest as Up (all zero)."""
    rng = np.random.default_rng(seed)
    blocks = -(-side // band)
    zero = bytes(1 + side * 3)
    zero = b"\x02" + zero[1:]

    def rows() -> Iterable[bytes]:
        for y in range(side):
            if y % band == 0:
                colours = rng.integers(0, 256, (blocks, 3), dtype=np.uint8)
                line = np.repeat(colours, band, axis=0)[:side].tobytes()
                yield b"\x00" + line
            else:
                yield zero

    return png_from_rows(side, side, 2, rows())


def banded_reference(side: int, band: int, seed: int, scale: int) -> np.ndarray:
    """The picture ``banded_png`` draws, drawn directly at 1/``scale`` of its size."""
    rng = np.random.default_rng(seed)
    blocks = -(-side // band)
    small = -(-side // scale)
    out = np.zeros((small, small, 3), np.uint8)
    step = band // scale
    for by in range(blocks):
        colours = rng.integers(0, 256, (blocks, 3), dtype=np.uint8)
        line = np.repeat(colours, step, axis=0)[:small]
        out[by * step : (by + 1) * step] = line
    return out
