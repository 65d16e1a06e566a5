"""Synthetic scenes and camera files: repeatable, distinct per scene, alike per view."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pdqhash
import piexif
import pytest
from PIL import ExifTags, Image, JpegImagePlugin

from unseen.demo.cameras import IJG_CHROMA, IJG_LUMA, ijg_table
from unseen.demo.synth import (
    CAMERAS,
    camera_exif,
    camera_qtables,
    jpeg_thumbnail,
    make_camera_like_jpeg,
    render_scene,
    save_camera_jpeg,
)

SIZE = (640, 480)


def _pdq(img: Image.Image) -> np.ndarray:
    bits, _quality = pdqhash.compute(np.ascontiguousarray(np.asarray(img)))
    return np.asarray(bits, dtype=bool)


def _distance(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.count_nonzero(a != b))


def test_render_scene_is_repeatable_and_sized() -> None:
    a, b = render_scene(3, SIZE, view=2, lighting=0.8), render_scene(3, SIZE, view=2, lighting=0.8)
    assert (a.mode, a.size) == ("RGB", SIZE)
    assert a.tobytes() == b.tobytes()
    assert render_scene(3, (300, 400)).size == (300, 400)
    assert render_scene(3, SIZE, view=1).tobytes() != a.tobytes()


def test_distinct_scenes_are_far_apart_and_views_of_one_scene_close() -> None:
    hashes = {s: _pdq(render_scene(s, SIZE)) for s in range(1, 13)}
    apart = [_distance(hashes[a], hashes[b]) for a, b in itertools.combinations(hashes, 2)]
    assert min(apart) > 80
    close = [
        _distance(hashes[s], _pdq(render_scene(s, SIZE, view, lighting)))
        for s in range(1, 7)
        for view, lighting in ((1, 1.0), (2, 0.8), (3, 1.2))
    ]
    assert max(close) < 64
    assert max(close) < min(apart)


def test_lighting_only_changes_brightness() -> None:
    dark = np.asarray(render_scene(5, SIZE, lighting=0.7), dtype=np.float64)
    base = np.asarray(render_scene(5, SIZE), dtype=np.float64)
    assert 0.65 < dark.mean() / base.mean() < 0.75


def test_camera_exif_round_trips_through_pillow() -> None:
    when = datetime(2024, 7, 1, 23, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    thumb = jpeg_thumbnail(render_scene(1, SIZE))
    block = camera_exif(
        "Canon", "Canon EOS 80D", "183012345678", when, (47.3769, 8.5417, 408.0),
        lens="EF-S18-55mm", software="1.0.3", orientation=6, thumbnail=thumb,
    )  # fmt: skip
    out = io.BytesIO()
    save_camera_jpeg(out, render_scene(1, SIZE), block)
    with Image.open(io.BytesIO(out.getvalue())) as img:
        exif = img.getexif()
    ifd, gps = exif.get_ifd(ExifTags.IFD.Exif), exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert (exif[0x010F], exif[0x0110], exif[0x0131], exif[0x0112]) == (
        "Canon",
        "Canon EOS 80D",
        "1.0.3",
        6,
    )
    assert (ifd[0xA431], ifd[0xA434], ifd[0x9003], ifd[0x9011]) == (
        "183012345678",
        "EF-S18-55mm",
        "2024:07:01 23:30:05",
        "+02:00",
    )
    assert (gps[1], gps[3], float(gps[6])) == ("N", "E", 408.0)
    # GPS time and date are UTC: 23:30:05 at +02:00 is 21:30:05 the same day.
    assert ([float(v) for v in gps[7]], gps[29]) == ([21.0, 30.0, 5.0], "2024:07:01")
    embedded = piexif.load(out.getvalue())["thumbnail"]
    with Image.open(io.BytesIO(embedded)) as small:
        assert (small.format, small.size) == ("JPEG", (160, 120))


def test_southern_western_position_and_no_serial() -> None:
    block = camera_exif("Apple", "iPhone 12", None, datetime(2024, 1, 1), (-33.8568, -70.6, -5.0))
    out = io.BytesIO()
    Image.new("RGB", (64, 48)).save(out, "JPEG", exif=block)
    with Image.open(out) as img:
        exif = img.getexif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert (gps[1], gps[3], gps[5], float(gps[6])) == ("S", "W", b"\x01", 5.0)
    assert 0xA431 not in exif.get_ifd(ExifTags.IFD.Exif)


def test_camera_table_has_plausible_bodies() -> None:
    assert {c.key: (c.make, c.model, c.serial) for c in CAMERAS.values()} == {
        "canon-80d": ("Canon", "Canon EOS 80D", "183012345678"),
        "iphone-12": ("Apple", "iPhone 12", None),
        "galaxy-s21": ("samsung", "SM-G991B", None),
        "nikon-d3500": ("NIKON CORPORATION", "NIKON D3500", "6012345"),
    }
    assert CAMERAS["iphone-12"].software == "16.1"


@pytest.mark.parametrize("with_exif", [True, False])
def test_make_camera_like_jpeg(tmp_path: Path, with_exif: bool) -> None:
    first, second = tmp_path / "a.jpg", tmp_path / "b.jpg"
    make_camera_like_jpeg(first, 1200, 900, seed=4, exif=with_exif)
    make_camera_like_jpeg(second, 1200, 900, seed=4, exif=with_exif)
    assert first.read_bytes() == second.read_bytes()
    with Image.open(first) as img:
        assert (img.format, img.size) == ("JPEG", (1200, 900))
        exif = img.getexif()
    if with_exif:
        assert (exif[0x010F], exif[0x0110]) == ("Canon", "Canon EOS 80D")  # seed 4: body 0
        assert exif.get_ifd(ExifTags.IFD.GPSInfo)[2]  # even seeds carry GPS
    else:
        assert not exif
    make_camera_like_jpeg(second, 1200, 900, seed=5)
    assert first.read_bytes() != second.read_bytes()


@pytest.mark.parametrize("key", sorted(CAMERAS))
def test_each_body_encodes_with_its_own_non_ijg_tables(key: str) -> None:
    camera = CAMERAS[key]
    luma, chroma = camera_qtables(camera)
    for quality in range(1, 101):
        assert luma != ijg_table(IJG_LUMA, quality)
        assert chroma != ijg_table(IJG_CHROMA, quality)
    out = io.BytesIO()
    save_camera_jpeg(out, render_scene(2, (320, 240)), None, camera=camera)
    with Image.open(out) as img:
        assert img.quantization == {0: luma, 1: chroma}
        assert JpegImagePlugin.get_sampling(img) == camera.subsampling


def test_ijg_table_matches_what_pillow_writes() -> None:
    out = io.BytesIO()
    Image.new("RGB", (32, 32)).save(out, "JPEG", quality=85)
    with Image.open(out) as img:
        assert img.quantization == {0: ijg_table(IJG_LUMA, 85), 1: ijg_table(IJG_CHROMA, 85)}
