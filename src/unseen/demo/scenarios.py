"""Generated cases that test whether leads learn from what is known.

Built like a real case, with benign synthetic rooms standing in for every picture:
the owner's holiday camera originals (GPS, bursts on several days), a second camera
whose pictures of one room are partly in an agency hash set as category A, more
unknown pictures of that room and of a second room by the same camera, and web
downloads. Variants add what makes ranking hard: other benign cameras, indoor
holiday pictures without GPS, a second camera in the same room with no known
material, and copies stripped of EXIF that only sensor noise links.

Every file's role is returned as ground truth; ``associated`` files are the unknown
material a good ranking puts first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from unseen.demo.synth import CAMERAS, Camera, exif_for, jpeg_thumbnail, render_scene
from unseen.matching.library import Library

VARIANTS = ("base", "cameras", "indoor", "second_camera", "stripped")
HOLIDAY = Camera(
    "holiday", "Canon", "Canon EOS 2000D", "031012345678", None, None, "100CANON",
    "IMG_{n:04d}.JPG", 94, 5, 2,
)  # fmt: skip
ROOM_CAMERA = Camera(
    "room", "NIKON CORPORATION", "NIKON D5600", "999", "Ver.1.00", None, "100D5600",
    "DSC_{n:04d}.JPG", 96, 6, 1,
)  # fmt: skip
SECOND_ROOM_CAMERA = Camera(
    "room2", "SONY", "ILCE-6000", None, "ILCE-6000 v3.21", None, "100MSDCF",
    "DSC{n:05d}.JPG", 93, 7, 2,
)  # fmt: skip
PLACES = ((53.7997, -1.5492, 63.0), (47.3769, 8.5417, 408.0), (45.764, 4.8357, 170.0))
ROOM, SECOND_ROOM = 700, 701  # scene ids of the two rooms
HASH_SET = "UK-A"


@dataclass(frozen=True, slots=True)
class Planted:
    """What a generated file is: ``role`` and, for holiday pictures, its burst."""

    role: str  # holiday, known, associated, download, other_camera
    burst: int | None = None


@dataclass
class Scenario:
    root: Path
    truth: dict[str, Planted] = dataclasses.field(default_factory=dict)
    size: tuple[int, int] = (320, 240)
    sigma: float = 0.0  # simulated sensor-noise strength (0: none)

    def save(self, rel: str, img: Image.Image, planted: Planted, **params: object) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        out = io.BytesIO()
        img.save(out, "JPEG", **params)
        path.write_bytes(out.getvalue())
        self.truth[rel] = planted

    def shot(
        self, scene: int, sensor: int | None, view: int = 0, light: float = 1.0
    ) -> Image.Image:
        img = render_scene(scene, self.size, view, light)
        if not self.sigma or sensor is None:
            return img
        rng = np.random.default_rng([sensor, 0x9E5])
        pattern = rng.normal(0.0, self.sigma, (self.size[1], self.size[0])).astype(np.float32)
        exposed = np.asarray(img, dtype=np.float32) * (1.0 + pattern)[..., None]
        return Image.fromarray(np.clip(exposed, 0, 255).astype(np.uint8), "RGB")

    def camera(
        self,
        cam: Camera,
        rel_dir: str,
        n: int,
        scene: int,
        when: datetime,
        planted: Planted,
        gps: tuple[float, float, float] | None = None,
        sensor: int | None = None,
        exif: bool = True,
    ) -> str:
        img = self.shot(scene, sensor, view=n % 7, light=0.9 + 0.05 * (n % 5))
        rel = f"{rel_dir}/{cam.pattern.format(n=n, when=when)}"
        params: dict[str, object] = dict(cam.jpeg_params())
        if exif:
            params["exif"] = exif_for(cam, when, gps, thumbnail=jpeg_thumbnail(img))
        else:
            rel = f"{rel_dir}/saved_{n:04d}.jpg"
            params = {"quality": 90}
        self.save(rel, img, planted, **params)
        return rel

    def known_hashes(self) -> str:
        """The agency hash set: MD5 and category of every ``known`` file (CSV text)."""
        lines = ["md5,category"]
        for rel, planted in sorted(self.truth.items()):
            if planted.role == "known":
                digest = hashlib.md5((self.root / rel).read_bytes()).hexdigest()
                lines.append(f"{digest},A")
        return "\n".join(lines) + "\n"

    def of_role(self, role: str) -> list[str]:
        return sorted(rel for rel, p in self.truth.items() if p.role == role)


def build(root: Path, variant: str = "base", size: tuple[int, int] = (320, 240)) -> Scenario:
    """Write the evidence of one variant under ``root``; return it with its truth."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r} (one of {', '.join(VARIANTS)})")
    sc = Scenario(root, size=size, sigma=0.015 if variant == "stripped" else 0.0)
    _holiday(sc, gps=variant != "indoor")
    _room_camera(sc, stripped=variant == "stripped")
    if variant == "second_camera":
        _second_room_camera(sc)
    if variant == "cameras":
        _other_cameras(sc)
    for n in range(60):
        sc.save(f"Users/owner/Downloads/web_{n:03d}.jpg", render_scene(2000 + n, size),
                Planted("download"), quality=75)  # fmt: skip
    return sc


def _holiday(sc: Scenario, gps: bool) -> None:
    """120 camera originals in 10 bursts of 12, a burst a day, 2 minutes apart."""
    for burst in range(10):
        start = datetime(2024, 7, 1 + burst, 10, 0)
        where = PLACES[burst % len(PLACES)] if gps else None
        for k in range(12):
            n = burst * 12 + k
            spot = (where[0] + 1e-4 * k, where[1] + 1e-4 * k, where[2]) if where else None
            when = start + timedelta(minutes=2 * k)
            sc.camera(HOLIDAY, "DCIM/100CANON", n, 100 + n, when, Planted("holiday", burst),
                      gps=spot, sensor=11)  # fmt: skip


def _room_camera(sc: Scenario, stripped: bool) -> None:
    """24 pictures of one room (16 known A, 8 unknown) and 8 of a second room."""
    start = datetime(2024, 9, 14, 21, 0)
    for n in range(24):
        role = "known" if n < 16 else "associated"
        when = start + timedelta(minutes=3 * n)
        plain = stripped and role == "associated"
        sc.camera(ROOM_CAMERA, "Pictures/Camera Uploads" if not plain else "Pictures/saved",
                  n, ROOM, when, Planted(role), sensor=12, exif=not plain)  # fmt: skip
    start = datetime(2024, 10, 2, 20, 0)
    for n in range(24, 32):
        when = start + timedelta(minutes=3 * (n - 24))
        sc.camera(ROOM_CAMERA, "Pictures/Camera Uploads" if not stripped else "Pictures/saved",
                  n, SECOND_ROOM, when, Planted("associated"), sensor=12,
                  exif=not stripped)  # fmt: skip


def _second_room_camera(sc: Scenario) -> None:
    """Another camera in the same room during the same evening, nothing of it known."""
    start = datetime(2024, 9, 14, 21, 1)
    for n in range(8):
        when = start + timedelta(minutes=5 * n)
        sc.camera(SECOND_ROOM_CAMERA, "Pictures/DCIM/100MSDCF", n, ROOM, when,
                  Planted("associated"), sensor=13)  # fmt: skip


def _other_cameras(sc: Scenario) -> None:
    """Two benign phones of the household, with GPS, on other days."""
    for k, key in enumerate(("iphone-12", "galaxy-s21")):
        cam = CAMERAS[key]
        for n in range(40):
            when = datetime(2024, 5, 1 + n // 8, 12, 0) + timedelta(minutes=3 * (n % 8) + k)
            where = PLACES[(n // 8) % len(PLACES)]
            sc.camera(cam, f"DCIM/{cam.folder}", n, 400 + 50 * k + n, when,
                      Planted("other_camera"), gps=where, sensor=14 + k)  # fmt: skip


def build_with_library(
    root: Path, variant: str = "base", size: tuple[int, int] = (320, 240)
) -> Scenario:
    """The evidence under ``root/ev`` and a hash-set library under ``root/home`` holding
    the agency set (the caller points ``UNSEEN_HOME`` there before processing)."""
    sc = build(root / "ev", variant, size)
    listing = root / "uk-a.csv"
    listing.write_text(sc.known_hashes())
    library = Library.open(root / "home")
    try:
        library.import_file(listing, HASH_SET, fmt="csv", scheme="uk")
    finally:
        library.close()
    return sc
