"""Images: dimensions, PDQ against the reference library, draft decoding, modes,
dihedral hashes, JPEG quantisation tables, quality estimate and thumbnails."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image, ImageOps

from .casework import dihedral, spine_errors
from .conftest import DRAFT_MODES, DRAFT_SIZES, Gallery
from .evidence import full_decode_pdq, hamming, pdq_of

HEX64 = re.compile(r"[0-9a-f]{64}")
FORMATS = {
    "formats/photo.jpg": "JPEG",
    "formats/photo.png": "PNG",
    "formats/photo.gif": "GIF",
    "formats/photo.bmp": "BMP",
    "formats/photo.tiff": "TIFF",
    "formats/photo.webp": "WEBP",
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_gives_size_and_reference_pdq(gallery: Gallery, name: str) -> None:
    rec = gallery.records[name]
    assert (rec["width"], rec["height"], rec["image_format"]) == (320, 240, FORMATS[name])
    assert HEX64.fullmatch(rec["pdq"])
    # Small images are decoded in full: the hash is the reference library's, exactly.
    assert (rec["pdq"], rec["pdq_quality"]) == full_decode_pdq(gallery.payloads[name])
    assert rec["pdq_quality"] > 0
    assert rec["pdq_policy"] == "full"
    assert spine_errors(rec) == []


@pytest.mark.parametrize(("size", "policy"), sorted(DRAFT_SIZES.items()))
def test_draft_decoded_pdq_is_within_8_bits_of_full_decode(
    gallery: Gallery, size: tuple[int, int], policy: str
) -> None:
    name = f"draft/{size[0]}x{size[1]}.jpg"
    rec = gallery.records[name]
    assert (rec["width"], rec["height"]) == size  # the true size, not the draft's
    assert rec["pdq_policy"] == policy
    reference, reference_quality = full_decode_pdq(gallery.payloads[name])
    assert hamming(rec["pdq"], reference) <= 8
    assert rec["pdq_quality"] > 0 and reference_quality > 0


@pytest.mark.parametrize("mode", DRAFT_MODES)
def test_draft_decoding_of_cmyk_and_grey_jpegs(gallery: Gallery, mode: str) -> None:
    name = f"draft/{mode}.jpg"
    rec = gallery.records[name]
    assert (rec["width"], rec["height"], rec["pdq_policy"]) == (1600, 1536, "jpeg-draft-1/2")
    assert hamming(rec["pdq"], full_decode_pdq(gallery.payloads[name])[0]) <= 8
    assert rec["pdq_quality"] > 0 and spine_errors(rec) == []


def _reference_grey16(data: bytes) -> tuple[str, int]:
    """The documented conversion of 16-bit grey: stretch min..max onto 0..255, as RGB."""
    arr = np.asarray(Image.open(io.BytesIO(data)), np.float64)
    lo, hi = arr.min(), arr.max()
    scaled = ((arr - lo) * (255.0 / (hi - lo))).astype(np.uint8)
    return pdq_of(Image.fromarray(scaled, "L").convert("RGB"))


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("modes/cmyk.jpg", "CMYK"),
        ("modes/palette_transparent.png", "P"),
        ("modes/bilevel.png", "1"),
        ("modes/rgba.png", "RGBA"),
        ("modes/grey16.png", "I;16"),
    ],
)
def test_every_mode_is_hashed_like_the_reference(gallery: Gallery, name: str, mode: str) -> None:
    data = gallery.payloads[name]
    assert Image.open(io.BytesIO(data)).mode == mode  # the fixture is what it claims
    rec = gallery.records[name]
    assert spine_errors(rec) == []
    assert rec["pdq_quality"] > 0
    assert (rec["width"], rec["height"]) == (300, 220)
    if mode == "I;16":
        assert (rec["pdq"], rec["pdq_quality"]) == _reference_grey16(data)
        # Pillow's own I;16 -> RGB clips at 255 (a white page); dividing by 257 is what
        # 8-bit tools do. PDQ ignores brightness offset and scale, so that one agrees too.
        plain = np.asarray(Image.open(io.BytesIO(data)), np.uint16) // 257
        by_257 = pdq_of(Image.fromarray(plain.astype(np.uint8), "L"))[0]
        assert hamming(rec["pdq"], by_257) <= 10
    else:
        # RGB conversion, alpha dropped: Image.convert("RGB") of the full decode.
        assert (rec["pdq"], rec["pdq_quality"]) == full_decode_pdq(data)


def test_rotated_copy_matches_one_of_the_eight_dihedral_hashes(gallery: Gallery) -> None:
    original = dihedral(gallery.case, "dihedral/original.png")
    assert len(original) == 8 and all(HEX64.fullmatch(h) for h in original)
    assert len(set(original)) == 8
    assert original[0] == gallery.records["dihedral/original.png"]["pdq"]
    rotated = gallery.records["dihedral/rotated90.png"]["pdq"]
    assert hamming(rotated, original[0]) > 31  # a plain comparison misses it
    assert min(hamming(rotated, h) for h in original) <= 31
    # The eight match the picture's eight turns and mirrors (each within 31 bits).
    img = Image.open(io.BytesIO(gallery.payloads["dihedral/original.png"])).convert("RGB")
    for turned in (img, *(img.transpose(t) for t in Image.Transpose)):
        assert min(hamming(pdq_of(turned)[0], h) for h in original) <= 31


def test_jpeg_quality_estimate_and_table_fingerprint(gallery: Gallery) -> None:
    recs = gallery.records
    assert recs["quality/q50_21.jpg"]["jpeg_quality"] == 50
    assert recs["quality/q75_23.jpg"]["jpeg_quality"] == 75
    assert recs["quality/q90_25.jpg"]["jpeg_quality"] == 90
    fp = {name: rec["jpeg_qtables"] for name, rec in recs.items() if name.startswith("quality/")}
    assert all(re.fullmatch(r"[0-9a-f]{16}", v) for v in fp.values())
    # Same quality setting, different pictures: same tables. Different quality: not.
    assert fp["quality/q50_21.jpg"] == fp["quality/q50_22.jpg"]
    assert fp["quality/q75_23.jpg"] == fp["quality/q75_24.jpg"]
    assert len({fp["quality/q50_21.jpg"], fp["quality/q75_23.jpg"], fp["quality/q90_25.jpg"]}) == 3
    # Only JPEGs have tables.
    assert recs["formats/photo.png"]["jpeg_qtables"] is None
    assert recs["formats/photo.png"]["jpeg_quality"] is None


def _thumb(gallery: Gallery, name: str) -> Image.Image:
    rel = gallery.records[name]["thumbnail"]
    assert rel == f"{gallery.records[name]['sha256'][:2]}/{gallery.records[name]['sha256']}.jpg"
    path = gallery.case.thumbs_dir / rel
    assert path.is_file()
    return Image.open(path)


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("formats/photo.png", (256, 192)),
        ("draft/4000x3000.jpg", (256, 192)),
        ("modes/rgba.png", (256, 188)),
        ("dihedral/rotated90.png", (192, 256)),
        ("formats/photo.gif", (256, 192)),
    ],
)
def test_thumbnails_fit_in_256(gallery: Gallery, name: str, size: tuple[int, int]) -> None:
    thumb = _thumb(gallery, name)
    assert (thumb.format, thumb.mode, thumb.size) == ("JPEG", "RGB", size)


def test_thumbnail_is_upright_for_orientation_6(gallery: Gallery) -> None:
    name = "exif/upright6.jpg"
    rec = gallery.records[name]
    # Stored sideways (400x200, red left, blue right); the camera says "turn 90 CW".
    assert (rec["width"], rec["height"], rec["exif"]["orientation"]) == (400, 200, 6)
    thumb = _thumb(gallery, name).convert("RGB")
    assert thumb.size == (128, 256)
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(gallery.payloads[name])))
    assert upright.size == (200, 400)  # Pillow's reading of the same orientation
    top, bottom = thumb.getpixel((64, 32)), thumb.getpixel((64, 224))
    assert top[0] > 180 and top[2] < 60, top  # red on top
    assert bottom[2] > 180 and bottom[0] < 60, bottom  # blue at the bottom


def test_non_images_have_no_image_fields(gallery: Gallery) -> None:
    rec = gallery.records["mime/notes.txt"]
    image_keys = ("width", "height", "pdq", "pdq_quality", "pdq_policy", "image_format")
    assert {k: rec[k] for k in image_keys} == dict.fromkeys(image_keys)
    assert (rec["thumbnail"], rec["exif"], spine_errors(rec)) == (None, None, [])
