"""Two synthetic cases that share a room, a camera and a sensor (benign, drawn by code).

Case A (``2025/117``): a series of one room (scene 501) shot on a Canon with a
simulated sensor pattern, plus more Canon originals so its PRNU fingerprint can be
made. Case B (``2026/004``): another shot of that room from another viewpoint,
darker, closer (a 75 % crop) and recompressed twice without EXIF; a Canon picture
with the same serial; a stripped picture from the same sensor; and strangers
(another room, another sensor, a Nikon) that must meet nothing.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from unseen.core.settings import Settings
from unseen.demo.synth import CAMERAS, exif_for, render_scene, save_camera_jpeg
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case

SIZE = (384, 288)
FAST = Settings(skip=("faces", "ocr"))


def shot(scene: int, sensor: int | None, view: int = 0, lighting: float = 1.0) -> Image.Image:
    """Room ``scene`` through simulated sensor ``sensor`` (None: no sensor pattern)."""
    img = render_scene(scene, SIZE, view, lighting)
    if sensor is None:
        return img
    pixels = np.asarray(img, dtype=np.float32)
    pattern = np.random.default_rng([sensor, 0x9E5]).normal(0.0, 0.015, pixels.shape[:2])
    exposed = pixels * (1.0 + pattern.astype(np.float32))[..., None]
    return Image.fromarray(np.clip(exposed, 0, 255).astype(np.uint8), "RGB")


def camera(path: Path, img: Image.Image, body: str, n: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    when = datetime(2025, 3, 9, 10, 0) + timedelta(minutes=9 * n)
    save_camera_jpeg(path, img, exif_for(CAMERAS[body], when), camera=CAMERAS[body])


def plain(path: Path, img: Image.Image, quality: int = 90) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    path.write_bytes(out.getvalue())


def recompressed(img: Image.Image) -> Image.Image:
    """Saved at quality 60 and decoded again, as a messenger would pass it on."""
    out = io.BytesIO()
    img.save(out, "JPEG", quality=60)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def another_view(scene: int) -> Image.Image:
    """Room ``scene`` from another viewpoint, darker, 75 % of it filling the frame."""
    img = render_scene(scene, (480, 360), 7, 0.85)
    return img.crop((48, 18, 408, 288)).resize(SIZE, Image.Resampling.BILINEAR)


def build(root: Path, name: str, evidence: Path) -> Case:
    case = Case.create(root, name=name)
    repo.add_source(case, "folder", str(evidence), "EV1", "tester")
    process_case(case, workers=0, settings=FAST)
    return case


def case_a(root: Path) -> Case:
    ev = root / "ev-a"
    for n, view in enumerate((0, 1, 2)):
        camera(ev / f"DCIM/100CANON/IMG_{n + 1:04d}.JPG", shot(501, 1, view), "canon-80d", n)
    for n, scene in enumerate((510, 511), start=3):
        camera(ev / f"DCIM/100CANON/IMG_{n + 1:04d}.JPG", shot(scene, 1), "canon-80d", n)
    plain(ev / "other/room.jpg", shot(512, None))
    return build(root / "case-a", "2025/117", ev)


def case_b(root: Path) -> Case:
    ev = root / "ev-b"
    plain(ev / "chat/same_room.jpg", recompressed(another_view(501)), 75)
    plain(ev / "chat/other_room.jpg", shot(509, None))
    camera(ev / "DCIM/100CANON/IMG_0042.JPG", shot(520, 1), "canon-80d", 0)
    plain(ev / "chat/same_sensor.jpg", shot(521, 1))
    plain(ev / "chat/other_sensor.jpg", shot(522, 3))
    camera(ev / "DCIM/100D3500/DSC_0001.JPG", shot(523, 2), "nikon-d3500", 1)
    return build(root / "case-b", "2026/004", ev)


def cluster_id(case: Case, kind: str, label_part: str = "") -> int:
    with case.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, label FROM clusters WHERE kind = ? ORDER BY id", (kind,)
        ).all()
    found = [int(i) for i, label in rows if label_part in label]
    assert len(found) == 1, rows
    return found[0]
