"""Groupings and lead ranking on a small generated case with known ground truth."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import piexif
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from unseen.cli.main import app
from unseen.correlation.queries import top_leads
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case

LEEDS = (53.7997, -1.5492)
ZURICH = (47.3769, 8.5417)


def scene(seed: int, shift: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (640, 480), tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x, y = (int(v) for v in rng.integers(0, 560, 2))
        w, h = (int(v) for v in rng.integers(30, 200, 2))
        color = tuple(int(v) for v in rng.integers(0, 255, 3))
        draw.rectangle((x + shift, y, x + shift + w, y + h), fill=color)
    return img


def dms(value: float) -> tuple[tuple[int, int], ...]:
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = round(((value - deg) * 60 - minutes) * 60 * 10000)
    return ((deg, 1), (minutes, 1), (seconds, 10000))


def camera_jpeg(
    path: Path,
    img: Image.Image,
    model: str,
    serial: str,
    when: str,
    gps: tuple[float, float] | None,
) -> None:
    gps_ifd = {}
    if gps:
        gps_ifd = {
            piexif.GPSIFD.GPSLatitudeRef: b"N" if gps[0] >= 0 else b"S",
            piexif.GPSIFD.GPSLatitude: dms(gps[0]),
            piexif.GPSIFD.GPSLongitudeRef: b"E" if gps[1] >= 0 else b"W",
            piexif.GPSIFD.GPSLongitude: dms(gps[1]),
        }
    thumb = io.BytesIO()
    img.resize((160, 120)).save(thumb, "JPEG")
    exif = {
        "0th": {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Model: model.encode()},
        "Exif": {
            piexif.ExifIFD.BodySerialNumber: serial.encode(),
            piexif.ExifIFD.DateTimeOriginal: when.encode(),
        },
        "GPS": gps_ifd,
        "1st": {piexif.ImageIFD.XResolution: (72, 1)},
        "thumbnail": thumb.getvalue(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # Custom (non-IJG) tables, as cameras use: every entry of the IJG tables halved.
    tables = [[max(1, v // 2) for v in range(1, 65)], [max(1, v // 2) for v in range(2, 66)]]
    img.save(path, "JPEG", exif=piexif.dump(exif), qtables=tables)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("corr")
    ev = root / "ev"
    dcim = ev / "DCIM" / "100CANON"
    # The suspect's camera: an evening session in Leeds (3 pictures, 10 min apart).
    for n, minute in enumerate((0, 10, 20)):
        camera_jpeg(
            dcim / f"IMG_000{n + 1}.JPG",
            scene(n + 1),
            "Canon EOS 80D",
            "183012345678",
            f"2024:05:01 19:{minute:02d}:00",
            (LEEDS[0] + n * 0.0003, LEEDS[1]),
        )
    # The same camera a day later in Zurich (one picture: a place of its own, no session).
    camera_jpeg(
        dcim / "IMG_0004.JPG",
        scene(4),
        "Canon EOS 80D",
        "183012345678",
        "2024:05:02 10:00:00",
        ZURICH,
    )
    # Another camera, no GPS.
    camera_jpeg(
        ev / "other" / "DSC_0001.JPG", scene(5), "Canon EOS R5", "999", "2023:01:01 08:00:00", None
    )
    # Downloaded copies: a resized, recompressed copy of IMG_0001 without EXIF, and a
    # byte-identical duplicate of it.
    dl = ev / "Downloads"
    dl.mkdir()
    scene(1).resize((320, 240)).save(dl / "copy.jpg", quality=60)
    (dl / "copy2.jpg").write_bytes((dl / "copy.jpg").read_bytes())
    c = Case.create(root / "case")
    repo.add_source(c, "folder", str(ev), "EV1", "tester")
    process_case(c, workers=0)
    return c


def clusters(case: Case) -> dict[str, list[tuple[str, list[str]]]]:
    with case.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.kind, c.label, i.path FROM clusters c JOIN cluster_members m "
            "ON m.cluster_id = c.id JOIN items i ON i.id = m.item_id ORDER BY c.id, i.path"
        ).all()
    found: dict[str, dict[str, list[str]]] = {}
    for kind, label, path in rows:
        found.setdefault(kind, {}).setdefault(label, []).append(path)
    return {k: sorted(v.items()) for k, v in found.items()}


def test_groupings_find_exactly_the_planted_clusters(case: Case) -> None:
    found = clusters(case)
    dcim = [f"DCIM/100CANON/IMG_000{n}.JPG" for n in (1, 2, 3, 4)]
    assert found["camera"] == [
        ("Canon EOS 80D serial 183012345678", dcim),
        ("Canon EOS R5 serial 999", ["other/DSC_0001.JPG"]),
    ]
    assert found["session"] == [
        ("Canon EOS 80D, 2024-05-01 19:00-19:20, 3 pictures", dcim[:3]),
    ]
    assert found["place"] == [
        ("near Leeds, England, GB", dcim[:3]),
        ("near Zuerich (Kreis 1) / Lindenhof, Zurich, CH", dcim[3:]),
    ]
    assert found["duplicate"] == [
        ("2 copies of Downloads/copy.jpg", ["Downloads/copy.jpg", "Downloads/copy2.jpg"]),
    ]
    assert found["near_duplicate"] == [
        (
            "3 near-identical pictures like DCIM/100CANON/IMG_0001.JPG",
            ["DCIM/100CANON/IMG_0001.JPG", "Downloads/copy.jpg", "Downloads/copy2.jpg"],
        ),
    ]


def test_camera_originals_rank_above_downloaded_copies_with_reasons(case: Case) -> None:
    with case.engine.connect() as conn:
        leads = top_leads(conn, "item", 10)
    order = [lead["item"] for lead in leads]
    assert order[:3] == [f"DCIM/100CANON/IMG_000{n}.JPG" for n in (1, 2, 3)]
    assert order[-2:] == ["Downloads/copy.jpg", "Downloads/copy2.jpg"]
    first = {r["signal"]: r for r in leads[0]["reasons"]}
    assert first["camera_exif"]["detail"] == "camera original, Canon EOS 80D"
    assert first["camera_peers"]["detail"] == (
        "Canon EOS 80D serial 183012345678 took 3 other unknown images"
    )
    assert (
        first["place"]["detail"] == "taken near Leeds, England, GB with 2 other unknown pictures"
    )
    assert first["camera_qtables"]["weight"] == 2.0
    copy = {r["signal"] for r in leads[-1]["reasons"]}
    assert "reencoded_qtables" in copy and "camera_exif" not in copy


def test_leads_command_prints_reasons(case: Case) -> None:
    result = CliRunner().invoke(app, ["leads", str(case.root), "--json", "--top", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [lead["item"] for lead in data["item"]] == [
        "DCIM/100CANON/IMG_0001.JPG",
        "DCIM/100CANON/IMG_0002.JPG",
    ]
    assert data["cluster"][0]["cluster"] == "Canon EOS 80D serial 183012345678"


def test_export_records_carry_clusters_scores_and_place(case: Case) -> None:
    from unseen.reports.records import iter_records

    with case.engine.connect() as conn:
        records = {r["path"]: r for r in iter_records(conn)}
        kinds = dict(conn.exec_driver_sql("SELECT id, kind FROM clusters").all())
    first = records["DCIM/100CANON/IMG_0001.JPG"]
    assert all(kinds[i] == k for k, i in first["clusters"].items())
    assert {"camera", "near_duplicate", "place", "session"} <= set(first["clusters"])
    assert first["place"] == {
        "lat": first["place"]["lat"],
        "lon": first["place"]["lon"],
        "town": "Leeds",
        "region": "England",
        "country": "GB",
    }
    assert first["lead"]["rank"] == 1
    assert first["lead"]["score"] == sum(r["weight"] for r in first["lead"]["reasons"])
    assert {r["signal"] for r in first["first_generation"]["reasons"]} >= {"camera_exif"}
    assert first["faces"] == [] and first["ocr_text"] is None
    copy = records["Downloads/copy2.jpg"]
    assert {"duplicate", "near_duplicate"} <= set(copy["clusters"])
    assert copy["place"] is None
