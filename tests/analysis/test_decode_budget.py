"""Decoding within a pixel budget, and the JPEG draft policy that keeps PDQ faithful.

The policy and the budget were chosen by measurement (see ``analysis.decode``); these
tests pin what they promise: PDQ within 8 bits of a full decode on quality-100 photos,
rotated or EXIF-rotated; a PNG too big for the budget decoded in strips, exactly like a
full decode shrunk, without the worker's memory ever holding the full picture.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pdqhash
import piexif
import pytest
from PIL import Image

from unseen.analysis.decode import (
    BYTES_PER_PIXEL,
    box_factor,
    decode,
    jpeg_scale,
    png_reduced,
)
from unseen.analysis.image import to_rgb
from unseen.core.errors import EvidenceError

from .helpers import analyse
from .pictures import detailed, jpeg_bytes
from .pngmaker import banded_png, banded_reference, chunk, every_filter_png

BIG_SIDE, BAND = 13_000, 1_000


def pdq(img: Image.Image) -> str:
    bits, _ = pdqhash.compute(np.ascontiguousarray(np.asarray(img.convert("RGB"))))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def full_pdq(data: bytes) -> str:
    return pdq(Image.open(io.BytesIO(data)))


def draft_pdq(data: bytes, scale: int) -> str:
    img = Image.open(io.BytesIO(data))
    img.draft("RGB", (math.ceil(img.width / scale), math.ceil(img.height / scale)))
    return pdq(img)


def test_jpeg_scale_keeps_the_short_side_and_the_budget() -> None:
    assert jpeg_scale(4032, 3024, 768, 10**9) == 2  # 3024 // 768 = 3: half, not a quarter
    assert jpeg_scale(1600, 1200, 768, 10**9) == 1
    assert jpeg_scale(8000, 6000, 768, 10**9) == 4
    assert jpeg_scale(4032, 3024, 768, 1_000_000) == 4  # the budget forces more
    assert jpeg_scale(40_000, 30_000, 768, 1_000_000) is None  # even 1/8 is too big
    assert jpeg_scale(4032, 3024, 0, 10**9) == 1
    assert box_factor(13_000, 13_000, 6_710_886) == 6
    assert box_factor(100, 100, 10_000) == 1


def test_quality_100_and_rotated_jpegs_hash_within_8_bits_of_a_full_decode(
    tmp_path: Path,
) -> None:
    # A picture the former policy (short side >= 256: a 1/8 draft here) hashed 10 bits
    # from its full decode; the same turned is stored sideways with EXIF orientation 6,
    # as a phone writes a portrait.
    picture = detailed(2736, 2052, 3)
    plain = jpeg_bytes(picture, 100)
    turned = jpeg_bytes(
        picture.transpose(Image.Transpose.ROTATE_90),
        100,
        exif=piexif.dump({"0th": {piexif.ImageIFD.Orientation: 6}}),
    )
    assert hamming(draft_pdq(plain, 8), full_pdq(plain)) == 10
    for name, data in (("plain.jpg", plain), ("turned.jpg", turned)):
        record = analyse(tmp_path / name, name, data)
        assert record.image is not None and record.errors == []
        assert record.image.pdq_policy == "jpeg-draft-1/2"
        assert record.image.pdq is not None
        assert hamming(record.image.pdq, full_pdq(data)) <= 8, name
    assert (record.image.width, record.image.height) == (2052, 2736)
    assert record.exif is not None and record.exif.orientation == 6


@pytest.mark.parametrize(
    ("colour", "samples", "extra"),
    [
        (0, 1, b""),
        (2, 3, b""),
        (4, 2, b""),
        (6, 4, b""),
        (3, 1, chunk(b"PLTE", bytes(range(256)) * 3) + chunk(b"tRNS", bytes([0, 128]))),
    ],
    ids=["grey", "rgb", "grey-alpha", "rgba", "palette"],
)
def test_strips_decode_exactly_like_a_full_decode_shrunk(
    colour: int, samples: int, extra: bytes
) -> None:
    rng = np.random.default_rng(colour)
    smooth = np.linspace(0, 255, 61 * 47 * samples).reshape(47, 61, samples)
    pixels = (smooth + rng.integers(0, 40, smooth.shape)).clip(0, 255).astype(np.uint8)
    data = every_filter_png(pixels, colour, extra)  # rows filtered None, Sub, Up, Avg, Paeth
    whole = Image.open(io.BytesIO(data))
    expected = whole.convert("RGB").reduce(3)
    # Strips of 6 rows: every strip starts on a filtered row that needs the one before.
    reduced = png_reduced(data, 3, strip_pixels=61 * 6)
    assert reduced.size == expected.size == (21, 16)
    assert reduced.tobytes() == expected.tobytes()


def test_a_truncated_png_is_an_error_not_a_partial_picture() -> None:
    pixels = np.full((40, 30, 3), 99, np.uint8)
    data = every_filter_png(pixels, 2)
    idat = data.index(b"IDAT")
    broken = data[: idat + 40]
    with pytest.raises(EvidenceError, match=r"truncated|corrupt"):
        png_reduced(broken, 2)


def test_over_budget_without_reduced_decoding_is_refused() -> None:
    gif = io.BytesIO()
    Image.new("P", (400, 300)).save(gif, "GIF")
    img = Image.open(io.BytesIO(gif.getvalue()))
    with pytest.raises(EvidenceError) as caught:
        decode(img, gif.getvalue(), 100_000, 768, to_rgb)
    assert str(caught.value) == (
        "400x300 (120000 pixels) exceeds the decode budget of 100000 pixels (about "
        f"{100_000 * BYTES_PER_PIXEL // 2**20} MiB) and GIF has no reduced decoding here; "
        "not decoded"
    )


# Runs the fast pass's per-item function (what every worker runs) on the huge PNG in a
# fresh interpreter, after a warm-up item, and reports how much the process's peak
# resident memory grew while it did (Linux: /proc/self/status).
PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from unseen.core.models import ItemTask, SourceSpec
    from unseen.core.settings import Settings
    from unseen.engine.pipeline import WorkerConfig, process_item

    root = Path(sys.argv[1])
    spec = SourceSpec(1, "folder", str(root / "evidence"), "EV01")
    config = WorkerConfig(Settings(decode_memory_bytes=int(sys.argv[2])), str(root / "thumbs"))

    def run(item_id, name):
        size = (root / "evidence" / name).stat().st_size
        return process_item(ItemTask(item_id, spec, name, name.encode(), size), config)

    def status(key):
        line = next(x for x in open("/proc/self/status") if x.startswith(key + ":"))
        return int(line.split()[1]) * 1024

    run(1, "small.png")  # imports and analysers loaded: not the picture's cost
    # getrusage's peak survives exec (it starts at the parent's size): the kernel's
    # high-water mark of this process's own memory, reset here, does not.
    open("/proc/self/clear_refs", "w").write("5")
    before = status("VmRSS")
    record = run(2, "huge.png")
    grown = status("VmHWM") - before
    image = record.image
    print(json.dumps({
        "grown": grown, "size": [image.width, image.height], "policy": image.pdq_policy,
        "pdq": image.pdq, "thumbnail": image.thumbnail, "errors": record.errors,
    }))
    """
)


def test_a_13000_pixel_square_png_never_decodes_at_full_size(tmp_path: Path) -> None:
    data = banded_png(BIG_SIDE, BAND, seed=7)
    assert len(data) < 600_000  # about 500 KB claiming 169 M pixels (507 MB of RGB)
    (tmp_path / "evidence").mkdir()
    (tmp_path / "thumbs").mkdir()
    (tmp_path / "evidence" / "huge.png").write_bytes(data)
    Image.new("RGB", (64, 64), (1, 2, 3)).save(tmp_path / "evidence" / "small.png")
    budget_bytes = 256 * 1024 * 1024
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path), str(budget_bytes)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["size"] == [BIG_SIDE, BIG_SIDE]
    assert result["policy"] == "png-strips-1/6"  # 2167 x 2167 fits 256 MiB at 40 B/pixel
    assert (result["errors"], bool(result["thumbnail"])) == ([], True)
    # Within the budget (a full decode takes about 5 GB).
    assert 0 < result["grown"] < budget_bytes
    reference = pdq(Image.fromarray(banded_reference(BIG_SIDE, BAND, 7, 10)))
    assert hamming(result["pdq"], reference) <= 8
