"""Demo roles that test robustness: lying names, unusual image modes, broken and
hostile files.

Nothing here may crash unseen: each file must become an item, with the problem
recorded against it where there is one.
"""

from __future__ import annotations

import errno
import struct
import zlib
from datetime import datetime, timedelta

import numpy as np
from PIL import Image, ImageDraw

from unseen.demo.builder import DemoBuilder, image_bytes
from unseen.demo.photos import camera_shot, iso_taken
from unseen.demo.synth import render_scene

_PICS = "Users/sam/Pictures/Misc"
_SMALL = (512, 384)


def misleading_extensions(b: DemoBuilder) -> None:
    """Role ``misleading_extension``: content whose name claims another type."""
    when = datetime(2024, 2, 3, 18, 20)
    jpeg = render_scene(301, _SMALL)
    b.write_image(
        "Users/sam/Documents/notes.txt",
        jpeg,
        "JPEG",
        when,
        "misleading_extension",
        {"quality": 88},
        scene=301,
        note="JPEG named .txt",
    )
    b.write_image(
        "Users/sam/Documents/report.doc",
        render_scene(302, _SMALL),
        "PNG",
        when + timedelta(hours=1),
        "misleading_extension",
        scene=302,
        note="PNG named .doc",
    )
    b.write(
        "Users/sam/Pictures/readme.jpg",
        b"Photos from the lake weekend are in Lake house.\n",
        when + timedelta(hours=2),
        "misleading_extension",
        note="plain text named .jpg",
    )
    b.write_image(
        "Users/sam/Music/track01.mp3",
        render_scene(303, (320, 240)),
        "GIF",
        when + timedelta(hours=3),
        "misleading_extension",
        scene=303,
        note="GIF named .mp3",
    )


def _palette_with_transparency() -> Image.Image:
    img = Image.new("P", (256, 256), 0)
    img.putpalette([0, 0, 0, 230, 60, 40, 40, 120, 220, 250, 210, 60] + [0] * (256 - 4) * 3)
    draw = ImageDraw.Draw(img)
    draw.ellipse((20, 20, 236, 236), fill=1)
    draw.rectangle((70, 90, 186, 166), fill=2)
    draw.polygon([(128, 30), (150, 80), (106, 80)], fill=3)
    img.info["transparency"] = 0
    return img


def _grey16(scene: int) -> Image.Image:
    grey = np.asarray(render_scene(scene, _SMALL).convert("L"), dtype=np.uint16) * 257
    return Image.fromarray(grey.astype("<u2"))  # uint16 little-endian: mode I;16


def _rgba(scene: int) -> Image.Image:
    img = render_scene(scene, (400, 300)).convert("RGBA")
    alpha = np.tile(np.linspace(255, 40, 400, dtype=np.float32).astype(np.uint8), (300, 1))
    img.putalpha(Image.fromarray(alpha, "L"))
    return img


def unusual_modes(b: DemoBuilder) -> None:
    """Role ``unusual_mode``: every image mode and container a converter must handle."""
    when = datetime(2024, 1, 20, 14, 0)
    frames = [render_scene(206, (320, 240), view=v) for v in range(3)]
    plan: list[tuple[str, Image.Image, str, dict[str, object], int | None, str]] = [
        ("cmyk.jpg", render_scene(201, _SMALL).convert("CMYK"), "JPEG", {"quality": 90}, 201,
         "CMYK JPEG"),
        ("logo_palette.png", _palette_with_transparency(), "PNG", {}, None,
         "palette PNG with a transparent colour"),
        ("scan_1bit.png", render_scene(202, _SMALL).convert("1"), "PNG", {}, 202,
         "1-bit PNG (dithered)"),
        ("depth_16bit.png", _grey16(203), "PNG", {}, 203, "16-bit greyscale PNG"),
        ("scan.tif", render_scene(204, _SMALL), "TIFF", {}, 204, "uncompressed RGB TIFF"),
        ("paint.bmp", render_scene(205, (400, 300)), "BMP", {}, 205, "24-bit BMP"),
        ("animation.gif", frames[0], "GIF",
         {"save_all": True, "append_images": frames[1:], "duration": 200, "loop": 0}, 206,
         "animated GIF, 3 frames"),
        ("sticker_rgba.png", _rgba(207), "PNG", {}, 207, "RGBA PNG with an alpha ramp"),
        ("bw_portrait.jpg", render_scene(208, _SMALL).convert("L"), "JPEG", {"quality": 88}, 208,
         "greyscale JPEG"),
        ("progressive.jpg", render_scene(209, _SMALL), "JPEG",
         {"quality": 85, "progressive": True}, 209, "progressive JPEG"),
    ]  # fmt: skip
    for i, (name, img, fmt, params, scene, note) in enumerate(plan):
        b.write_image(
            f"{_PICS}/{name}",
            img,
            fmt,
            when + timedelta(minutes=13 * i),
            "unusual_mode",
            params,
            scene=scene,
            note=note,
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny, CRC-valid PNG whose header claims a huge size (8-bit greyscale)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    # A few all-zero scanlines: decoding would need width*height bytes, not these.
    idat = zlib.compress(b"\x00" * 4096, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def corrupt(b: DemoBuilder) -> None:
    """Role ``corrupt``: empty, truncated, bomb and garbage files."""
    when = datetime(2024, 5, 20, 8, 30)
    b.write("Users/sam/Downloads/empty.jpg", b"", when, "corrupt", note="zero bytes")
    taken = datetime(2024, 4, 20, 11, 40)
    shot, _ = camera_shot("canon-80d", 37, taken, None, portrait=False)
    b.write(
        "Users/sam/Pictures/DCIM/100CANON/IMG_0013.JPG",
        shot[: len(shot) * 4 // 10],
        taken,
        "corrupt",
        scene=37,
        camera="canon-80d",
        taken=iso_taken(taken),
        note="camera JPEG truncated to its first 40 %",
    )
    b.write(
        "Users/sam/Downloads/huge.png",
        bomb_png(),
        when + timedelta(minutes=5),
        "corrupt",
        note="decompression bomb: IHDR claims 100000x100000",
    )
    noise = np.random.default_rng(0xBAD).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    b.write(
        "Users/sam/AppData/Local/Temp/~DF3A1.jpg",
        noise,
        when + timedelta(minutes=9),
        "corrupt",
        note="random bytes named .jpg",
    )


DEEP_LEVELS = 40


def hostile(b: DemoBuilder) -> None:
    """Role ``hostile``: a name that is not UTF-8 and a very deep folder chain."""
    when = datetime(2023, 11, 5, 10, 0)
    # "Urlaub Zürich" written by an old Latin-1 system: 0xFC is not valid UTF-8.
    raw = b"Users/sam/Downloads/Urlaub_Z\xfcrich.jpg"
    data = image_bytes(render_scene(401, _SMALL), "JPEG", quality=85)
    try:
        b.write(raw, data, when, "hostile", scene=401, note="file name is Latin-1, not UTF-8")
    except OSError as exc:  # file systems that insist on UTF-8 names refuse the bytes
        if exc.errno not in (errno.EILSEQ, errno.EINVAL):
            raise
    chain = "/".join(f"level{i:02d}" for i in range(1, DEEP_LEVELS + 1))
    b.write_image(
        f"Users/sam/Documents/Archive/{chain}/deep.jpg",
        render_scene(402, _SMALL),
        "JPEG",
        when + timedelta(hours=1),
        "hostile",
        {"quality": 85},
        scene=402,
        note=f"{DEEP_LEVELS} folders deep",
    )
