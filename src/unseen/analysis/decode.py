"""Bounded decoding: every picture is decoded within a pixel budget that fits the memory a
worker may use, reducing while decoding rather than after.

The budget is ``Settings.decode_memory_bytes`` divided by what one decoded pixel costs
while it is hashed (``BYTES_PER_PIXEL``, measured on RGB JPEG and PNG: the decoder's
buffer, the RGB conversion, numpy's copy and PDQ's float planes). A picture whose
decoded size fits is decoded as the PDQ policy says; one that does not is decoded
reduced where the format allows it without ever holding the full size:

- JPEG: DCT-domain draft decoding at 1/2, 1/4 or 1/8 (libjpeg scales while decoding);
- PNG (8-bit, not interlaced): decoded in strips of rows, each shrunk by box averaging
  (as PDQ's own first step does) before the next strip is inflated;
- anything else over the budget is not decoded, and says so.

The PDQ policy (``Settings.pdq_min_short_side``) was chosen by measurement: JPEG draft
decoding keeps the short side at least 768 px, which keeps PDQ within 8 bits of a full
decode on quality-100 and rotated photos, where 256 px reached 16 bits and 512 px 10
(``benchmarks/ingest.py`` prints the cost and the distances).
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image

from unseen.core.errors import EvidenceError
from unseen.core.settings import Settings

# Bytes of worker memory one decoded pixel costs while it is hashed and thumbnailed
# (measured with resource.getrusage on 12 MP pictures: 31-32 for RGB JPEG, PNG and TIFF,
# 36 for CMYK and RGBA, 39 for WebP; see tests/analysis/test_decode_budget.py).
BYTES_PER_PIXEL = 40
# Pixels decoded at once by the PNG strip reader, at most (a few MB per strip).
STRIP_PIXELS = 2_000_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type -> samples per pixel, for the 8-bit types the strip reader handles.
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Chunks a strip must carry to decode like the whole (palette, transparency, gamma-free).
_KEPT_CHUNKS = (b"PLTE", b"tRNS")


def pixel_budget(settings: Settings) -> int:
    """Decoded pixels one worker may hold for one picture."""
    return max(1, settings.decode_memory_bytes // BYTES_PER_PIXEL)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded picture (RGB, possibly reduced) and the policy that produced it."""

    rgb: Image.Image
    policy: str  # "full", "jpeg-draft-1/4", "png-strips-1/3"


def jpeg_scale(width: int, height: int, min_short_side: int, budget: int) -> int | None:
    """The DCT scale (1, 2, 4 or 8) for a JPEG: the largest that keeps the short side at
    least ``min_short_side``, raised until the decoded pixels fit ``budget``; None when
    even 1/8 does not fit."""
    k = min(width, height) // min_short_side if min_short_side > 0 else 1
    scale = next((s for s in (8, 4, 2) if s <= k), 1)
    for s in (1, 2, 4, 8):
        if s >= scale and math.ceil(width / s) * math.ceil(height / s) <= budget:
            return s
    return None


def box_factor(width: int, height: int, budget: int) -> int:
    """The smallest whole shrink factor whose result fits ``budget`` pixels."""
    k = max(1, math.isqrt(width * height // budget))
    while math.ceil(width / k) * math.ceil(height / k) > budget:
        k += 1
    return k


def over_budget(img: Image.Image, budget: int) -> EvidenceError:
    return EvidenceError(
        f"{img.width}x{img.height} ({img.width * img.height} pixels) exceeds the decode "
        f"budget of {budget} pixels (about {budget * BYTES_PER_PIXEL // 2**20} MiB) and "
        f"{img.format} has no reduced decoding here; not decoded"
    )


def decode(
    img: Image.Image,
    data: bytes,
    budget: int,
    min_short_side: int,
    to_rgb: Callable[[Image.Image], Image.Image],
) -> Decoded:
    """Decode an opened picture within ``budget`` pixels; JPEGs draft-decoded as far as
    the short side stays at least ``min_short_side`` (0: only as the budget requires).

    Raises:
        EvidenceError: over the budget with no reduced decoding, or undecodable.
        OSError: Pillow's decoder met broken data.
    """
    if img.format in ("JPEG", "MPO"):
        scale = jpeg_scale(img.width, img.height, min_short_side, budget)
        if scale is None:
            raise over_budget(img, budget)
        if scale > 1:
            img.draft("RGB", (math.ceil(img.width / scale), math.ceil(img.height / scale)))
        return Decoded(to_rgb(img), f"jpeg-draft-1/{scale}" if scale > 1 else "full")
    if img.width * img.height <= budget:
        return Decoded(to_rgb(img), "full")
    if img.format == "PNG" and png_strippable(data):
        k = box_factor(img.width, img.height, budget)
        return Decoded(png_reduced(data, k), f"png-strips-1/{k}")
    raise over_budget(img, budget)


@dataclass(frozen=True, slots=True)
class _Png:
    width: int
    height: int
    colour: int
    ihdr: bytes
    extra: bytes  # PLTE / tRNS chunks, verbatim
    idat_spans: tuple[tuple[int, int], ...]  # (offset, length) of each IDAT body


def _png_layout(data: bytes) -> _Png | None:
    """The PNG's header, palette chunks and IDAT positions; None if not strippable."""
    if not data.startswith(PNG_SIGNATURE):
        return None
    pos, ihdr, extra, spans = 8, b"", bytearray(), []
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body_end = pos + 8 + length
        if body_end + 4 > len(data):
            if kind == b"IDAT":  # truncated: what there is is read, then it says so
                spans.append((pos + 8, max(0, len(data) - pos - 8)))
            break
        if kind == b"IHDR":
            ihdr = data[pos + 8 : body_end]
        elif kind in _KEPT_CHUNKS:
            extra += data[pos : body_end + 4]
        elif kind == b"IDAT":
            spans.append((pos + 8, length))
        elif kind == b"IEND":
            break
        pos = body_end + 4
    if len(ihdr) != 13 or not spans:
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    if depth != 8 or colour not in PNG_CHANNELS or interlace != 0 or not width or not height:
        return None
    return _Png(width, height, colour, ihdr, bytes(extra), tuple(spans))


def png_strippable(data: bytes) -> bool:
    """Whether the strip reader handles this PNG (8-bit samples, not interlaced)."""
    return _png_layout(data) is not None


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _scanlines(data: bytes, png: _Png, row_bytes: int) -> Iterator[bytes]:
    """Filtered scanlines (filter byte + samples), inflated a little at a time."""
    inflater = zlib.decompressobj()
    pending = b""
    produced = 0
    room = max(row_bytes, 4 * 1024 * 1024)
    for offset, length in png.idat_spans:
        chunk = data[offset : offset + length]
        while chunk:
            try:
                out = inflater.decompress(chunk, room)
            except zlib.error as exc:
                raise EvidenceError(f"PNG image data is corrupt: {exc}") from None
            chunk = inflater.unconsumed_tail
            pending = pending + out if pending else out
            whole = min(len(pending) // row_bytes, png.height - produced)
            for i in range(whole):
                yield pending[i * row_bytes : (i + 1) * row_bytes]
            produced += whole
            if produced == png.height:
                return
            pending = pending[whole * row_bytes :]
            if not out and not chunk:
                break
    raise EvidenceError(f"PNG image data is truncated ({png.height - produced} rows missing)")


def _strip_image(png: _Png, rows: list[bytes], carry: bytes | None) -> Image.Image:
    """Decode rows as a small PNG of their own. ``carry`` is the previous row, already
    unfiltered, placed first with filter 0 so the strip's Up/Average/Paeth rows decode
    exactly as they would in the whole picture (the caller skips it)."""
    raw = (b"\x00" + carry if carry is not None else b"") + b"".join(rows)
    height = len(rows) + (carry is not None)
    ihdr = struct.pack(">II", png.width, height) + png.ihdr[8:]
    # The IDAT is stored, not compressed (a hand-over, not a file), and its CRC left
    # zero: Pillow checks the CRCs of header chunks, not of the image data it decodes.
    stored = zlib.compress(raw, 0)
    idat = struct.pack(">I", len(stored)) + b"IDAT" + stored + bytes(4)
    small = PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + png.extra + idat + _chunk(b"IEND", b"")
    img = Image.open(io.BytesIO(small), formats=("PNG",))
    img.load()
    return img


def png_reduced(data: bytes, k: int, strip_pixels: int = STRIP_PIXELS) -> Image.Image:
    """An 8-bit PNG decoded strip by strip and shrunk ``k`` times (box average) as it
    goes: the full-size picture is never held. Alpha is dropped as ``to_rgb`` does."""
    png = _png_layout(data)
    if png is None:
        raise EvidenceError("PNG layout not supported by the strip reader")
    row_bytes = 1 + png.width * PNG_CHANNELS[png.colour]
    per_strip = max(k, (strip_pixels // png.width) // k * k)
    out = Image.new("RGB", (math.ceil(png.width / k), math.ceil(png.height / k)))
    carry: bytes | None = None
    rows: list[bytes] = []
    top = 0
    for line in _scanlines(data, png, row_bytes):
        rows.append(line)
        if len(rows) == per_strip or top + len(rows) == png.height:
            strip = _strip_image(png, rows, carry)
            first = strip.height - len(rows)  # 1 when a carried row leads the strip
            carry = strip.crop((0, strip.height - 1, png.width, strip.height)).tobytes()
            if strip.mode != "RGB":
                strip = strip.convert("RGB")
            out.paste(strip.reduce(k, (0, first, png.width, strip.height)), (0, top // k))
            top += len(rows)
            rows = []
    return out
