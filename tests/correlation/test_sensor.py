"""Sensor (PRNU) linking on simulated sensors, through the real pipeline.

Each simulated camera multiplies the rendered scene by ``1 + K`` with its own fixed
noise pattern ``K`` (gaussian, sigma 0.015), as photo-response non-uniformity does;
then the body encodes the JPEG with its own tables and EXIF. Stripped copies are the
same pixels re-encoded at quality 90 without EXIF.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unseen.correlation.queries import top_leads
from unseen.demo.synth import CAMERAS, exif_for, render_scene, save_camera_jpeg
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case

pytest.importorskip("pywt", reason="needs the prnu extra (make test installs it)")

SIZE = (384, 288)
CANON = "sensor noise of Canon EOS 80D serial 183012345678"
NIKON = "sensor noise of NIKON CORPORATION NIKON D3500 serial 6012345"


def sensor_shot(scene: int, sensor: int | None, size: tuple[int, int] = SIZE) -> Image.Image:
    """Scene ``scene`` as seen through simulated sensor ``sensor`` (None: no PRNU)."""
    if sensor is None:
        return render_scene(scene, size, view=scene % 3)
    pixels = np.asarray(render_scene(scene, size, view=scene % 3), dtype=np.float32)
    pattern = np.random.default_rng([sensor, 0x9E5]).normal(0.0, 0.015, pixels.shape[:2])
    exposed = pixels * (1.0 + pattern.astype(np.float32))[..., None]
    return Image.fromarray(np.clip(exposed, 0, 255).astype(np.uint8), "RGB")


def original(path: Path, camera: str, sensor: int | None, scene: int, n: int) -> None:
    body = CAMERAS[camera]
    when = datetime(2024, 3, 9, 10, 0) + timedelta(hours=n)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_camera_jpeg(path, sensor_shot(scene, sensor), exif_for(body, when), camera=body)


def stripped(path: Path, img: Image.Image) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    path.write_bytes(out.getvalue())


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("sensor")
    ev = root / "ev"
    for n in range(5):
        original(ev / f"DCIM/100CANON/IMG_{n + 1:04d}.JPG", "canon-80d", 1, 10 + n, n)
        original(ev / f"DCIM/100D3500/DSC_{n + 1:04d}.JPG", "nikon-d3500", 2, 20 + n, n)
    # A camera whose pictures carry no sensor pattern at all (pure synthetic scenes).
    for n in range(3):
        original(ev / f"DCIM/100APPLE/IMG_{4501 + n}.JPG", "iphone-12", None, 40 + n, n)
    stripped(ev / "chat/canon_a.jpg", sensor_shot(30, 1))
    stripped(ev / "chat/canon_b.jpg", sensor_shot(31, 1))
    # Held upright: the sensor's pixels turned a quarter, as a phone app would save them.
    stripped(ev / "chat/canon_turned.jpg", sensor_shot(32, 1).transpose(Image.Transpose.ROTATE_90))
    stripped(ev / "chat/nikon_a.jpg", sensor_shot(33, 2))
    stripped(ev / "chat/nikon_b.jpg", sensor_shot(34, 2))
    # A third camera, never seen with EXIF: must not link to either fingerprint.
    stripped(ev / "chat/stranger.jpg", sensor_shot(35, 3))
    # Copies of originals without EXIF. The copy of a Canon original links by its sensor
    # pattern, even with its own original left out of the fingerprint; the copy of an
    # iPhone original only shares scene content with the fingerprint: it must not link.
    stripped(ev / "chat/canon_copy.jpg", sensor_shot(10, 1))
    stripped(ev / "chat/iphone_copy.jpg", sensor_shot(41, None))
    # A resized copy: other pixels than the sensor's, so it is not compared.
    stripped(ev / "chat/canon_small.jpg", sensor_shot(36, 1).resize((320, 240)))
    c = Case.create(root / "case")
    repo.add_source(c, "folder", str(ev), "EV1", "tester")
    process_case(c, workers=0)
    return c


def sensor_clusters(case: Case, originals: bool = False) -> dict[str, list[tuple[str, str]]]:
    """Each sensor cluster's linked pictures (and, with ``originals``, the camera
    originals its fingerprint is made from)."""
    with case.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.label, i.path, m.reason FROM clusters c JOIN cluster_members m "
            "ON m.cluster_id = c.id JOIN items i ON i.id = m.item_id "
            "WHERE c.kind = 'sensor' ORDER BY c.label, i.path"
        ).all()
    if not originals:
        rows = [r for r in rows if not r[2].startswith("camera original")]
    found: dict[str, list[tuple[str, str]]] = {}
    for label, path, reason in rows:
        found.setdefault(label, []).append((path, reason))
    return found


def test_stripped_pictures_link_to_the_camera_whose_sensor_took_them(case: Case) -> None:
    found = sensor_clusters(case)
    assert sorted(found) == [CANON, NIKON]
    assert [p for p, _ in found[CANON]] == [
        "chat/canon_a.jpg",
        "chat/canon_b.jpg",
        "chat/canon_copy.jpg",
        "chat/canon_turned.jpg",
    ]
    assert [p for p, _ in found[NIKON]] == ["chat/nikon_a.jpg", "chat/nikon_b.jpg"]
    everything = sensor_clusters(case, originals=True)
    made_of = [p for p, _ in everything[NIKON] if (p, _) not in found[NIKON]]
    assert made_of and all(p.startswith("DCIM/") for p in made_of)
    reasons = dict(found[CANON])
    assert reasons["chat/canon_a.jpg"].startswith(
        "sensor noise matches Canon EOS 80D serial 183012345678 (PCE "
    )
    assert reasons["chat/canon_copy.jpg"].endswith(
        "> 60, fingerprint without the 1 original it copies)"
    )
    assert reasons["chat/canon_turned.jpg"].endswith(
        "> 60, picture turned 90 degrees counter-clockwise)"
    )


def test_residuals_are_stored_compactly_for_every_picture(case: Case) -> None:
    with case.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT i.path, n.side, n.width, n.height, length(n.bits) FROM sensor_noise n "
            "JOIN items i ON i.id = n.item_id ORDER BY i.path"
        ).all()
    assert len(rows) == 22
    assert ("chat/canon_turned.jpg", 288, 288, 384, 288 * 288 // 8) in rows
    assert ("chat/canon_small.jpg", 240, 320, 240, 240 * 240 // 8) in rows


def test_a_sensor_link_raises_the_lead_with_its_reason(case: Case) -> None:
    with case.engine.connect() as conn:
        leads = {lead["item"]: lead for lead in top_leads(conn, "item", 50)}
    reasons = {r["signal"]: r for r in leads["chat/canon_a.jpg"]["reasons"]}
    assert reasons["sensor"] == {
        "signal": "sensor",
        "weight": 2.0,
        "detail": f"matches the {CANON}",
    }
    stranger = {r["signal"] for r in leads["chat/stranger.jpg"]["reasons"]}
    assert "sensor" not in stranger
