"""Demo roles for what the web does to pictures: derived copies, duplicates, cache junk.

Derived copies are made from the planted originals the way sites and apps do it:
decoded, turned upright, EXIF dropped, then resized, recompressed, converted,
rotated, mirrored or cropped. Exact duplicates are byte copies in other folders.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from unseen.demo.builder import DemoBuilder, DemoItem
from unseen.demo.synth import render_scene

CACHE = "Users/sam/AppData/Local/Google/Chrome/User Data/Default/Cache/Cache_Data"
_DL = "Users/sam/Downloads"
# An earlier item: (role, camera or None, index among that role's items [of that camera]).
Pick = tuple[str, str | None, int]


@dataclass(frozen=True, slots=True)
class Copy:
    """One derived copy: which item, where to, how, and encoded how.

    Attributes:
        long_side: for ``resize``, the longest side afterwards (px).
        params: Pillow save parameters of ``fmt``.
    """

    source: Pick
    target: str
    transform: str
    fmt: str
    params: dict[str, Any] = field(default_factory=dict)
    long_side: int | None = None


def _q(quality: int) -> dict[str, Any]:
    return {"quality": quality}


_O = "camera_original"
COPIES: tuple[Copy, ...] = (
    Copy((_O, "canon-80d", 1), f"{_DL}/photo_640.jpg", "resize", "JPEG", _q(85), 640),
    Copy((_O, "iphone-12", 2), f"{_DL}/IMG_4503-640.jpg", "resize", "JPEG", _q(85), 640),
    Copy((_O, "galaxy-s21", 0), f"{_DL}/received_1203944.jpeg", "resize", "JPEG", _q(80), 640),
    Copy((_O, "nikon-d3500", 2), f"{_DL}/DSC_0003_small.jpg", "recompress", "JPEG", _q(60)),
    Copy((_O, "canon-80d", 4), f"{_DL}/image (1).jpg", "recompress", "JPEG", _q(75)),
    Copy((_O, "canon-80d", 6), f"{_DL}/IMG_0007.png", "png", "PNG"),
    Copy((_O, "iphone-12", 0), f"{_DL}/download.webp", "webp", "WEBP", _q(80)),
    Copy((_O, "galaxy-s21", 3), f"{_DL}/funny.gif", "gif", "GIF"),
    Copy((_O, "nikon-d3500", 3), f"{_DL}/rotated.jpg", "rotate90", "JPEG", _q(90)),
    Copy((_O, "canon-80d", 8), f"{_DL}/mirror.jpg", "mirror", "JPEG", _q(90)),
    Copy((_O, "iphone-12", 5), f"{_DL}/IMG_4506_crop.jpg", "crop1", "JPEG", _q(90)),
    Copy(("series", None, 6), f"{_DL}/kitchen.png", "png", "PNG"),
    Copy((_O, "canon-80d", 2), f"{CACHE}/f_000011", "resize", "JPEG", _q(70), 320),
    Copy((_O, "galaxy-s21", 5), f"{CACHE}/f_000012", "resize", "JPEG", _q(70), 480),
    Copy(("series", None, 0), f"{CACHE}/f_000013", "resize", "JPEG", _q(70), 400),
    Copy((_O, "nikon-d3500", 4), f"{CACHE}/f_000014", "resize", "JPEG", _q(70), 256),
    Copy((_O, "iphone-12", 7), f"{CACHE}/f_000015", "resize", "JPEG", _q(70), 360),
)  # fmt: skip

# (what to copy, where to: a folder ending in "/" keeps the name, else the full path).
DUPLICATES: tuple[tuple[Pick, tuple[str, ...]], ...] = (
    ((_O, "canon-80d", 0),
     ("Users/sam/Desktop/", "Users/sam/OneDrive/Pictures/2024/")),
    ((_O, "iphone-12", 1),
     ("Users/sam/Desktop/", "Users/sam/OneDrive/Pictures/2024/")),
    ((_O, "galaxy-s21", 2),
     ("Users/sam/Documents/Backup/phone/", "Users/sam/OneDrive/Pictures/2024/")),
    ((_O, "nikon-d3500", 0),
     ("Users/sam/Desktop/", "Users/sam/Documents/Backup/camera/")),
    (("download_copy", None, 0), (f"{CACHE}/f_000020",)),
)  # fmt: skip

_DOWNLOADED = datetime(2024, 5, 14, 21, 0, tzinfo=UTC)
_ORIENTATION = 0x0112
_UPRIGHT = "the original's pixels are stored sideways (EXIF orientation); this copy is upright"


def _pick(b: DemoBuilder, pick: Pick) -> DemoItem:
    role, camera, index = pick
    return b.find(role, camera)[index]


def _mtime(item: DemoItem) -> datetime:
    return datetime.fromisoformat(item.mtime.replace("Z", "+00:00"))


def derive(original: Image.Image, transform: str, long_side: int | None = None) -> Image.Image:
    """What a site or app makes of ``original``: upright, no metadata, then ``transform``."""
    img = ImageOps.exif_transpose(original).convert("RGB")
    img.info.clear()  # no EXIF, ICC or comments carried into the copy
    if transform == "resize" and long_side:
        img.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    elif transform == "rotate90":
        img = img.transpose(Image.Transpose.ROTATE_90)
    elif transform == "mirror":
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    elif transform == "crop1":
        dx, dy = max(1, img.width // 100), max(1, img.height // 100)
        img = img.crop((dx, dy, img.width - dx, img.height - dy))
    return img


def download_copies(b: DemoBuilder) -> None:
    """Role ``download_copy``: each :data:`COPIES` entry, EXIF stripped."""
    for i, copy in enumerate(COPIES):
        source = _pick(b, copy.source)
        with Image.open(io.BytesIO(b.read(source))) as original:
            sideways = original.getexif().get(_ORIENTATION, 1) != 1
            img = derive(original, copy.transform, copy.long_side)
        note = _UPRIGHT if sideways else None
        b.write_image(
            copy.target,
            img,
            copy.fmt,
            _DOWNLOADED + timedelta(minutes=7 * i),
            "download_copy",
            copy.params,
            scene=source.scene,
            derived_from=source.path,
            transform=copy.transform,
            note=note,
        )


def duplicates(b: DemoBuilder) -> None:
    """Role ``duplicate``: byte-identical copies (times preserved, as a copy does)."""
    for pick, targets in DUPLICATES:
        source = _pick(b, pick)
        data = b.read(source)
        for target in targets:
            rel = target + source.path.rsplit("/", 1)[1] if target.endswith("/") else target
            b.write(
                rel,
                data,
                _mtime(source),
                "duplicate",
                scene=source.scene,
                camera=source.camera,
                derived_from=source.path,
            )


_WEB_KINDS = ("thumb", "icon", "banner", "avatar")
WEB_IMAGES = 60
_BANNER_TEXT = ("SPRING SALE -20%", "FREE DELIVERY", "NEW ARRIVALS", "WEATHER: SUNNY 18C")


def web_images(b: DemoBuilder) -> None:
    """Role ``web_image``: browser-cache junk (thumbnails, icons, banners, avatars)."""
    for i in range(WEB_IMAGES):
        kind = _WEB_KINDS[i % len(_WEB_KINDS)]
        rng = np.random.default_rng([i, 0x3EB])
        when = _DOWNLOADED - timedelta(minutes=30) + timedelta(seconds=11 * i)
        rel = f"{CACHE}/f_{0x100 + i:06x}"
        if kind == "thumb":
            scene = 500 + i
            b.write_image(
                rel,
                render_scene(scene, (200, 150)),
                "JPEG",
                when,
                "web_image",
                _q(70),
                scene=scene,
                note="web thumbnail",
            )
        else:
            fmt, img = _web_graphic(kind, rng)
            b.write_image(rel, img, fmt, when, "web_image", note=f"web {kind}")


def _web_graphic(kind: str, rng: np.random.Generator) -> tuple[str, Image.Image]:
    colours = [tuple(int(c) for c in rng.integers(0, 256, 3)) for _ in range(3)]
    if kind == "icon":
        img = Image.new("RGBA", (48, 48), (0, 0, 0, 0))
        draw = ImageDraw.Draw(img)
        draw.ellipse((2, 2, 45, 45), fill=(*colours[0], 255))
        draw.text(
            (17, 14),
            chr(65 + int(rng.integers(26))),
            fill=(*colours[1], 255),
            font=ImageFont.load_default(size=16),
        )
        return "PNG", img
    if kind == "banner":
        img = Image.new("RGB", (468, 60), colours[0])
        draw = ImageDraw.Draw(img)
        draw.rectangle((4, 4, 463, 55), outline=colours[1], width=3)
        text = _BANNER_TEXT[int(rng.integers(len(_BANNER_TEXT)))]
        draw.text((20, 18), text, fill=colours[2], font=ImageFont.load_default(size=22))
        return "GIF", img
    img = Image.new("RGB", (96, 96), colours[0])
    ImageDraw.Draw(img).ellipse((18, 10, 78, 70), fill=colours[1])
    ImageDraw.Draw(img).rectangle((10, 72, 86, 96), fill=colours[2])
    return "JPEG", img
