"""Text read in pictures (the ``ocr`` deep analyser's Tesseract reading) under the
transformations copies go through, on generated benign signs.

Each picture is a synthetic room with a light panel carrying two lines of text: a
benign made-up phrase and a number (as a shop sign, a door plate or a notice would),
drawn in Pillow's bundled font at a height of ``TEXT_PX`` px. The analyser's own
``read_words`` reads every transformed copy; what it reads is compared with what
was drawn: characters as the drawn ones read in order (the longest common
subsequence, spaces ignored, so the room's own poster text read beside the sign
costs nothing), words by whether each drawn word was read exactly (case kept).
Intervals treat characters and words as independent trials, which they are not quite
(one blurred line loses several at once): read them as a guide.
"""

from __future__ import annotations

import io
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from unseen.demo.synth import render_scene
from unseen.validation.stats import Rate

SIZE = (640, 480)
TEXT_PX = 28
SIGNS = 20
SCENES = 950_000
WORDS = tuple(
    [
        "garden",
        "market",
        "bakery",
        "river",
        "station",
        "library",
        "museum",
        "harbour",
        "bridge",
        "corner",
        "school",
        "office",
        "bicycle",
        "window",
        "orange",
        "yellow",
        "morning",
        "evening",
        "coffee",
        "bread",
        "street",
        "square",
        "north",
        "south",
        "west",
        "east",
        "green",
        "silver",
        "meadow",
        "castle",
    ]
)


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _half(img: Image.Image) -> Image.Image:
    return _jpeg(img.resize((img.width // 2, img.height // 2), Image.Resampling.LANCZOS), 90)


def _turned(img: Image.Image) -> Image.Image:
    return _jpeg(img.rotate(3, Image.Resampling.BICUBIC, expand=True, fillcolor=(128,) * 3), 90)


def _blurred(img: Image.Image) -> Image.Image:
    return _jpeg(img.filter(ImageFilter.GaussianBlur(1.0)), 90)


def _darker(img: Image.Image) -> Image.Image:
    return _jpeg(Image.fromarray((np.asarray(img, dtype=np.float32) * 0.45).astype(np.uint8)), 90)


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "JPEG quality 90": lambda im: _jpeg(im, 90),
    "JPEG quality 50": lambda im: _jpeg(im, 50),
    "half size (text 14 px)": _half,
    "turned 3 degrees": _turned,
    "blurred (Gaussian 1 px)": _blurred,
    "darker (45 % exposure)": _darker,
}


@dataclass(frozen=True, slots=True)
class OcrResult:
    signs: int
    characters: dict[str, Rate]  # transformation -> drawn characters read
    words: dict[str, Rate]  # transformation -> drawn words read exactly


def unavailable() -> str | None:
    """Why the measurement cannot run here (the ``ocr`` extra or tesseract missing)."""
    from unseen.correlation.deep.ocr import OcrAnalyser

    if shutil.which("tesseract") is None:
        return "the tesseract program is not installed"
    return OcrAnalyser().unavailable()


def sign(n: int) -> tuple[Image.Image, str]:
    """Benign sign ``n``: its picture and the text drawn on it (lines joined by \\n)."""
    rng = np.random.default_rng([n, 0x0C2])
    words = [str(w).capitalize() for w in rng.choice(WORDS, 3, replace=False)]
    text = f"{' '.join(words)}\nNo {int(rng.integers(10, 9999))}"
    img = render_scene(SCENES + n, SIZE)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=TEXT_PX)
    left, top, right, bottom = (
        int(v) for v in draw.multiline_textbbox((0, 0), text, font=font, spacing=10)
    )
    x = int(rng.integers(20, max(21, SIZE[0] - (right - left) - 40)))
    y = int(rng.integers(20, max(21, SIZE[1] - (bottom - top) - 40)))
    panel = (x - 16, y - 12, x + right - left + 16, y + bottom - top + 16)
    draw.rectangle(panel, fill=(238, 236, 228), outline=(60, 60, 60), width=3)
    draw.multiline_text((x - left, y - top), text, fill=(20, 24, 32), font=font, spacing=10)
    return img, text


def common(a: str, b: str) -> int:
    """The length of the longest common subsequence of ``a`` and ``b``: the drawn
    characters read in order, whatever else was read around them."""
    previous = [0] * (len(b) + 1)
    for ca in a:
        current = [0]
        for j, cb in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if ca == cb else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def score(drawn: str, read: list[str]) -> tuple[int, int, int, int]:
    """(characters right, characters drawn, words right, words drawn)."""
    want = "".join(drawn.split())
    found = Counter(read)
    words_right = 0
    for word in drawn.split():
        if found[word] > 0:
            found[word] -= 1
            words_right += 1
    return common(want, "".join(read)), len(want), words_right, len(drawn.split())


def measure(signs: int = SIGNS) -> OcrResult:
    from unseen.correlation.deep.ocr import read_words

    totals = {name: [0, 0, 0, 0] for name in TRANSFORMS}
    for n in range(signs):
        img, text = sign(n)
        for name, change in TRANSFORMS.items():
            read = [w.text for w in read_words(change(img))]
            for k, value in enumerate(score(text, read)):
                totals[name][k] += value
    return OcrResult(
        signs,
        {name: Rate(t[0], t[1]) for name, t in totals.items()},
        {name: Rate(t[2], t[3]) for name, t in totals.items()},
    )
