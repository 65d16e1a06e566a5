"""Same-scene series through the real pipeline: embeddings, ORB + RANSAC, clusters."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from unseen.correlation.queries import top_leads
from unseen.demo.synth import CAMERAS, exif_for, render_scene, save_camera_jpeg
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case

pytest.importorskip("onnxruntime", reason="needs the scene extra (make test installs it)")
pytest.importorskip("cv2", reason="needs the scene extra (make test installs it)")

SIZE = (480, 360)
SCENES = (301, 302, 303)
# (view, lighting, how the picture is kept) per shot of a scene.
SHOTS = ((0, 1.0, "camera"), (1, 0.8, "camera"), (2, 1.2, "plain"), (3, 0.9, "crop"))


def keep(path: Path, img: Image.Image, how: str, n: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "camera":
        body = CAMERAS["iphone-12"]
        when = datetime(2024, 4, 6, 13, 0) + timedelta(minutes=7 * n)
        save_camera_jpeg(path, img, exif_for(body, when), camera=body)
    elif how == "crop":  # an 80 % crop, exported without EXIF
        w, h = img.size
        img.crop((w // 10, h // 20, w // 10 + w * 4 // 5, h // 20 + h * 4 // 5)).save(
            path, "JPEG", quality=85
        )
    else:
        img.save(path, "JPEG", quality=85)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("scene")
    ev = root / "ev"
    n = 0
    for scene in SCENES:
        for k, (view, lighting, how) in enumerate(SHOTS):
            keep(ev / f"s{scene}/shot_{k}.jpg", render_scene(scene, SIZE, view, lighting), how, n)
            n += 1
    # A copy saved turned a quarter (pixels rotated, no EXIF), as phone apps do.
    turned = render_scene(301, SIZE, 4, 1.1).transpose(Image.Transpose.ROTATE_270)
    keep(ev / "s301/shot_4.jpg", turned, "plain", n)
    # Distractors: other rooms, one picture each, with and without EXIF.
    for k, scene in enumerate((311, 312, 313, 314)):
        keep(
            ev / f"other/room_{scene}.jpg",
            render_scene(scene, SIZE),
            ("camera", "plain")[k % 2],
            n,
        )
        n += 1
    c = Case.create(root / "case")
    repo.add_source(c, "folder", str(ev), "EV1", "tester")
    process_case(c, workers=0)
    return c


def scene_clusters(case: Case) -> list[tuple[str, list[str]]]:
    with case.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.label, i.path FROM clusters c JOIN cluster_members m "
            "ON m.cluster_id = c.id JOIN items i ON i.id = m.item_id "
            "WHERE c.kind = 'scene' ORDER BY c.label, i.path"
        ).all()
    found: dict[str, list[str]] = {}
    for label, path in rows:
        found.setdefault(label, []).append(path)
    return sorted(found.items())


def test_each_series_is_one_scene_cluster_and_distractors_stay_apart(case: Case) -> None:
    shots = {301: 5, 302: 4, 303: 4}
    assert scene_clusters(case) == [
        (f"scene of s{sc}/shot_0.jpg, {n} pictures", [f"s{sc}/shot_{k}.jpg" for k in range(n)])
        for sc, n in shots.items()
    ]


def test_scene_members_say_why(case: Case) -> None:
    with case.engine.connect() as conn:
        reason = conn.exec_driver_sql(
            "SELECT m.reason FROM cluster_members m JOIN items i ON i.id = m.item_id "
            "JOIN clusters c ON c.id = m.cluster_id "
            "WHERE c.kind = 'scene' AND i.path = 's301/shot_3.jpg'"
        ).scalar_one()
        leads = {lead["item"]: lead for lead in top_leads(conn, "item", 50)}
    assert re.fullmatch(
        r"same background as s301/shot_[0-2]\.jpg: \d+ features agree in one geometry, "
        r"aligned pixels correlate (0\.[89]\d|1\.00) \(embedding cosine 0\.\d\d\)",
        reason,
    ), reason
    signals = {r["signal"]: r for r in leads["s301/shot_3.jpg"]["reasons"]}
    assert signals["scene"]["detail"] == (
        "same scene as 4 other pictures (scene of s301/shot_0.jpg, 5 pictures)"
    )
    assert "scene" not in {r["signal"] for r in leads["other/room_311.jpg"]["reasons"]}


def test_embeddings_and_features_are_stored(case: Case) -> None:
    with case.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT length(embedding), grey_width, grey_height FROM scene_features"
        ).all()
    assert len(rows) == 17
    assert set(rows) == {(2560, 120, 90), (2560, 96, 72), (2560, 90, 120)}
    with case.engine.connect() as conn:
        turned = conn.exec_driver_sql(
            "SELECT i.path, length(f.turned) FROM scene_features f JOIN items i "
            "ON i.id = f.item_id WHERE f.turned IS NOT NULL"
        ).all()
    assert turned == [("s301/shot_4.jpg", 2 * 2560)]
