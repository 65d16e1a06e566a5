"""Images: header facts, JPEG quantisation tables and the PDQ perceptual hash.

PDQ uses Meta's reference C++ core (``pdqhash``) on an RGB conversion of every mode:
CMYK, palette, 1-bit and 16-bit images are converted, and alpha is dropped as the
reference tools do, so our hashes compare with agency sets made by those tools.
JPEGs are draft-decoded (DCT-domain downscale) as far as the short side stays at
least ``pdq_min_short_side`` px (within 8 bits of a full decode), and every decode stays
within the worker's pixel budget (``analysis.decode``). Each hash records the decode
policy that produced it.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct

import numpy as np
import pdqhash
from PIL import Image, UnidentifiedImageError

from unseen.analysis.base import ANALYSERS, FileAnalyser, ItemContext
from unseen.analysis.decode import decode, pixel_budget
from unseen.analysis.filetype import EMPTY
from unseen.core.errors import EvidenceError
from unseen.core.jpeg import IJG_LUMA
from unseen.core.models import ImageRecord

# Only formats with in-process decoders: Pillow's EPS plugin would run Ghostscript
# on evidence, and rarer plugins add attack surface for no forensic value. (MPO opens
# through the JPEG entry.)
SAFE_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "ICO", "PPM")

try:  # HEIC/HEIF behind the optional [heic] extra (pi-heif, LGPL decoder only)
    import pi_heif

    pi_heif.register_heif_opener()
    SAFE_FORMATS += ("HEIF",)
except ImportError:  # pragma: no cover - depends on the extra
    pass

# File name extensions that promise a picture (compared lower-case).
IMAGE_SUFFIXES = frozenset((
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".dib", ".tif", ".tiff",
    ".webp", ".heic", ".heif", ".ico", ".ppm",
))  # fmt: skip

Image.init()  # register every built-in format now, so ``formats=`` can name them
# Our own bomb check replaces Pillow's, so the claimed size can be recorded first.
Image.MAX_IMAGE_PIXELS = None


def pdq_hex(bits: np.ndarray) -> str:
    """256 hash bits as 64 lowercase hex characters, first bit most significant."""
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def to_rgb(img: Image.Image) -> Image.Image:
    """An 8-bit RGB view of any mode (alpha dropped, 16-bit and float scaled)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")
    return img.convert("RGB")


def qtables_fingerprint(tables: dict[int, list[int]]) -> str:
    """A short stable digest of the JPEG quantisation tables (camera vs re-encoder)."""
    canon = json.dumps({str(k): list(v) for k, v in sorted(tables.items())}, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:16]


def estimate_quality(luma: list[int]) -> int | None:
    """IJG-equivalent quality (1-100) of a luminance table; None if not 64 entries."""
    if len(luma) != 64:
        return None
    scale = sum(q * 100 / s for q, s in zip(luma, IJG_LUMA, strict=True)) / 64
    quality = (200 - scale) / 2 if scale <= 100 else 5000 / scale
    return max(1, min(100, round(quality)))


def _is_image(mime: str | None) -> bool:
    return bool(mime and mime.startswith("image/"))


def _image_suffix(path: str) -> str | None:
    """The file name's extension (``.jpg``) when it names an image format, else None."""
    name = path.rsplit("/", 1)[-1]
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return suffix if suffix in IMAGE_SUFFIXES else None


class ImageAnalyser(FileAnalyser):
    NAME = "image"
    VERSION = "1"
    DESCRIPTION = "image size and format, JPEG quantisation tables, PDQ hash (+8 dihedral)"
    DEPENDS_ON = ("hashes",)
    SETTINGS = ("max_image_pixels", "max_image_bytes", "pdq_min_short_side", "decode_memory_bytes")

    def applies_to(self, ctx: ItemContext) -> bool:
        return _is_image(ctx.record.mime) or _image_suffix(ctx.task.path) is not None

    def analyse(self, ctx: ItemContext) -> None:
        if not _is_image(ctx.record.mime):
            # Named like a picture but isn't one (wiped, encrypted, corrupt or disguised):
            # say so, or the examiner sees a ".jpg" with no picture and no reason.
            suffix = _image_suffix(ctx.task.path)
            if ctx.record.mime == EMPTY:
                raise EvidenceError(f"named like an image ({suffix}) but the file is empty")
            raise EvidenceError(
                f"named like an image ({suffix}) but the content is {ctx.record.mime}; not decoded"
            )
        if ctx.data is None:
            raise EvidenceError(
                f"image larger than {ctx.settings.max_image_bytes} bytes; hashed but not decoded"
            )
        try:
            img = Image.open(io.BytesIO(ctx.data), formats=SAFE_FORMATS)
        except UnidentifiedImageError as exc:
            raise EvidenceError(
                "not decodable as an image: unknown format or broken header"
            ) from exc
        rec = ctx.record.image = ImageRecord(
            format=img.format, mode=img.mode, width=img.width, height=img.height
        )
        rec.frames = _frame_count(img, ctx, self.NAME)
        tables = getattr(img, "quantization", None)
        if tables:
            rec.jpeg_qtables = qtables_fingerprint(tables)
            rec.jpeg_quality = estimate_quality(list(tables.get(0, ())))
        pixels = img.width * img.height
        if pixels > ctx.settings.max_image_pixels:
            raise EvidenceError(
                f"possible decompression bomb: header claims {img.width}x{img.height} "
                f"({pixels} pixels, limit {ctx.settings.max_image_pixels}); not decoded"
            )
        # Only now may later analysers use it: some readers (PNG EXIF) decode on access,
        # so a picture over the decode budget is only shared where reading it does not
        # decode it (JPEG EXIF sits before the image data).
        if pixels <= pixel_budget(ctx.settings) or img.format in ("JPEG", "MPO"):
            ctx.image = img
        self._hash(ctx, img, rec)

    def _hash(self, ctx: ItemContext, img: Image.Image, rec: ImageRecord) -> None:
        try:
            budget, short = pixel_budget(ctx.settings), ctx.settings.pdq_min_short_side
            decoded = decode(img, ctx.data or b"", budget, short, to_rgb)
            pixels = np.ascontiguousarray(np.asarray(decoded.rgb))
        # Pillow's decoders report broken data as OSError, and a tile that does not fit
        # the image (a corrupt TIFF, found by fuzzing) as SystemError.
        except (OSError, SystemError) as exc:
            raise EvidenceError(f"cannot decode: {exc}") from exc
        hashes, quality = pdqhash.compute_dihedral(pixels)
        del pixels
        ctx.rgb = decoded.rgb  # decoded: the thumbnail may use it
        rec.pdq_dihedral = tuple(pdq_hex(h) for h in hashes)
        rec.pdq = rec.pdq_dihedral[0]
        rec.pdq_quality = int(quality)
        rec.pdq_policy = decoded.policy


def _frame_count(img: Image.Image, ctx: ItemContext, stage: str) -> int | None:
    """How many frames the file declares, or None (recorded) when its frame chain is
    damaged: Pillow walks a TIFF's IFDs to count them and raises KeyError or TypeError
    on a corrupt one, a GIF struct.error (found by fuzzing); the first frame may
    still decode."""
    try:
        return int(getattr(img, "n_frames", 1))
    except (KeyError, TypeError, IndexError, ValueError, OSError, EOFError, struct.error) as exc:
        ctx.record.error(stage, f"frame count unreadable (damaged frame chain): {exc}")
        return None


ANALYSERS.register(ImageAnalyser)
