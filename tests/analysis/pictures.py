"""Benign synthetic photographs for decoding tests: smooth shapes under fine detail."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def detailed(width: int, height: int, seed: int, noise: int = 25) -> Image.Image:
    """Soft coloured shapes, thin strokes and sensor-like grain: the fine detail that
    separates a draft decode from a full one (drawn small and enlarged, then grained)."""
    rng = np.random.default_rng(seed)
    small = Image.new("RGB", (width // 4, height // 4), (128, 128, 128))
    draw = ImageDraw.Draw(small)
    for _ in range(30):
        x, y = rng.uniform(0, small.width), rng.uniform(0, small.height)
        r = rng.uniform(0.05, 0.3) * min(small.size)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    img = small.filter(ImageFilter.GaussianBlur(6)).resize((width, height))
    draw = ImageDraw.Draw(img)
    for _ in range(400):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(2, 40) * width / 1000
        end = (x + rng.uniform(-3, 3) * r, y + rng.uniform(-3, 3) * r)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.line((x, y, *end), fill=colour, width=max(1, int(r / 4)))
    grain = rng.integers(-noise, noise + 1, (height, width, 3), dtype=np.int16)
    return Image.fromarray(np.clip(np.asarray(img) + grain, 0, 255).astype(np.uint8))


def jpeg_bytes(img: Image.Image, quality: int, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, **params)
    return out.getvalue()
