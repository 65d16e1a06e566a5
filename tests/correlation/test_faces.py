"""Faces through the real pipeline: one public-domain face composited into scenes.

The only face is ``data/astronaut_face.jpg`` (NASA portrait, public domain; see
``data/NOTICE.md``), pasted resized, shifted and mirrored into scenes drawn by code,
so every face's box and identity is known. dlib finds the face in the sample itself
at ``SAMPLE_BOX``; a pasted copy must be found where the paste puts that box.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import piexif
import pytest
from PIL import Image, ImageDraw, ImageOps
from typer.testing import CliRunner

from unseen import plugins
from unseen.cli.main import app
from unseen.core.settings import Settings
from unseen.correlation.deep.base import DEEP_ANALYSERS
from unseen.correlation.deep.faces import FaceAnalyser
from unseen.correlation.search import faces_of, search_faces
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case

SAMPLE = Path(__file__).with_name("data") / "astronaut_face.jpg"
SAMPLE_BOX = (66, 66, 90, 91)  # x, y, w, h: dlib's box in the 220 x 240 sample
TOLERANCE = 6  # px: HOG boxes snap to 8 px cells of the detector's pyramid
# name -> pastes (scale, x, y, mirrored); the scenes are 640 x 480.
PLANTED: dict[str, list[tuple[float, int, int, bool]]] = {
    "face_a.png": [(1.0, 50, 60, False)],
    "face_b.png": [(0.8, 300, 120, False)],
    "face_c.png": [(1.4, 200, 20, False)],
    "face_d.png": [(1.0, 380, 200, True)],
    "face_e.png": [(0.6, 100, 300, False)],
    "pair.png": [(0.8, 40, 100, False), (0.8, 380, 140, True)],
    "empty_1.png": [],
    "empty_2.png": [],
}

pytestmark = pytest.mark.skipif(
    bool(FaceAnalyser().unavailable()),
    reason=f"faces extra not installed: {FaceAnalyser().unavailable()}",
)


def scene(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (640, 480), tuple(int(v) for v in rng.integers(40, 200, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x, y = (int(v) for v in rng.integers(0, 600, 2))
        w, h = (int(v) for v in rng.integers(20, 200, 2))
        draw.rectangle((x, y, x + w, y + h), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return img


def composite(seed: int, pastes: list[tuple[float, int, int, bool]]) -> Image.Image:
    img = scene(seed)
    sample = Image.open(SAMPLE).convert("RGB")
    for scale, x, y, mirrored in pastes:
        size = (round(sample.width * scale), round(sample.height * scale))
        face = sample.resize(size, Image.Resampling.LANCZOS)
        img.paste(ImageOps.mirror(face) if mirrored else face, (x, y))
    return img


def expected_box(scale: float, x: int, y: int, mirrored: bool) -> tuple[float, ...]:
    bx, by, bw, bh = SAMPLE_BOX
    if mirrored:
        bx = 220 - bx - bw
    return (x + scale * bx, y + scale * by, scale * bw, scale * bh)


def only_faces() -> Settings:
    plugins.load()
    return Settings(skip=tuple(n for n in DEEP_ANALYSERS.names() if n != "faces"))


def make_case(root: Path, pictures: dict[str, Image.Image | bytes]) -> Case:
    ev = root / "ev"
    ev.mkdir()
    for name, picture in pictures.items():
        if isinstance(picture, bytes):
            (ev / name).write_bytes(picture)
        else:
            picture.save(ev / name)
    case = Case.create(root / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "tester")
    process_case(case, workers=0, settings=only_faces())
    return case


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    pictures: dict[str, Image.Image | bytes] = {
        name: composite(seed, pastes) for seed, (name, pastes) in enumerate(PLANTED.items())
    }
    return make_case(tmp_path_factory.mktemp("faces"), pictures)


def ids(case: Case) -> dict[str, int]:
    with case.engine.connect() as conn:
        return {
            path: item_id for path, item_id in conn.exec_driver_sql("SELECT path, id FROM items")
        }


def test_every_planted_face_is_found_where_it_was_pasted(case: Case) -> None:
    with case.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT i.path, f.x, f.y, f.w, f.h, f.score, length(f.embedding), f.model "
            "FROM faces f JOIN items i ON i.id = f.item_id ORDER BY i.path, f.x"
        ).all()
    found: dict[str, list[tuple[int, ...]]] = {}
    for path, x, y, w, h, score, size, model in rows:
        assert score > 0.5
        assert size == 512  # 128 float32
        assert model == "dlib-hog+resnet-v1"
        found.setdefault(path, []).append((x, y, w, h))
    expected = {n: sorted(expected_box(*p) for p in ps) for n, ps in PLANTED.items() if ps}
    assert sorted(found) == sorted(expected)
    for name, boxes in expected.items():
        assert len(found[name]) == len(boxes), name
        for got, want in zip(found[name], boxes, strict=True):
            assert max(abs(g - w) for g, w in zip(got, want, strict=True)) <= TOLERANCE, name


def test_the_face_forms_one_identity_across_pictures(case: Case) -> None:
    with case.engine.connect() as conn:
        clusters = conn.exec_driver_sql(
            "SELECT id, label, confidence, details FROM clusters WHERE kind = 'identity'"
        ).all()
        assert len(clusters) == 1
        cluster_id, label, confidence, details = clusters[0]
        members = conn.exec_driver_sql(
            "SELECT i.path, m.reason FROM cluster_members m JOIN items i ON i.id = m.item_id "
            "WHERE m.cluster_id = ? ORDER BY i.path",
            (cluster_id,),
        ).all()
    assert label == "identity F1 (7 faces in 6 pictures)"
    assert [path for path, _ in members] == sorted(n for n, ps in PLANTED.items() if ps)
    for _, reason in members:
        assert reason.startswith("face at "), reason
        assert "to F1's centre" in reason
    pair_reason = dict(members)["pair.png"]
    assert pair_reason.endswith("; 2 faces of F1 in this picture")
    d = json.loads(details)
    assert d["name"] == "F1" and d["faces"] == 7 and d["pictures"] == 6
    assert max(d["distances"]) < 0.3  # one source photo: far below dlib's 0.6
    assert confidence == round(1 - d["mean_distance"], 2)


def test_recurring_face_is_a_lead_reason(case: Case) -> None:
    with case.engine.connect() as conn:
        reasons = dict(
            conn.exec_driver_sql(
                "SELECT i.path, l.reasons FROM leads l JOIN items i ON i.id = l.target_id "
                "WHERE l.target_kind = 'item'"
            ).all()
        )
    for name, pastes in PLANTED.items():
        details = [r["detail"] for r in json.loads(reasons[name]) if r["signal"] == "identity"]
        want = ["a face that recurs: identity F1 (7 faces in 6 pictures)"] if pastes else []
        assert details == want, name


def test_search_by_picture_finds_the_other_copies(case: Case) -> None:
    paths = ids(case)
    with case.engine.connect() as conn:
        hits = search_faces(conn, item_id=paths["face_a.png"])
        (query,) = {h.query_face_id for h in hits}
        by_face = search_faces(conn, face_id=query)
        strict = search_faces(conn, item_id=paths["face_a.png"], threshold=0.05)
    assert sorted(h.path for h in hits) == sorted(
        ["face_b.png", "face_c.png", "face_d.png", "face_e.png", "pair.png", "pair.png"]
    )
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert all(0 < h.distance < 0.3 for h in hits)
    assert by_face == hits
    assert strict == [h for h in hits if h.distance < 0.05]


def test_faces_of_reports_boxes_and_identity(case: Case) -> None:
    paths = ids(case)
    with case.engine.connect() as conn:
        found = faces_of(conn, [paths["pair.png"], paths["empty_1.png"]])
        cluster_id = conn.exec_driver_sql(
            "SELECT id FROM clusters WHERE kind = 'identity'"
        ).scalar_one()
    assert list(found) == [paths["pair.png"]]
    assert len(found[paths["pair.png"]]) == 2
    for face in found[paths["pair.png"]]:
        assert face["identity"] == {"cluster_id": cluster_id, "name": "F1"}
        assert len(face["box"]) == 4 and face["score"] > 0.5


def test_cli_search_face_prints_hits_with_paths_and_distances(case: Case) -> None:
    paths = ids(case)
    runner = CliRunner()
    result = runner.invoke(app, ["search", str(case.root), "--face", str(paths["face_a.png"])])
    assert result.exit_code == 0, result.output
    assert "face_b.png" in result.output and "distance" in result.output
    result = runner.invoke(
        app, ["search", str(case.root), "--face", str(paths["face_a.png"]), "--json"]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 6
    assert set(hits[0]) == {"face_id", "item_id", "path", "box", "distance", "query_face_id"}
    empty = runner.invoke(app, ["search", str(case.root), "--face", str(paths["empty_1.png"])])
    assert empty.exit_code == 2
    assert "no faces found in item" in empty.output


def rotated_jpeg() -> bytes:
    """A face picture stored turned a quarter, with EXIF saying to turn it back (6)."""
    upright = composite(11, [(1.0, 200, 120, False)])
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # 6 means: turn 90 clockwise
    out = io.BytesIO()
    exif = piexif.dump({"0th": {piexif.ImageIFD.Orientation: 6}})
    stored.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def test_faces_are_found_in_the_upright_picture(tmp_path: Path) -> None:
    case = make_case(tmp_path, {"turned.jpg": rotated_jpeg()})
    with case.engine.connect() as conn:
        boxes = conn.exec_driver_sql("SELECT x, y, w, h FROM faces").all()
    assert len(boxes) == 1
    want = expected_box(1.0, 200, 120, False)
    assert max(abs(g - w) for g, w in zip(boxes[0], want, strict=True)) <= TOLERANCE


def test_a_case_face_setting_reruns_the_faces_with_it(tmp_path: Path) -> None:
    """``face_max_faces`` is the case's: changing it re-runs exactly the pictures the
    face analyser looked at (the ledger), and the stored faces obey the new value."""
    pictures: dict[str, Image.Image | bytes] = {
        "pair.png": composite(5, PLANTED["pair.png"]),
        "empty_1.png": composite(6, []),
    }
    case = make_case(tmp_path, pictures)

    def faces() -> list[str]:
        with case.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT i.path FROM faces f JOIN items i ON i.id = f.item_id ORDER BY i.path"
            )
            return [path for (path,) in rows]

    assert faces() == ["pair.png", "pair.png"]
    one = Settings(skip=only_faces().skip, face_max_faces=1)
    summary = process_case(case, workers=0, settings=one)
    assert summary.stages["deep"].startswith("2 pictures analysed by faces")
    assert faces() == ["pair.png"]
    summary = process_case(case, workers=0, settings=one)
    assert summary.stages["deep"].startswith("0 pictures analysed")
