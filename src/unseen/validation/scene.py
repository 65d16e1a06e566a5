"""Same-room verification (the scene grouping's deciding step) under viewpoint, crop,
exposure and occluder changes, on benign synthetic rooms.

Each room is shot five ways (``SHOTS``); every pair of pictures is verified with the
grouping's own ORB + RANSAC + photometric check. Pairs of one room that verify are
true matches (recall); pairs of two rooms that verify are false matches. Candidate
proposal by the image embedding, which comes before verification, is not measured.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from unseen.demo.synth import render_scene
from unseen.validation.stats import Rate

SIZE = (480, 360)
ROOM_IDS = 300_000


def _crop80(img: Image.Image) -> Image.Image:
    w, h = img.size
    return img.crop((w // 10, h // 20, w // 10 + w * 4 // 5, h // 20 + h * 4 // 5))


def _occluded(img: Image.Image, seed: int) -> Image.Image:
    """A person-sized dark shape over a fifth of the picture, somewhere."""
    rng = np.random.default_rng(seed)
    out = img.copy()
    w, h = img.size
    x = int(rng.uniform(0.1, 0.6) * w)
    ImageDraw.Draw(out).rectangle((x, h // 5, x + w // 4, h), fill=(40, 38, 45))
    return out


# Shot name -> (view, lighting, what is done to it).
SHOTS: dict[str, tuple[int, float, Callable[[Image.Image, int], Image.Image] | None]] = {
    "reference": (0, 1.0, None),
    "other viewpoint, brighter": (2, 1.2, None),
    "other viewpoint, darker": (1, 0.7, None),
    "80 % crop": (3, 0.9, lambda im, _seed: _crop80(im)),
    "occluder over 20 %": (0, 1.0, _occluded),
}


@dataclass(frozen=True, slots=True)
class SceneResult:
    rooms: int
    recall: Rate
    recall_by_shot: dict[str, Rate]
    false_match: Rate


def unavailable() -> str | None:
    """Why the measurement cannot run here (the ``scene`` extra missing), or None."""
    try:
        import cv2  # noqa: F401
    except ImportError:
        return "the scene extra (opencv-python-headless) is not installed"
    return None


def measure(rooms: int) -> SceneResult:
    from unseen.correlation.scene import local_features, verify

    features = {}
    for r in range(rooms):
        for name, (view, lighting, change) in SHOTS.items():
            img = render_scene(ROOM_IDS + r, SIZE, view, lighting)
            if change is not None:
                img = change(img, r)
            features[(r, name)] = local_features(img)
    same = dict.fromkeys(SHOTS, 0)
    same_total = dict.fromkeys(SHOTS, 0)
    hits = trials = false = pairs = 0
    for a, b in itertools.combinations(features, 2):
        verified = int(verify(features[a], features[b]).same)
        if a[0] != b[0]:
            false += verified
            pairs += 1
            continue
        hits += verified
        trials += 1
        for shot in {a[1], b[1]} - {"reference"}:  # each changed shot in the pair
            same[shot] += verified
            same_total[shot] += 1
    by_shot = {s: Rate(same[s], same_total[s]) for s in SHOTS if s != "reference"}
    return SceneResult(rooms, Rate(hits, trials), by_shot, Rate(false, pairs))
