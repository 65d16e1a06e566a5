"""Benign synthetic pictures and camera metadata, drawn by code and fully deterministic.

Used by the demo "seized device", by tests and by benchmarks. Everything is seeded:
the same arguments give the same pixels and the same bytes on any machine with the
same library versions (numpy, Pillow, libjpeg, zlib).

A *scene* is a procedurally drawn room (wall and floor gradients, furniture, a rug,
a poster with text). Different scene ids look clearly different to a perceptual hash;
the *views* of one scene (small shifts and zooms) and its *lighting* variants look
alike, like several shots of the same place.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont

from unseen.demo.cameras import (
    CAMERAS,
    Camera,
    camera_exif,
    camera_qtables,
    exif_for,
    jpeg_thumbnail,
    save_camera_jpeg,
)

__all__ = [
    "CAMERAS",
    "Camera",
    "camera_exif",
    "camera_qtables",
    "exif_for",
    "jpeg_thumbnail",
    "make_camera_like_jpeg",
    "render_scene",
    "save_camera_jpeg",
]

# The room is drawn on a canvas this much larger than the output, so every view
# (shifted or zoomed) still crops inside the drawing.
_MARGIN = 1.15
_WORDS = ("HOLIDAY", "CONCERT", "GARDEN", "MUSEUM", "OCEAN", "MARKET", "SUMMER", "CINEMA")
_RGB = tuple[int, int, int]


def render_scene(
    scene_id: int, size: tuple[int, int], view: int = 0, lighting: float = 1.0
) -> Image.Image:
    """Draw synthetic room ``scene_id`` as an RGB image of ``size`` (width, height) px.

    Args:
        scene_id: seeds the layout, colours and text; different ids, different rooms.
        size: output width and height in pixels.
        view: 0 is the centred shot; other values shift (up to 1.2 % of the size) and
            zoom (up to 3 %) the viewpoint, like another shot of the same place.
        lighting: brightness factor (1.0 unchanged, 0.7 darker, 1.2 brighter).

    Returns:
        A new RGB image; the same arguments always give the same pixels.

    Example:
        >>> render_scene(7, (320, 240), view=1).size
        (320, 240)
    """
    width, height = size
    world = (round(width * _MARGIN), round(height * _MARGIN))
    rng = np.random.default_rng([scene_id, 0x5CE7E])
    canvas = _room_background(rng, world)
    _draw_furnishings(ImageDraw.Draw(canvas), rng, world, scene_id)
    shot = canvas.resize(size, Image.Resampling.BILINEAR, box=_view_box(scene_id, view, world))
    return _expose(shot, np.random.default_rng([scene_id, view, round(lighting * 1000)]), lighting)


def _colour(rng: np.random.Generator, lo: int = 30, hi: int = 235) -> _RGB:
    r, g, b = (int(v) for v in rng.integers(lo, hi, 3))
    return (r, g, b)


def _room_background(rng: np.random.Generator, world: tuple[int, int]) -> Image.Image:
    """Wall above the horizon, floor below, each a vertical gradient, lit from one side."""
    w, h = world
    horizon = int(h * rng.uniform(0.42, 0.72))
    ys = np.arange(h, dtype=np.float32)[:, None, None]
    wall_t = np.clip(ys / max(horizon, 1), 0, 1)
    floor_t = np.clip((ys - horizon) / max(h - horizon, 1), 0, 1)
    wall = _lerp(_colour(rng), _colour(rng), wall_t)
    floor = _lerp(_colour(rng, 20, 200), _colour(rng, 20, 200), floor_t)
    arr = np.where(ys < horizon, wall, floor)
    # Side light: brightness ramps across the width (factor 0.6-1.4), in either direction.
    slope = rng.uniform(-0.4, 0.4)
    xs = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :, None]
    arr = np.broadcast_to(arr, (h, w, 3)) * (1.0 + slope * xs)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def _lerp(a: _RGB, b: _RGB, t: np.ndarray) -> np.ndarray:
    lo, hi = np.array(a, np.float32), np.array(b, np.float32)
    mixed: np.ndarray = lo + (hi - lo) * t
    return mixed


def _draw_furnishings(
    draw: ImageDraw.ImageDraw, rng: np.random.Generator, world: tuple[int, int], scene_id: int
) -> None:
    w, h = world
    _draw_window(draw, rng, w, h)
    _draw_poster(draw, rng, w, h, scene_id)
    _draw_rug(draw, rng, w, h)
    for _ in range(int(rng.integers(2, 5))):
        _draw_furniture(draw, rng, w, h)
    for _ in range(int(rng.integers(2, 5))):
        _draw_round_thing(draw, rng, w, h)


def _box(
    rng: np.random.Generator,
    w: int,
    h: int,
    x: tuple[float, float],
    y: tuple[float, float],
    bw: tuple[float, float],
    bh: tuple[float, float],
) -> tuple[int, int, int, int]:
    """A rectangle whose position and size are fractions of the canvas, drawn from ranges."""
    x0, y0 = int(w * rng.uniform(*x)), int(h * rng.uniform(*y))
    return x0, y0, x0 + int(w * rng.uniform(*bw)), y0 + int(h * rng.uniform(*bh))


def _draw_window(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int) -> None:
    x0, y0, x1, y1 = _box(rng, w, h, (0.05, 0.65), (0.05, 0.15), (0.15, 0.3), (0.2, 0.3))
    draw.rectangle(
        (x0, y0, x1, y1),
        fill=_colour(rng, 150, 255),
        outline=(250, 250, 245),
        width=max(2, w // 150),
    )
    mx, my = (x0 + x1) // 2, (y0 + y1) // 2
    bar = max(2, w // 250)
    draw.line((mx, y0, mx, y1), fill=(245, 245, 240), width=bar)
    draw.line((x0, my, x1, my), fill=(245, 245, 240), width=bar)


def _draw_poster(
    draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int, scene_id: int
) -> None:
    x0, y0, x1, y1 = _box(rng, w, h, (0.1, 0.7), (0.12, 0.22), (0.14, 0.22), (0.16, 0.24))
    draw.rectangle((x0, y0, x1, y1), fill=_colour(rng, 180, 255), outline=(20, 20, 20), width=2)
    inner = (x0 + (x1 - x0) // 8, y0 + (y1 - y0) // 2, x1 - (x1 - x0) // 8, y1 - (y1 - y0) // 10)
    draw.ellipse(inner, fill=_colour(rng))
    font = ImageFont.load_default(size=max(9, (x1 - x0) // 8))
    word = _WORDS[int(rng.integers(len(_WORDS)))]
    draw.text((x0 + 6, y0 + 4), f"{word}\nNo. {scene_id}", fill=(15, 15, 15), font=font)


def _draw_rug(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int) -> None:
    x0, y0, x1, y1 = _box(rng, w, h, (0.1, 0.5), (0.76, 0.82), (0.3, 0.45), (0.1, 0.15))
    a, b = _colour(rng), _colour(rng)
    stripes = int(rng.integers(5, 12))
    step = max(1, (x1 - x0) // stripes)
    for i, x in enumerate(range(x0, x1, step)):
        draw.rectangle((x, y0, min(x + step, x1), y1), fill=a if i % 2 else b)
    draw.rectangle((x0, y0, x1, y1), outline=_colour(rng, 0, 80), width=max(2, w // 200))


def _draw_furniture(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int) -> None:
    x0, y0, x1, y1 = _box(rng, w, h, (0.0, 0.8), (0.45, 0.65), (0.12, 0.3), (0.15, 0.3))
    body = _colour(rng, 10, 200)
    draw.rectangle((x0, y0, x1, y1), fill=body)
    top = tuple(max(0, c - 40) for c in body)
    draw.rectangle((x0, y0, x1, y0 + (y1 - y0) // 6), fill=top)
    leg = max(3, (x1 - x0) // 14)
    for lx in (x0 + leg, x1 - 2 * leg):
        draw.rectangle((lx, y1, lx + leg, y1 + (y1 - y0) // 6), fill=top)


def _draw_round_thing(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int) -> None:
    cx, cy = int(w * rng.uniform(0.05, 0.95)), int(h * rng.uniform(0.1, 0.9))
    r = int(min(w, h) * rng.uniform(0.03, 0.09))
    draw.ellipse(
        (cx - r, cy - r, cx + r, cy + r),
        fill=_colour(rng),
        outline=(0, 0, 0),
        width=max(1, r // 12),
    )


def _view_box(
    scene_id: int, view: int, world: tuple[int, int]
) -> tuple[float, float, float, float]:
    """The part of the world canvas a view sees: centred for view 0, else shifted/zoomed."""
    w, h = world
    if view == 0:
        zoom, dx, dy = 1.0, 0.0, 0.0
    else:
        vr = np.random.default_rng([scene_id, view, 0x71E3])
        zoom = float(vr.uniform(1.0, 1.03))
        dx, dy = (float(v) for v in vr.uniform(-0.012, 0.012, 2))
    cw, ch = w / _MARGIN / zoom, h / _MARGIN / zoom
    cx = min(max(w / 2 + dx * w, cw / 2), w - cw / 2)
    cy = min(max(h / 2 + dy * h, ch / 2), h - ch / 2)
    return (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)


def _expose(img: Image.Image, rng: np.random.Generator, lighting: float) -> Image.Image:
    """Apply the lighting factor and mild sensor noise (uniform, +-5 levels)."""
    arr = np.asarray(img, dtype=np.float32) * lighting
    arr += rng.integers(-5, 6, arr.shape, dtype=np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def make_camera_like_jpeg(
    path: Path, width: int, height: int, seed: int, exif: bool = True
) -> None:
    """Write a fast camera-like JPEG (gradients, shapes, sensor noise, EXIF) for benchmarks.

    Cheaper than :func:`render_scene` at camera resolutions: the gradient is drawn
    small and upscaled, shapes and noise are added by Pillow's C code, and the noise
    is one 256 px tile placed at a seeded offset. About 0.3 s for 12 megapixels.

    Args:
        path: where to write the JPEG.
        width, height: pixel size.
        seed: selects colours, shapes, noise, camera body and capture time.
        exif: write camera EXIF (GPS on even seeds). Either way the file is encoded
            with the tables of body ``seed % 4`` of :data:`CAMERAS`.
    """
    rng = np.random.default_rng([seed, 0xBE7C])
    small = _gradient(rng, max(2, width // 16), max(2, height // 16))
    img = Image.fromarray(small, "RGB").resize((width, height), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        _stamp_shape(draw, rng, width, height)
    img = ImageChops.add(img, _noise(rng, width, height), offset=-6)
    camera = list(CAMERAS.values())[seed % len(CAMERAS)]
    block = None
    if exif:
        when = datetime(2024, 5, 1, 9, 0, 0) + timedelta(minutes=seed % 50_000)
        gps = (53.7997, -1.5492, 63.0) if seed % 2 == 0 else None
        block = exif_for(camera, when, gps)
    save_camera_jpeg(path, img, block, camera=camera)


def _gradient(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A diagonal three-colour gradient as a uint8 RGB array."""
    a, b, c = (np.array(_colour(rng), np.float32) for _ in range(3))
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    mixed: np.ndarray = np.clip(a + (b - a) * ys + (c - a) * xs * 0.5, 0, 255)
    return mixed.astype(np.uint8)


def _stamp_shape(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int) -> None:
    """Draw a filled rectangle or disc of a random colour and size."""
    x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
    x1 = x0 + int(rng.integers(w // 10, w // 3))
    y1 = y0 + int(rng.integers(h // 10, h // 3))
    shape = draw.rectangle if rng.random() < 0.5 else draw.ellipse
    shape((x0, y0, x1, y1), fill=_colour(rng))


def _noise(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Sensor-like noise, 0-12 per channel (added with offset -6): a tiled 256 px patch."""
    tile = rng.integers(0, 13, (256, 256, 3), dtype=np.uint8)
    dx, dy = (int(v) for v in rng.integers(0, 256, 2))
    tiled = np.tile(tile, ((height + dy) // 256 + 1, (width + dx) // 256 + 1, 1))
    return Image.fromarray(np.ascontiguousarray(tiled[dy : dy + height, dx : dx + width]), "RGB")
