"""The demo "seized laptop": repeatable to the byte, and its manifest tells the truth."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from unseen.analysis.exif import degrees
from unseen.analysis.filetype import sniff
from unseen.core.errors import UserError
from unseen.core.paths import display_name
from unseen.demo.builder import DemoItem, DemoManifest
from unseen.demo.cameras import CAMERAS, IJG_CHROMA, IJG_LUMA, camera_qtables, ijg_table
from unseen.demo.generator import build_demo_evidence

EXPECTED_ROLES = {
    "camera_original": 36,
    "series": 24,
    "download_copy": 17,
    "duplicate": 9,
    "web_image": 60,
    "misleading_extension": 4,
    "unusual_mode": 10,
    "corrupt": 4,
    "hostile": 2,
    "document": 6,
    "internet": 10,
    "disk_image": 2,
    "video": 1,
}


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size: int
    mtime_ns: int
    atime_ns: int


@dataclass(frozen=True)
class Build:
    root: Path
    manifest: DemoManifest
    files: dict[str, FileFacts]  # display path -> facts, as on disk right after the build


def _walk(laptop: Path) -> Iterator[tuple[str, bytes]]:
    base = os.fsencode(laptop)
    for top, _dirs, names in os.walk(base):
        for name in names:
            raw = os.path.join(top, name)
            rel = os.path.relpath(raw, base)
            yield "/".join(display_name(p)[0] for p in rel.split(b"/")), raw


def _facts(laptop: Path) -> dict[str, FileFacts]:
    facts = {}
    for shown, raw in _walk(laptop):
        st = os.stat(raw)  # before reading: reading may move the access time
        with open(raw, "rb") as fh:
            data = fh.read()
        facts[shown] = FileFacts(
            hashlib.sha256(data).hexdigest(), len(data), st.st_mtime_ns, st.st_atime_ns
        )
    return facts


def _build(root: Path) -> Build:
    manifest = build_demo_evidence(root)
    return Build(root, manifest, _facts(root / "laptop"))


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Build, Build]:
    first = _build(tmp_path_factory.mktemp("first") / "evidence")
    # The second goes into an existing, empty laptop/ folder: allowed.
    second_root = tmp_path_factory.mktemp("second") / "evidence"
    (second_root / "laptop").mkdir(parents=True)
    return first, _build(second_root)


@pytest.fixture(scope="module")
def build(builds: tuple[Build, Build]) -> Build:
    return builds[0]


def _item(build: Build, path: str) -> DemoItem:
    return next(i for i in build.manifest.items if i.path == path)


def test_two_builds_are_identical_to_the_byte_and_the_second(builds: tuple[Build, Build]) -> None:
    first, second = builds
    assert sorted(first.files) == sorted(second.files)
    assert first.files == second.files  # content, size, mtime and atime
    assert (first.root / "manifest.json").read_bytes() == (
        second.root / "manifest.json"
    ).read_bytes()


def test_manifest_lists_every_file_on_disk_exactly(build: Build) -> None:
    items = {i.path: i for i in build.manifest.items}
    assert build.manifest.files == len(build.manifest.items) == len(items) == len(build.files)
    assert set(items) == set(build.files)
    for path, facts in build.files.items():
        assert (items[path].sha256, items[path].size) == (facts.sha256, facts.size), path
        assert items[path].mtime.endswith("Z")
    doc = json.loads((build.root / "manifest.json").read_text(encoding="utf-8"))
    assert doc["files"] == build.manifest.files
    assert [i["path"] for i in doc["items"]] == [i.path for i in build.manifest.items]
    assert str(build.root) not in (build.root / "manifest.json").read_text(encoding="utf-8")


def test_counts_per_role(build: Build) -> None:
    assert build.manifest.by_role() == EXPECTED_ROLES
    assert build.manifest.files == sum(EXPECTED_ROLES.values())


def test_size_stays_small(build: Build) -> None:
    assert sum(f.size for f in build.files.values()) < 30_000_000


def test_camera_original_exif_reads_back_exactly(build: Build) -> None:
    path = "Users/sam/Pictures/DCIM/100D3500/DSC_0004.JPG"
    item = _item(build, path)
    assert (item.role, item.camera, item.taken) == (
        "camera_original",
        "nikon-d3500",
        "2024-02-18T10:45:00",
    )
    assert item.gps == (53.7997, -1.5492, 63.0)
    with Image.open(build.root / "laptop" / path) as img:
        assert img.size == (1024, 768)
        exif = img.getexif()
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert (exif[0x010F], exif[0x0110], exif[0x0131]) == (
        "NIKON CORPORATION",
        "NIKON D3500",
        "Ver.1.10",
    )
    assert (ifd[0xA431], ifd[0xA434], ifd[0x9003]) == (
        "6012345",
        "18.0-55.0 mm f/3.5-5.6",
        "2024:02:18 10:45:00",
    )
    assert (gps[1], gps[3], gps[5], float(gps[6])) == ("N", "W", b"\x00", 63.0)
    assert [float(v) for v in gps[2]] == [53.0, 47.0, 58.92]
    assert [float(v) for v in gps[4]] == [1.0, 32.0, 57.12]
    assert degrees(gps[2], gps[1], "S") == 53.7997
    assert degrees(gps[4], gps[3], "W") == -1.5492
    assert 0x0201 in exif.get_ifd(ExifTags.IFD.IFD1)  # DSLRs embed a thumbnail


def test_phone_portrait_is_stored_sideways_with_offset_and_no_serial(build: Build) -> None:
    item = _item(build, "Users/sam/Pictures/iPhone/DCIM/100APPLE/IMG_4503.JPG")
    assert item.taken == "2024-04-06T13:26:34+01:00"
    assert item.mtime == "2024-04-06T12:26:34Z"  # the file time is the same instant, UTC
    with Image.open(build.root / "laptop" / item.path) as img:
        exif = img.getexif()
        assert img.size == (1024, 768)
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    assert (exif[0x0112], exif[0x0131], ifd[0x9011]) == (6, "16.1", "+01:00")
    assert 0xA431 not in ifd


def test_bomb_png_header_parses_without_decoding(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = build.root / "laptop/Users/sam/Downloads/huge.png"
    assert path.stat().st_size < 200
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # Pillow's own guard would refuse
    with Image.open(path) as img:  # reads the header only; no pixels decoded
        assert (img.format, img.mode, img.size) == ("PNG", "L", (100_000, 100_000))


def test_download_copies_are_exif_free_and_transformed(build: Build) -> None:
    laptop = build.root / "laptop"
    copies = [i for i in build.manifest.items if i.role == "download_copy"]
    sizes = {}
    for item in copies:
        assert item.derived_from and item.scene is not None
        with Image.open(laptop / item.path) as img, Image.open(laptop / item.derived_from) as src:
            assert not img.getexif(), item.path
            upright = src.size if src.getexif().get(0x0112, 1) == 1 else src.size[::-1]
            sizes[item.path.rsplit("/", 1)[1]] = (item.transform, img.size, upright)
    assert sizes["photo_640.jpg"] == ("resize", (640, 480), (1024, 768))
    assert sizes["IMG_4503-640.jpg"] == ("resize", (480, 640), (768, 1024))
    assert sizes["rotated.jpg"] == ("rotate90", (768, 1024), (1024, 768))
    assert sizes["mirror.jpg"] == ("mirror", (1024, 768), (1024, 768))
    assert sizes["IMG_4506_crop.jpg"] == ("crop1", (1004, 754), (1024, 768))
    assert sizes["DSC_0003_small.jpg"] == ("recompress", (1024, 768), (1024, 768))


def test_camera_files_carry_body_tables_and_copies_ijg_tables(build: Build) -> None:
    laptop = build.root / "laptop"
    with Image.open(laptop / "Users/sam/Pictures/DCIM/100CANON/IMG_0002.JPG") as img:
        assert img.quantization == dict(enumerate(camera_qtables(CAMERAS["canon-80d"])))
    with Image.open(laptop / "Users/sam/Downloads/photo_640.jpg") as img:
        assert img.quantization == {0: ijg_table(IJG_LUMA, 85), 1: ijg_table(IJG_CHROMA, 85)}


def test_duplicates_are_byte_identical_to_their_source(build: Build) -> None:
    dups = [i for i in build.manifest.items if i.role == "duplicate"]
    assert len({d.derived_from for d in dups}) == 5
    for dup in dups:
        assert dup.derived_from is not None
        source = build.files[dup.derived_from]
        assert build.files[dup.path].sha256 == source.sha256
        assert build.files[dup.path].mtime_ns == source.mtime_ns


def test_names_lie_and_content_tells(build: Build) -> None:
    laptop = build.root / "laptop"
    sniffed = {
        i.path.rsplit("/", 1)[1]: sniff((laptop / i.path).read_bytes()[:4096])
        for i in build.manifest.items
        if i.role in ("misleading_extension", "corrupt")
    }
    assert sniffed == {
        "notes.txt": "image/jpeg",
        "report.doc": "image/png",
        "readme.jpg": "text/plain",
        "track01.mp3": "image/gif",
        "empty.jpg": "application/x-empty",
        "IMG_0013.JPG": "image/jpeg",
        "huge.png": "image/png",
        "~DF3A1.jpg": "application/octet-stream",
    }


def test_unusual_modes(build: Build) -> None:
    laptop = build.root / "laptop"
    found = {}
    for item in build.manifest.items:
        if item.role == "unusual_mode":
            with Image.open(laptop / item.path) as img:
                found[item.path.rsplit("/", 1)[1]] = (
                    img.format,
                    img.mode,
                    getattr(img, "n_frames", 1),
                )
    assert found == {
        "cmyk.jpg": ("JPEG", "CMYK", 1),
        "logo_palette.png": ("PNG", "P", 1),
        "scan_1bit.png": ("PNG", "1", 1),
        "depth_16bit.png": ("PNG", "I;16", 1),
        "scan.tif": ("TIFF", "RGB", 1),
        "paint.bmp": ("BMP", "RGB", 1),
        "animation.gif": ("GIF", "P", 3),
        "sticker_rgba.png": ("PNG", "RGBA", 1),
        "bw_portrait.jpg": ("JPEG", "L", 1),
        "progressive.jpg": ("JPEG", "RGB", 1),
    }
    with Image.open(laptop / "Users/sam/Pictures/Misc/logo_palette.png") as img:
        assert img.info["transparency"] == 0


def test_truncated_jpeg_is_forty_percent_of_a_camera_file(build: Build) -> None:
    path = build.root / "laptop/Users/sam/Pictures/DCIM/100CANON/IMG_0013.JPG"
    with Image.open(path) as img:
        assert (img.size, img.getexif()[0x0110]) == ((1024, 768), "Canon EOS 80D")
        with pytest.raises(OSError, match="truncated"):
            img.load()


def test_hostile_names_and_depth(build: Build) -> None:
    hostile = sorted(i.path for i in build.manifest.items if i.role == "hostile")
    deep = next(p for p in hostile if p.endswith("deep.jpg"))
    assert len(deep.split("/")) == 4 + 40 + 1  # Users/sam/Documents/Archive, 40 levels, file
    latin1 = b"Users/sam/Downloads/Urlaub_Z\xfcrich.jpg"
    if os.path.exists(os.path.join(os.fsencode(build.root / "laptop"), latin1)):
        assert "Users/sam/Downloads/Urlaub_Z\\xfcrich.jpg" in hostile


def test_documents_are_well_formed(build: Build) -> None:
    docs = build.root / "laptop/Users/sam/Documents"
    pdf = (docs / "invoice_2024-03.pdf").read_bytes()
    xref_at = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf.startswith(b"%PDF-1.4") and pdf[xref_at:].startswith(b"xref\n0 6\n")
    for number in range(1, 6):  # every xref offset points at its object
        entry = pdf[xref_at:].split(b"\n")[2 + number]
        assert pdf[int(entry[:10]) :].startswith(b"%d 0 obj" % number)
    with zipfile.ZipFile(docs / "letter.docx") as zf:
        assert zf.namelist() == ["[Content_Types].xml", "_rels/.rels", "word/document.xml"]
        assert b"Dear Ms Taylor," in zf.read("word/document.xml")
    assert sniff((docs / "letter.docx").read_bytes()).endswith("wordprocessingml.document")


def test_refuses_a_non_empty_laptop_folder(tmp_path: Path) -> None:
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    (laptop / "keep.txt").write_text("not ours")
    with pytest.raises(UserError, match="not empty"):
        build_demo_evidence(tmp_path)
    assert [p.name for p in laptop.iterdir()] == ["keep.txt"]
    assert not (tmp_path / "manifest.json").exists()
