"""PDQ at the project's matching threshold: true-match rate per transformation and
false-match rate over every pair of a benign distractor set.

Pictures are synthetic rooms from ``unseen.demo.synth.render_scene`` (benign, generated
by code, one room per id). A transformed copy matches its original as the matcher
decides: some dihedral hash of the copy within ``MatchConfig.max_distance`` bits of the
original's hash, and the copy's PDQ quality at least ``min_quality``. Distractors are
rooms with other ids; every pair is compared the same way.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from unseen.demo.synth import render_scene
from unseen.matching.matcher import MatchConfig
from unseen.validation.stats import Rate

SIZE = (320, 240)
BASE_IDS = 100_000  # room ids of the originals; distractors use ids from 200_000
DISTRACTOR_IDS = 200_000
Transform = Callable[[Image.Image], Image.Image]


def _jpeg(quality: int) -> Transform:
    def apply(img: Image.Image) -> Image.Image:
        out = io.BytesIO()
        img.save(out, "JPEG", quality=quality)
        return Image.open(io.BytesIO(out.getvalue())).convert("RGB")

    return apply


def _crop(percent: float) -> Transform:
    """``percent`` of the width and height cut off, half from each side."""

    def apply(img: Image.Image) -> Image.Image:
        dx, dy = round(img.width * percent / 200), round(img.height * percent / 200)
        return img.crop((dx, dy, img.width - dx, img.height - dy))

    return apply


def _border(percent: float) -> Transform:
    def apply(img: Image.Image) -> Image.Image:
        return ImageOps.expand(img, round(img.width * percent / 100), fill=(0, 0, 0))

    return apply


def _caption(img: Image.Image) -> Image.Image:
    out = img.copy()
    draw = ImageDraw.Draw(out)
    band = img.height // 6
    draw.rectangle((0, img.height - band, img.width, img.height), fill=(255, 255, 255))
    draw.text((8, img.height - band + 4), "holiday 2019 - day 3", fill=(0, 0, 0))
    return out


TRANSFORMS: dict[str, Transform] = {
    "resize to 50 %": lambda im: im.resize((im.width // 2, im.height // 2)),
    "resize to 200 %": lambda im: im.resize((im.width * 2, im.height * 2)),
    "crop 1 %": _crop(1),
    "crop 5 %": _crop(5),
    "crop 10 %": _crop(10),
    "rotate 90": lambda im: im.transpose(Image.Transpose.ROTATE_90),
    "rotate 180": lambda im: im.transpose(Image.Transpose.ROTATE_180),
    "rotate 3 degrees": lambda im: im.rotate(3, Image.Resampling.BILINEAR),
    "mirror": lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "JPEG quality 30": _jpeg(30),
    "JPEG quality 50": _jpeg(50),
    "JPEG quality 70": _jpeg(70),
    "JPEG quality 95": _jpeg(95),
    "brighter 30 %": lambda im: ImageEnhance.Brightness(im).enhance(1.3),
    "greyscale": lambda im: im.convert("L").convert("RGB"),
    "saturation x 1.5": lambda im: ImageEnhance.Color(im).enhance(1.5),
    "text caption band": _caption,
    "black border 5 %": _border(5),
}


def hashes(img: Image.Image) -> tuple[np.ndarray, int]:
    """The eight dihedral PDQ hashes as (8, 4) uint64 words, and the PDQ quality."""
    found, quality = pdqhash.compute_dihedral(np.ascontiguousarray(np.asarray(img)))
    words = np.stack([np.packbits(h.astype(np.uint8)).view(">u8") for h in found])
    return words.astype(np.uint64), int(quality)


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between rows of 4-word hashes (broadcasting)."""
    result: np.ndarray = np.bitwise_count(a ^ b).sum(axis=-1)
    return result


@dataclass(frozen=True, slots=True)
class PdqResult:
    threshold: int
    min_quality: int
    originals: int
    true_match: dict[str, Rate]
    distractors: int
    low_quality: int
    false_match: Rate
    closest_distractor_pair: int


def true_matches(count: int, config: MatchConfig) -> dict[str, Rate]:
    """Per transformation: copies that still match their original."""
    hits = dict.fromkeys(TRANSFORMS, 0)
    for i in range(count):
        original = render_scene(BASE_IDS + i, SIZE)
        reference = hashes(original)[0][0]
        for name, transform in TRANSFORMS.items():
            copy, quality = hashes(transform(original).convert("RGB"))
            near = int(distance(copy, reference).min()) <= config.max_distance
            hits[name] += int(near and quality >= config.min_quality)
    return {name: Rate(n, count) for name, n in hits.items()}


def false_matches(count: int, config: MatchConfig) -> tuple[Rate, int, int, int]:
    """Over every pair of ``count`` distractor rooms (those of usable quality): pairs
    that would match; also the pairs' count, how many rooms were left out for low
    quality and the smallest distance seen."""
    dihedral, upright = [], []
    low = 0
    for i in range(count):
        words, quality = hashes(render_scene(DISTRACTOR_IDS + i, SIZE))
        if quality < config.min_quality:
            low += 1
            continue
        dihedral.append(words)
        upright.append(words[0])
    queries = np.stack(dihedral)  # (n, 8, 4)
    references = np.stack(upright)  # (n, 4)
    matched, pairs, closest = 0, 0, 256
    for j in range(1, len(references)):
        # Item j against every earlier reference, all eight orientations.
        d = distance(queries[j][None, :, :], references[:j, None, :]).min(axis=1)
        matched += int((d <= config.max_distance).sum())
        pairs += j
        closest = min(closest, int(d.min()))
    return Rate(matched, pairs), pairs, low, closest


def measure(originals: int, distractors: int, config: MatchConfig | None = None) -> PdqResult:
    config = config or MatchConfig()
    true = true_matches(originals, config)
    false, _pairs, low, closest = false_matches(distractors, config)
    return PdqResult(
        config.max_distance, config.min_quality, originals, true, distractors, low, false, closest
    )
