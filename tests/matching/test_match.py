"""Matching end to end: synthetic pictures processed by the real pipeline, hash sets
imported into a real library, and every match checked against brute force.

Planted near-duplicates of one original (resized, recompressed at JPEG quality 20,
cropped by 1 %, rotated by 90 degrees, mirrored) must be found within 31 bits with the
set's category and provenance; unrelated pictures must not be; exact MD5, SHA-1 and
SHA-256 matches, conflicts, unmapped categories and known-good files are checked too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import insert, select

from unseen.engine.runner import process_case
from unseen.matching.library import Library
from unseen.matching.library_schema import entries, hashsets
from unseen.matching.matcher import MatchConfig
from unseen.matching.stage import run_match
from unseen.reports.csv_export import CsvExporter
from unseen.reports.records import iter_records
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

RADIUS = 31
ORIGINAL, CONFLICTED, UNMAPPED, FRAMES = 1, 5, 4, 3  # seeds of pictures in the sets
UNRELATED = (101, 102, 103)
NEAR = ("resized", "q20", "crop1", "rot90", "mirror")
DOCS = {"md5": b"document known by md5\n", "sha1": b"by sha1\n", "sha256": b"by sha-256\n"}
README = b"Known good: an installer readme.\n"


def scene(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    """A smooth synthetic picture: a blurred colour field and soft shapes."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    img = Image.fromarray(small, "RGB").resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(10):
        x, y, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(20, 120)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x - r, y - r, x + r, y + r), fill=colour)
    return img.filter(ImageFilter.GaussianBlur(2))


def encode(img: Image.Image, fmt: str = "PNG", **params: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def pdq_of(img: Image.Image) -> str:
    """The PDQ hash as unseen and agency tools write it (first bit most significant)."""
    bits, _quality = pdqhash.compute(np.ascontiguousarray(np.asarray(img.convert("RGB"))))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def near_copies(img: Image.Image) -> dict[str, bytes]:
    w, h = img.size
    return {
        "resized.png": encode(img.resize((w // 2, h // 2), Image.Resampling.LANCZOS)),
        "q20.jpg": encode(img, "JPEG", quality=20),
        "crop1.png": encode(img.crop((3, 2, w - 3, h - 3))),  # 1 % of each side
        "rot90.png": encode(img.transpose(Image.Transpose.ROTATE_90)),
        "mirror.png": encode(img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
    }


def evidence_files() -> dict[str, bytes]:
    files = {f"near/o1_{name}": data for name, data in near_copies(scene(ORIGINAL)).items()}
    files["exact/o2.png"] = encode(scene(2))
    files |= {f"exact/doc_{kind}.bin": data for kind, data in DOCS.items()}
    files["sets/conflicted.png"] = encode(scene(CONFLICTED))
    files["sets/unmapped.png"] = encode(scene(UNMAPPED))
    files |= {f"unrelated/u{seed}.png": encode(scene(seed)) for seed in UNRELATED}
    files["flat/grey.png"] = encode(Image.new("RGB", (300, 200), (128, 128, 128)))
    files["good/readme.txt"] = README
    files["video/clip.mp4"] = b"\x00\x00\x00\x18ftypmp42 not really a video"
    return files


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def build_library(home: Path, files: dict[str, bytes]) -> Library:
    """CAID-TEST (UK), VIC-TEST (US, mapped through us_uk) and NSRL-TEST (known good)."""
    digest = {kind: hashlib.new(kind, data).hexdigest() for kind, data in DOCS.items()}
    lib = Library.open(home)
    caid = write_csv(
        home.parent / "caid.csv",
        "md5,sha1,sha256,pdq,category",
        [
            f",,,{pdq_of(scene(ORIGINAL))},A",  # line 2
            f"{hashlib.md5(files['exact/o2.png']).hexdigest()},,,,B",  # line 3
            f",,,{pdq_of(scene(CONFLICTED))},A",  # line 4
            f"{digest['md5']},,,,C",  # line 5
            f",{digest['sha1']},,,C",  # line 6
            f",,{digest['sha256']},,C",  # line 7
            f",,,{pdq_of(scene(FRAMES))},B",  # line 8
        ],
    )
    lib.import_file(caid, "CAID-TEST", fmt="csv", scheme="uk")
    vic = write_csv(
        home.parent / "vic.csv",
        "pdq,category",
        [f"{pdq_of(scene(CONFLICTED))},CAT-4", f"{pdq_of(scene(UNMAPPED))},CAT-1"],
    )
    lib.import_file(vic, "VIC-TEST", fmt="csv", scheme="us")
    nsrl = home.parent / "nsrl.txt"
    nsrl.write_text(
        f"{hashlib.md5(README).hexdigest()}  readme.txt\n"
        f"{hashlib.md5(files['exact/o2.png']).hexdigest()}  o2.png\n"
    )
    lib.import_file(nsrl, "NSRL-TEST", fmt="md5list", known_good=True)
    return lib


@dataclass
class Matched:
    root: Path
    home: Path
    case: Case
    files: dict[str, bytes]
    stage_line: str


@pytest.fixture(scope="module")
def matched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matched]:
    root = tmp_path_factory.mktemp("match")
    files = evidence_files()
    for name, data in files.items():
        (root / "evidence" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "evidence" / name).write_bytes(data)
    home = root / "library"
    build_library(home, files).close()
    case = Case.create(root / "case", name="MATCH", examiner="Test Examiner")
    repo.add_source(case, "folder", str(root / "evidence"), "EV01", "Test Examiner")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UNSEEN_HOME", str(home))  # the stage at the end of processing uses it
        summary = process_case(case, workers=0)
    yield Matched(root, home, case, files, summary.stages["match"])
    case.close()


def item_ids(case: Case) -> dict[str, int]:
    with case.engine.connect() as conn:
        return dict(conn.execute(select(s.items.c.path, s.items.c.id)).all())


def match_rows(case: Case) -> set[tuple[Any, ...]]:
    m = s.matches
    query = select(
        s.items.c.path, m.c.set_name, m.c.set_version, m.c.kind, m.c.distance, m.c.category,
        m.c.entry_ref, m.c.known_good, m.c.frame_fraction,
    ).join(s.items, s.items.c.id == m.c.item_id)  # fmt: skip
    with case.engine.connect() as conn:
        return {tuple(r) for r in conn.execute(query)}


def auto(case: Case) -> dict[str, dict[str, Any]]:
    a = s.auto_categories
    query = select(s.items.c.path, a).join(s.items, s.items.c.id == a.c.item_id)
    with case.engine.connect() as conn:
        return {r.path: dict(r._mapping) for r in conn.execute(query)}


def last_run(case: Case) -> dict[str, Any]:
    with case.engine.connect() as conn:
        row = conn.execute(select(s.match_runs).order_by(s.match_runs.c.id.desc())).first()
    assert row is not None
    return {k: json.loads(v) if k in ("sets", "thresholds", "transformations", "stats") else v
            for k, v in row._mapping.items()}  # fmt: skip


def popcount(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def brute_force_matches(case: Case, home: Path, radius: int) -> set[tuple[Any, ...]]:
    """What matching must find, computed the plain way: every item against every entry."""
    lib = Library.open(home)
    with lib.engine.connect() as conn:
        sets = {r.id: r for r in conn.execute(select(hashsets))}
        rows = conn.execute(select(entries)).all()
    lib.close()
    with case.engine.connect() as conn:
        items = conn.execute(
            select(s.items.c.path, s.items.c.md5, s.items.c.sha1, s.items.c.sha256,
                   s.images.c.pdq_dihedral, s.images.c.pdq_quality)
            .outerjoin(s.images, s.images.c.item_id == s.items.c.id)
        ).all()  # fmt: skip
    best: dict[tuple[str, int, str | None], tuple[Any, ...]] = {}
    for item in items:
        for e in rows:
            found = _exact(item, e) or _near(item, e, radius)
            if found is None:
                continue
            kind, distance = found
            info = sets[e.set_id]
            strength = (
                kind not in ("sha256", "sha1", "md5"),
                distance,
                ["sha256", "sha1", "md5", "pdq", "pdq-dihedral"].index(kind),
                e.id,
            )
            row = (item.path, info.name, info.version, kind, distance, e.category, e.ref,
                   info.known_good, None)  # fmt: skip
            key = (item.path, e.set_id, e.category)
            if key not in best or strength < best[key][0]:
                best[key] = (strength, row)
    return {row for _strength, row in best.values()}


def _exact(item: Any, entry: Any) -> tuple[str, int] | None:
    for kind in ("sha256", "sha1", "md5"):
        if item._mapping[kind] and item._mapping[kind] == entry._mapping[kind]:
            return kind, 0
    return None


def _near(item: Any, entry: Any, radius: int) -> tuple[str, int] | None:
    if not entry.pdq or not item.pdq_dihedral or item.pdq_quality < 50:
        return None
    hashes = item.pdq_dihedral.split(",")
    if (d := popcount(hashes[0], entry.pdq)) <= radius:
        return "pdq", d
    turned = min(popcount(h, entry.pdq) for h in hashes[1:])
    return ("pdq-dihedral", turned) if turned <= radius else None


def test_the_stage_runs_at_the_end_of_processing(matched: Matched) -> None:
    assert matched.stage_line == (
        "12 items matched against 3 hash sets (5 exact, 7 near-duplicate, 0 video; "
        "2 conflicts, 1 known good); 1 images not matchable by PDQ (low quality)"
    )


def test_matches_are_exactly_those_of_brute_force(matched: Matched) -> None:
    expected = brute_force_matches(matched.case, matched.home, RADIUS)
    assert match_rows(matched.case) == expected
    assert len(expected) == 14


def test_planted_near_duplicates_are_found_with_provenance(matched: Matched) -> None:
    rows = {r[0]: r for r in match_rows(matched.case) if r[0].startswith("near/")}
    decided = auto(matched.case)
    expected = brute_force_matches(matched.case, matched.home, RADIUS)
    for name, suffix in zip(NEAR, ("png", "jpg", "png", "png", "png"), strict=True):
        path = f"near/o1_{name}.{suffix}"
        _path, set_name, version, kind, distance, category, ref, good, _ = rows[path]
        assert (set_name, version, category, ref, good) == ("CAID-TEST", 1, "A", "line 2", False)
        assert distance <= RADIUS
        assert kind == ("pdq-dihedral" if name in ("rot90", "mirror") else "pdq")
        assert rows[path] in expected  # the distance is exactly the brute-force one
        turned = " (rotated or mirrored)" if kind == "pdq-dihedral" else ""
        assert decided[path]["category"] == "A"
        assert decided[path]["reason"] == (
            f"PDQ distance {distance}{turned} to CAID-TEST v1 entry line 2 (A)"
        )
        assert decided[path]["source"] == "hashset:CAID-TEST v1"
        assert not decided[path]["conflict"] and not decided[path]["known_good"]


def test_unrelated_pictures_are_not_matched(matched: Matched) -> None:
    paths = {r[0] for r in match_rows(matched.case)}
    for seed in UNRELATED:
        assert f"unrelated/u{seed}.png" not in paths
    assert "flat/grey.png" not in paths  # quality below 50: not matchable by PDQ


def test_exact_matches_by_each_digest(matched: Matched) -> None:
    rows = {r[0]: r[1:] for r in match_rows(matched.case) if r[0].startswith("exact/doc_")}
    assert rows == {
        "exact/doc_md5.bin": ("CAID-TEST", 1, "md5", 0, "C", "line 5", False, None),
        "exact/doc_sha1.bin": ("CAID-TEST", 1, "sha1", 0, "C", "line 6", False, None),
        "exact/doc_sha256.bin": ("CAID-TEST", 1, "sha256", 0, "C", "line 7", False, None),
    }
    assert auto(matched.case)["exact/doc_sha1.bin"]["reason"] == (
        "SHA-1 exact match in CAID-TEST v1 entry line 6 (C)"
    )


def test_sets_that_disagree_give_a_conflict_not_a_category(matched: Matched) -> None:
    decided = auto(matched.case)["sets/conflicted.png"]
    assert decided["category"] is None and decided["conflict"] and not decided["known_good"]
    assert decided["source"] == "hashset:CAID-TEST v1, VIC-TEST v1"
    assert decided["reason"] == (
        "conflict between sets (A, NI): PDQ distance 0 to CAID-TEST v1 entry line 4 (A); "
        "PDQ distance 0 to VIC-TEST v1 entry line 2 (CAT-4 in us -> NI)"
    )
    kept = {r[1:7] for r in match_rows(matched.case) if r[0] == "sets/conflicted.png"}
    assert kept == {("CAID-TEST", 1, "pdq", 0, "A", "line 4"),
                    ("VIC-TEST", 1, "pdq", 0, "CAT-4", "line 2")}  # fmt: skip


def test_a_category_without_equivalent_stays_unmapped(matched: Matched) -> None:
    decided = auto(matched.case)["sets/unmapped.png"]
    assert decided["category"] is None and not decided["conflict"]
    assert decided["reason"] == (
        "PDQ distance 0 to VIC-TEST v1 entry line 3 (CAT-1 in us -> no uk equivalent)"
    )


def test_known_good_marks_ignorable_but_never_overrides(matched: Matched) -> None:
    decided = auto(matched.case)
    readme = decided["good/readme.txt"]
    assert readme["known_good"] and readme["category"] is None and not readme["conflict"]
    assert readme["reason"] == "MD5 exact match in NSRL-TEST v1 entry line 1 (known good)"
    o2 = decided["exact/o2.png"]
    assert o2["category"] == "B" and o2["conflict"] and not o2["known_good"]
    assert o2["reason"] == (
        "conflict between sets (B, known good): MD5 exact match in CAID-TEST v1 entry "
        "line 3 (B); MD5 exact match in NSRL-TEST v1 entry line 2 (known good)"
    )


def test_the_run_is_recorded(matched: Matched) -> None:
    run = last_run(matched.case)
    assert run["library"] == str(matched.home.resolve())
    assert [(x["name"], x["version"], x["entries"]) for x in run["sets"]] == [
        ("CAID-TEST", 1, 7), ("NSRL-TEST", 1, 2), ("VIC-TEST", 1, 2),
    ]  # fmt: skip
    assert all(len(x["file_sha256"]) == 64 for x in run["sets"])
    assert run["thresholds"] == {
        "dihedral": True, "max_distance": 31, "min_quality": 50, "video_frames": 0,
    }  # fmt: skip
    assert run["stats"]["low_quality"] == 1 and run["stats"]["pdq_images"] == 11
    assert any("1 % crop" in line for line in run["transformations"]["not_covered"])


def test_export_records_carry_categories_and_matches(matched: Matched) -> None:
    with matched.case.engine.connect() as conn:
        records = {r["path"]: r for r in iter_records(conn)}
    q20 = records["near/o1_q20.jpg"]
    (distance,) = [r[4] for r in match_rows(matched.case) if r[0] == "near/o1_q20.jpg"]
    assert (q20["category"], q20["category_source"], q20["known_good"]) == (
        "A", "hashset:CAID-TEST v1", False,
    )  # fmt: skip
    assert q20["matches"] == [
        {"set": "CAID-TEST v1", "kind": "pdq", "distance": distance, "category": "A",
         "entry": "line 2", "fraction": None},
    ]  # fmt: skip
    assert records["good/readme.txt"]["known_good"] is True
    assert records["sets/conflicted.png"]["category_conflict"] is True
    unrelated = records["unrelated/u101.png"]
    assert (unrelated["category"], unrelated["category_source"], unrelated["matches"]) == (
        None, None, [],
    )  # fmt: skip


def test_a_foreign_grade_stays_visible_as_such(matched: Matched) -> None:
    """A US set's grade in a UK case is exported under its own scheme, never hidden
    behind ``category: null`` or silently regraded."""
    with matched.case.engine.connect() as conn:
        records = {r["path"]: r for r in iter_records(conn)}
    unmapped = records["sets/unmapped.png"]
    assert (unmapped["category"], unmapped["category_source"]) == (None, "hashset:VIC-TEST v1")
    assert unmapped["category_foreign"] == {"scheme": "us", "code": "CAT-1"}
    assert records["sets/conflicted.png"]["category_foreign"] == {"scheme": "us", "code": "CAT-4"}
    assert records["near/o1_q20.jpg"]["category_foreign"] is None  # a UK set in a UK case
    assert records["good/readme.txt"]["category_foreign"] is None  # known good: no grade
    assert records["unrelated/u101.png"]["category_foreign"] is None
    out = io.StringIO()
    CsvExporter().export(matched.case, out, "items", {})
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    (row,) = [r for r in rows if r["path"] == "sets/unmapped.png"]
    assert (row["category"], row["category_foreign.scheme"], row["category_foreign.code"]) == (
        "", "us", "CAT-1",
    )  # fmt: skip


@pytest.fixture
def copy(matched: Matched, tmp_path: Path) -> Iterator[Case]:
    """A copy of the processed case, for tests that change it."""
    shutil.copytree(matched.root / "case", tmp_path / "case")
    case = Case.open(tmp_path / "case")
    yield case
    case.close()


def test_rerun_replaces_and_reuses_the_cached_indexes(matched: Matched, copy: Case) -> None:
    before = match_rows(copy)
    summary = run_match(copy, matched.home)
    assert match_rows(copy) == before
    assert summary.line() == matched.stage_line
    run = last_run(copy)
    assert {x["name"]: x["pdq_index"] for x in run["sets"]} == {
        "CAID-TEST": "cache", "NSRL-TEST": "cache", "VIC-TEST": "cache",
    }  # fmt: skip
    with copy.engine.connect() as conn:
        assert len(conn.execute(select(s.match_runs)).all()) == 2
        assert len(conn.execute(select(s.auto_categories)).all()) == 12


def test_a_tampered_index_is_detected_and_rebuilt(matched: Matched, copy: Case) -> None:
    before = match_rows(copy)
    (caid,) = (matched.home / "indexes").glob("set1-v1-*.faissbin")
    data = bytearray(caid.read_bytes())
    data[-40] ^= 0xFF
    caid.write_bytes(bytes(data))
    run_match(copy, matched.home)
    origin = {x["name"]: x["pdq_index"] for x in last_run(copy)["sets"]}["CAID-TEST"]
    assert origin == f"rebuilt ({caid.name} does not match its digest)"
    assert match_rows(copy) == before
    run_match(copy, matched.home)
    assert {x["name"]: x["pdq_index"] for x in last_run(copy)["sets"]}["CAID-TEST"] == "cache"


def test_a_smaller_radius_gives_the_brute_force_subset(matched: Matched, copy: Case) -> None:
    run_match(copy, matched.home, MatchConfig(max_distance=4, min_quality=50))
    expected = brute_force_matches(copy, matched.home, 4)
    assert match_rows(copy) == expected
    assert expected < brute_force_matches(copy, matched.home, RADIUS)


def test_video_frames_match_with_the_share_of_frames(matched: Matched, copy: Case) -> None:
    clip = item_ids(copy)["video/clip.mp4"]
    target = pdq_of(scene(FRAMES))
    near = f"{int(target, 16) ^ 0b1111_0000_1111:064x}"  # 8 bits away
    other = pdq_of(scene(UNRELATED[0]))
    frames = [(0, target, 90), (1, near, 80), (2, other, 90), (3, target, 20)]
    with copy.engine.begin() as conn:
        conn.execute(
            insert(s.video_frames),
            [{"item_id": clip, "frame_index": i, "timestamp": i / 25, "pdq": h, "quality": q}
             for i, h, q in frames],
        )  # fmt: skip
    summary = run_match(copy, matched.home)
    assert summary.video == 1
    rows = [r for r in match_rows(copy) if r[0] == "video/clip.mp4"]
    # Three usable frames (one is below quality 50); two within the radius.
    assert rows == [("video/clip.mp4", "CAID-TEST", 1, "video", 0, "B", "line 8", False, 2 / 3)]
    assert auto(copy)["video/clip.mp4"]["reason"] == (
        "video frames: 67% within PDQ distance, closest 0 to CAID-TEST v1 entry line 8 (B)"
    )


def test_cli_match_and_a_missing_library(matched: Matched, copy: Case, unseen_exe: Path) -> None:
    run = [str(unseen_exe), "match", str(copy.root), "--library", str(matched.home)]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert matched.stage_line in " ".join(done.stderr.split())
    missing = [*run[:3], "--library", str(copy.root / "nowhere")]
    done = subprocess.run(missing, capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 2
    assert "no hash-set library" in done.stderr
