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

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import piexif
from PIL import Image, ImageDraw, ImageFont

# The room is drawn on a canvas this much larger than the output, so every view
# (shifted or zoomed) still crops inside the drawing.
_MARGIN = 1.15
_WORDS = ("HOLIDAY", "CONCERT", "GARDEN", "MUSEUM", "OCEAN", "MARKET", "SUMMER", "CINEMA")
_RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Camera:
    """A fictitious camera body as its EXIF and its memory card would show it.

    Attributes:
        key: stable short name used in the demo manifest.
        folder: the DCIM sub-folder the body writes to.
        pattern: file name pattern, formatted with ``n`` (shot number) and ``when``.
        offset: UTC offset the body records with its times (phones do, DSLRs don't).
    """

    key: str
    make: str
    model: str
    serial: str | None
    software: str | None
    lens: str | None
    folder: str
    pattern: str
    offset: str | None = None


CAMERAS: dict[str, Camera] = {
    c.key: c
    for c in (
        Camera(
            "canon-80d", "Canon", "Canon EOS 80D", "183012345678", None,
            "EF-S18-55mm f/3.5-5.6 IS STM", "100CANON", "IMG_{n:04d}.JPG",
        ),
        Camera(
            "iphone-12", "Apple", "iPhone 12", None, "16.1",
            "iPhone 12 back dual wide camera 4.2mm f/1.6", "100APPLE", "IMG_{n:04d}.JPG",
            "+01:00",
        ),
        Camera(
            "galaxy-s21", "samsung", "SM-G991B", None, "G991BXXU5CVLL", None,
            "Camera", "{when:%Y%m%d_%H%M%S}.jpg", "+02:00",
        ),
        Camera(
            "nikon-d3500", "NIKON CORPORATION", "NIKON D3500", "6012345", "Ver.1.10",
            "18.0-55.0 mm f/3.5-5.6", "100D3500", "DSC_{n:04d}.JPG",
        ),
    )
}  # fmt: skip


def render_scene(
    scene_id: int, size: tuple[int, int], view: int = 0, lighting: float = 1.0
) -> Image.Image:
    """Draw synthetic room ``scene_id`` as an RGB image of ``size`` (width, height) px.

    Args:
        scene_id: seeds the layout, colours and text; different ids, different rooms.
        size: output width and height in pixels.
        view: 0 is the centred shot; other values shift (up to 4 % of the width) and
            zoom (up to 10 %) the viewpoint, like another shot of the same place.
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
    return lo + (hi - lo) * t


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


def _box(rng: np.random.Generator, w: int, h: int, x: tuple[float, float], y: tuple[float, float],
         bw: tuple[float, float], bh: tuple[float, float]) -> tuple[int, int, int, int]:  # fmt: skip
    """A rectangle whose position and size are fractions of the canvas, drawn from ranges."""
    x0, y0 = int(w * rng.uniform(*x)), int(h * rng.uniform(*y))
    return x0, y0, x0 + int(w * rng.uniform(*bw)), y0 + int(h * rng.uniform(*bh))


def _draw_window(draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int) -> None:
    x0, y0, x1, y1 = _box(rng, w, h, (0.05, 0.65), (0.05, 0.15), (0.15, 0.3), (0.2, 0.3))
    draw.rectangle((x0, y0, x1, y1), fill=_colour(rng, 150, 255), outline=(250, 250, 245),
                   width=max(2, w // 150))  # fmt: skip
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


def _draw_round_thing(
    draw: ImageDraw.ImageDraw, rng: np.random.Generator, w: int, h: int
) -> None:
    cx, cy = int(w * rng.uniform(0.05, 0.95)), int(h * rng.uniform(0.1, 0.9))
    r = int(min(w, h) * rng.uniform(0.03, 0.09))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_colour(rng), outline=(0, 0, 0),
                 width=max(1, r // 12))  # fmt: skip


def _view_box(
    scene_id: int, view: int, world: tuple[int, int]
) -> tuple[float, float, float, float]:
    """The part of the world canvas a view sees: centred for view 0, else shifted/zoomed."""
    w, h = world
    if view == 0:
        zoom, dx, dy = 1.0, 0.0, 0.0
    else:
        vr = np.random.default_rng([scene_id, view, 0x71E3])
        zoom = float(vr.uniform(1.0, 1.1))
        dx, dy = (float(v) for v in vr.uniform(-0.04, 0.04, 2))
    cw, ch = w / _MARGIN / zoom, h / _MARGIN / zoom
    cx = min(max(w / 2 + dx * w, cw / 2), w - cw / 2)
    cy = min(max(h / 2 + dy * h, ch / 2), h - ch / 2)
    return (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)


def _expose(img: Image.Image, rng: np.random.Generator, lighting: float) -> Image.Image:
    """Apply the lighting factor and mild sensor noise (uniform, +-5 levels)."""
    arr = np.asarray(img, dtype=np.float32) * lighting
    arr += rng.integers(-5, 6, arr.shape, dtype=np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def _rational(value: float, denominator: int) -> tuple[int, int]:
    return (round(value * denominator), denominator)


def _dms(degrees: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Unsigned decimal degrees as EXIF degrees/minutes/seconds (seconds to 1/10000)."""
    value = abs(degrees)
    d = int(value)
    m = int((value - d) * 60)
    s = (value - d - m / 60) * 3600
    return ((d, 1), (m, 1), _rational(s, 10000))


def _offset_text(when: datetime) -> str:
    """The UTC offset of an aware time as EXIF writes it: ``+01:00``."""
    minutes = round((when.utcoffset() or timedelta()).total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _gps_ifd(gps: tuple[float, float, float], when: datetime) -> dict[int, object]:
    lat, lon, alt = gps
    utc = when.astimezone(UTC) if when.tzinfo else when
    return {
        piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
        piexif.GPSIFD.GPSLatitudeRef: b"N" if lat >= 0 else b"S",
        piexif.GPSIFD.GPSLatitude: _dms(lat),
        piexif.GPSIFD.GPSLongitudeRef: b"E" if lon >= 0 else b"W",
        piexif.GPSIFD.GPSLongitude: _dms(lon),
        piexif.GPSIFD.GPSAltitudeRef: 0 if alt >= 0 else 1,
        piexif.GPSIFD.GPSAltitude: _rational(abs(alt), 100),
        piexif.GPSIFD.GPSTimeStamp: ((utc.hour, 1), (utc.minute, 1), (utc.second, 1)),
        piexif.GPSIFD.GPSDateStamp: utc.strftime("%Y:%m:%d").encode(),
    }


def camera_exif(
    make: str,
    model: str,
    serial: str | None,
    when: datetime,
    gps: tuple[float, float, float] | None,
    lens: str | None = None,
    software: str | None = None,
    orientation: int = 1,
    thumbnail: bytes | None = None,
) -> bytes:
    """An EXIF block (``Exif\\0\\0`` + TIFF) as a camera would write it.

    Args:
        make, model: IFD0 Make and Model.
        serial: BodySerialNumber, or None (phones usually write none).
        when: DateTimeOriginal as the camera clock showed it; if ``when`` has a
            timezone its offset goes into OffsetTimeOriginal and GPS time is UTC.
        gps: (latitude, longitude, altitude in metres), signed decimal degrees.
        lens: LensModel. software: IFD0 Software (firmware).
        orientation: EXIF orientation 1-8 of the stored pixels.
        thumbnail: a small JPEG to embed as the IFD1 thumbnail.

    Returns:
        Bytes for Pillow's ``save(..., exif=...)``.
    """
    stamp = when.strftime("%Y:%m:%d %H:%M:%S").encode()
    zeroth: dict[int, object] = {
        piexif.ImageIFD.Make: make.encode(),
        piexif.ImageIFD.Model: model.encode(),
        piexif.ImageIFD.Orientation: orientation,
        piexif.ImageIFD.DateTime: stamp,
        piexif.ImageIFD.XResolution: (72, 1),
        piexif.ImageIFD.YResolution: (72, 1),
        piexif.ImageIFD.ResolutionUnit: 2,
    }
    if software:
        zeroth[piexif.ImageIFD.Software] = software.encode()
    exif: dict[int, object] = {
        piexif.ExifIFD.ExifVersion: b"0231",
        piexif.ExifIFD.DateTimeOriginal: stamp,
        piexif.ExifIFD.DateTimeDigitized: stamp,
    }
    if when.tzinfo is not None:
        exif[piexif.ExifIFD.OffsetTimeOriginal] = _offset_text(when).encode()
    if serial:
        exif[piexif.ExifIFD.BodySerialNumber] = serial.encode()
    if lens:
        exif[piexif.ExifIFD.LensModel] = lens.encode()
    tags: dict[str, object] = {"0th": zeroth, "Exif": exif}
    if gps is not None:
        tags["GPS"] = _gps_ifd(gps, when)
    if thumbnail is not None:
        tags["1st"] = {piexif.ImageIFD.Compression: 6, piexif.ImageIFD.XResolution: (72, 1),
                       piexif.ImageIFD.YResolution: (72, 1), piexif.ImageIFD.ResolutionUnit: 2}  # fmt: skip
        tags["thumbnail"] = thumbnail
    return bytes(piexif.dump(tags))


def exif_for(
    camera: Camera,
    when: datetime,
    gps: tuple[float, float, float] | None = None,
    orientation: int = 1,
    thumbnail: bytes | None = None,
) -> bytes:
    """:func:`camera_exif` filled in from a :data:`CAMERAS` body."""
    return camera_exif(
        camera.make, camera.model, camera.serial, when, gps, lens=camera.lens,
        software=camera.software, orientation=orientation, thumbnail=thumbnail,
    )  # fmt: skip


def jpeg_thumbnail(image: Image.Image, size: tuple[int, int] = (160, 120)) -> bytes:
    """A small baseline JPEG of ``image`` for embedding in EXIF (IFD1)."""
    thumb = image.copy()
    thumb.thumbnail(size)
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=75)
    return out.getvalue()


def save_camera_jpeg(
    path: Path, image: Image.Image, exif_bytes: bytes | None, quality: int = 92
) -> None:
    """Write ``image`` as a baseline JPEG with the given EXIF block (None: no EXIF)."""
    params: dict[str, object] = {"quality": quality}
    if exif_bytes:
        params["exif"] = exif_bytes
    image.save(path, "JPEG", **params)


def make_camera_like_jpeg(path: Path, width: int, height: int, seed: int, exif: bool = True) -> None:
    """Write a fast camera-like JPEG (gradients, shapes, sensor noise, EXIF) for benchmarks.

    Cheaper than :func:`render_scene` at camera resolutions: whole-array numpy
    operations only, and the noise is one 256 px tile rolled per seed.

    Args:
        path: where to write the JPEG.
        width, height: pixel size.
        seed: selects colours, shapes, noise, camera body and capture time.
        exif: write camera EXIF (body from :data:`CAMERAS`, GPS on even seeds).
    """
    rng = np.random.default_rng([seed, 0xBE7C])
    arr = _gradient(rng, width, height)
    for _ in range(8):
        _stamp_shape(arr, rng)
    tile = rng.integers(-6, 7, (256, 256, 3), dtype=np.int16)
    reps = (height // 256 + 1, width // 256 + 1, 1)
    noise = np.roll(np.tile(tile, reps), int(rng.integers(256)), axis=1)[:height, :width]
    img = Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8), "RGB")
    block = None
    if exif:
        camera = list(CAMERAS.values())[seed % len(CAMERAS)]
        when = datetime(2024, 5, 1, 9, 0, 0) + timedelta(minutes=seed % 50_000)
        gps = (53.7997, -1.5492, 63.0) if seed % 2 == 0 else None
        block = exif_for(camera, when, gps)
    save_camera_jpeg(path, img, block)


def _gradient(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    a, b, c = (np.array(_colour(rng), np.float32) for _ in range(3))
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    return a + (b - a) * ys + (c - a) * xs * 0.5


def _stamp_shape(arr: np.ndarray, rng: np.random.Generator) -> None:
    """Paint a filled rectangle or disc of a random colour in place (slice ops only)."""
    h, w = arr.shape[:2]
    x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
    x1, y1 = min(w, x0 + int(rng.integers(w // 10, w // 3))), min(h, y0 + int(rng.integers(h // 10, h // 3)))  # fmt: skip
    colour = np.array(_colour(rng), np.float32)
    if rng.random() < 0.5:
        arr[y0:y1, x0:x1] = colour
        return
    yy, xx = np.ogrid[y0:y1, x0:x1]
    cy, cx, r2 = (y0 + y1) / 2, (x0 + x1) / 2, (min(x1 - x0, y1 - y0) / 2) ** 2
    mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r2
    arr[y0:y1, x0:x1][mask] = colour

