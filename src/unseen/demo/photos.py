"""Demo roles for photographs: camera originals and series of one place.

Originals come in capture bursts (shots minutes apart) from the :data:`CAMERAS`
bodies, with the EXIF each body would write: serials on DSLRs, GPS and UTC offsets
on phones, embedded thumbnails on DSLRs, portrait shots as orientation 6 (pixels
stored sideways) except on the Samsung, which turns the pixels themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from PIL import Image

from unseen.demo.builder import DemoBuilder, image_bytes
from unseen.demo.synth import CAMERAS, exif_for, jpeg_thumbnail, render_scene

LEEDS = (53.7997, -1.5492, 63.0)  # city centre; altitude in metres
ZURICH = (47.3769, 8.5417, 408.0)
_LANDSCAPE, _PORTRAIT = (1024, 768), (768, 1024)


@dataclass(frozen=True, slots=True)
class Burst:
    """Shots taken minutes apart by one body at one place.

    Attributes:
        portrait: indexes (within the burst) of shots held upright.
        gps: where the body recorded the burst (shots drift a few metres apart).
    """

    camera: str
    start: datetime
    shots: int
    gps: tuple[float, float, float] | None = None
    portrait: tuple[int, ...] = ()


_BST, _CEST = timezone(timedelta(hours=1)), timezone(timedelta(hours=2))
BURSTS: tuple[Burst, ...] = (
    Burst("canon-80d", datetime(2024, 3, 9, 10, 12), 4, portrait=(2,)),
    Burst("canon-80d", datetime(2024, 3, 9, 15, 40), 4),
    Burst("canon-80d", datetime(2024, 4, 20, 11, 5), 4, portrait=(1,)),
    Burst("iphone-12", datetime(2024, 4, 6, 13, 20, tzinfo=_BST), 5, LEEDS, (2, 4)),
    Burst("iphone-12", datetime(2024, 4, 27, 17, 2, tzinfo=_BST), 5, LEEDS),
    Burst("galaxy-s21", datetime(2024, 5, 11, 9, 30, tzinfo=_CEST), 4, ZURICH, (1,)),
    Burst("galaxy-s21", datetime(2024, 5, 12, 14, 32, tzinfo=_CEST), 4, ZURICH, (0, 3)),
    Burst("nikon-d3500", datetime(2024, 2, 17, 12, 0), 3, portrait=(1,)),
    # The D3500 has no GPS of its own; SnapBridge copies the paired phone's position.
    Burst("nikon-d3500", datetime(2024, 2, 18, 10, 45), 3, LEEDS),
)
# The first shot number each body writes (IMG_4501 on the phone, IMG_0001 ...).
_FIRST_NUMBER = {"iphone-12": 4501}
_FOLDERS = {
    "canon-80d": "Users/sam/Pictures/DCIM",
    "nikon-d3500": "Users/sam/Pictures/DCIM",
    "iphone-12": "Users/sam/Pictures/iPhone/DCIM",
    "galaxy-s21": "Users/sam/Pictures/Phone backup/DCIM",
}
_EMBEDS_THUMBNAIL = ("canon-80d", "nikon-d3500")


def shot_time(start: datetime, k: int) -> datetime:
    """When shot ``k`` of a burst was taken: 2-4 minutes after the one before."""
    return start + timedelta(minutes=3 * k + (k * k) % 4, seconds=(17 * k) % 60)


def shot_gps(gps: tuple[float, float, float] | None, k: int) -> tuple[float, float, float] | None:
    """The burst position moved a few metres per shot (1e-4 degree is about 11 m)."""
    if gps is None:
        return None
    lat, lon, alt = gps
    return (round(lat + 1e-4 * k, 4), round(lon + 1e-4 * k, 4), alt)


def iso_taken(when: datetime) -> str:
    """DateTimeOriginal as unseen normalises it: ISO 8601, with the offset if known."""
    return when.isoformat()


def camera_shot(
    camera_key: str,
    scene: int,
    when: datetime,
    gps: tuple[float, float, float] | None,
    portrait: bool,
) -> tuple[bytes, int]:
    """A camera JPEG of ``scene`` as the body writes it, and the orientation it records."""
    camera = CAMERAS[camera_key]
    if portrait and camera_key != "galaxy-s21":
        # Sensor-order pixels, turned upright by the viewer (EXIF orientation 6).
        pixels = render_scene(scene, _PORTRAIT).transpose(Image.Transpose.ROTATE_90)
        orientation = 6
    else:
        pixels = render_scene(scene, _PORTRAIT if portrait else _LANDSCAPE)
        orientation = 1
    thumb = jpeg_thumbnail(pixels) if camera_key in _EMBEDS_THUMBNAIL else None
    exif = exif_for(camera, when, gps, orientation=orientation, thumbnail=thumb)
    return image_bytes(pixels, "JPEG", exif=exif, **camera.jpeg_params()), orientation


def camera_originals(b: DemoBuilder) -> None:
    """Role ``camera_original``: the bursts of :data:`BURSTS`, one new scene per shot."""
    numbers: dict[str, int] = {}
    scene = 1
    for burst in BURSTS:
        camera = CAMERAS[burst.camera]
        for k in range(burst.shots):
            n = numbers.get(burst.camera, _FIRST_NUMBER.get(burst.camera, 1))
            numbers[burst.camera] = n + 1
            when, gps = shot_time(burst.start, k), shot_gps(burst.gps, k)
            data, orientation = camera_shot(burst.camera, scene, when, gps, k in burst.portrait)
            name = camera.pattern.format(n=n, when=when)
            rel = f"{_FOLDERS[burst.camera]}/{camera.folder}/{name}"
            note = "portrait, stored sideways (orientation 6)" if orientation == 6 else None
            b.write(
                rel,
                data,
                when,
                "camera_original",
                scene=scene,
                camera=burst.camera,
                taken=iso_taken(when),
                gps=gps,
                note=note,
            )
            scene += 1


@dataclass(frozen=True, slots=True)
class Series:
    """Six shots of one place: three straight from a camera, three exported without EXIF."""

    scene: int
    camera: str
    start: datetime
    folder: str
    stem: str
    gps: tuple[float, float, float] | None = None


SERIES: tuple[Series, ...] = (
    Series(101, "canon-80d", datetime(2024, 3, 23, 16, 0), "Users/sam/Pictures/Lake house",
           "lake_house"),
    Series(102, "iphone-12", datetime(2024, 4, 13, 19, 10, tzinfo=_BST),
           "Users/sam/Pictures/Kitchen", "kitchen", LEEDS),
    Series(103, "galaxy-s21", datetime(2024, 5, 13, 11, 0, tzinfo=_CEST),
           "Users/sam/Documents/Flat viewing", "flat", ZURICH),
    Series(104, "nikon-d3500", datetime(2024, 2, 24, 9, 15),
           "Users/sam/Downloads/room photos", "room"),
)  # fmt: skip
# (view, lighting) per shot: same place, slightly different framing and light.
_SHOTS = ((0, 1.0), (1, 0.85), (2, 1.15), (3, 0.75), (4, 1.0), (5, 1.25))


def series(b: DemoBuilder) -> None:
    """Role ``series``: per :data:`SERIES` place, 3 camera shots and 3 stripped exports."""
    for s in SERIES:
        camera = CAMERAS[s.camera]
        for k, (view, lighting) in enumerate(_SHOTS):
            when = shot_time(s.start, k)
            if k < 3:
                gps = shot_gps(s.gps, k)
                exif = exif_for(camera, when, gps)
                data = render_scene(s.scene, _LANDSCAPE, view, lighting)
                b.write_image(
                    f"{s.folder}/{s.stem}_{k + 1:02d}.jpg",
                    data,
                    "JPEG",
                    when,
                    "series",
                    {"exif": exif, **camera.jpeg_params()},
                    scene=s.scene,
                    camera=s.camera,
                    taken=iso_taken(when),
                    gps=gps,
                )
            else:
                data = render_scene(s.scene, (800, 600), view, lighting)
                b.write_image(
                    f"{s.folder}/{s.stem}_{k + 1:02d}_edit.jpg",
                    data,
                    "JPEG",
                    when + timedelta(days=2),
                    "series",
                    {"quality": 85},
                    scene=s.scene,
                    note="exported 800x600, EXIF stripped",
                )
