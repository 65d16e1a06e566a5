"""E01 images: listing, acquisition metadata, damaged images, ``unseen verify``."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from unseen.sources.base import detect_kind
from unseen.sources.verify import verify
from unseen.store import schema as s

from .artefacts import need, run
from .conftest import Built, Records
from .test_disk import rows

pytest.importorskip("pyewf")
pytest.importorskip("pytsk3")

CaseOf = Callable[..., tuple[Any, Records]]


def test_e01_lists_what_the_raw_disk_lists(
    case_of: CaseOf, e01_image: Path, disk_image: Built
) -> None:
    assert detect_kind(e01_image) == "ewf"
    _, from_e01 = case_of(e01_image)
    _, from_raw = case_of(disk_image.path)
    assert rows(from_e01, "disk.E01") == rows(from_raw, "disk.raw")
    assert len(from_e01) == 14


def test_e01_acquisition_metadata_is_kept_and_verified(
    case_of: CaseOf, e01_image: Path, disk_image: Built
) -> None:
    case, _ = case_of(e01_image)
    with case.engine.connect() as conn:
        row = conn.execute(select(s.sources.c.fingerprint, s.sources.c.acquisition)).one()
    acquired = json.loads(row.acquisition)
    media = disk_image.path.read_bytes()
    assert {k: acquired[k] for k in ("case_number", "evidence_number", "examiner", "notes")} == {
        "case_number": "CASE-001",
        "evidence_number": "EV-1",
        "examiner": "Test Examiner",
        "notes": "no real data",
    }
    assert acquired["stored_hashes"] == {
        "md5": hashlib.md5(media).hexdigest(),
        "sha1": hashlib.sha1(media).hexdigest(),
    }
    assert json.loads(row.fingerprint) == {
        "method": "sha256",
        "sha256": hashlib.sha256(e01_image.read_bytes()).hexdigest(),
        "segments": ["disk.E01"],
        "bytes": e01_image.stat().st_size,
    }
    (verdict,) = verify(case)
    assert (verdict.status, verdict.notes) == (
        "OK",
        [
            "sha256 fingerprint matches",
            "E01 media MD5 matches the acquisition hash",
            "E01 media SHA1 matches the acquisition hash",
        ],
    )


def test_e01_whose_content_does_not_match_its_stored_hash(
    case_of: CaseOf, flipped_e01: Path, disk_image: Built, unseen_exe: Path
) -> None:
    case, records = case_of(flipped_e01)
    (source,) = (r for k, r in records.items() if k.startswith("disk.E01:"))
    assert source["errors"] == [
        "listing: neither a partition table nor a file system The Sleuth Kit can read",
        "listing: E01 damaged: 1 chunks do not decompress or fail their checksum and read "
        "as zeros (chunks 0)",
    ]
    (verdict,) = verify(case)
    assert verdict.status == "MISMATCH"
    stored = hashlib.md5(disk_image.path.read_bytes()).hexdigest()
    assert verdict.notes[0] == "sha256 fingerprint matches"  # changed before it was added
    assert verdict.notes[1].startswith("E01 damaged: 1 chunks")
    assert verdict.notes[2].startswith("E01 media MD5 ")
    assert verdict.notes[2].endswith(f"differs from the acquisition hash {stored}")
    done = subprocess.run(
        [str(unseen_exe), "verify", str(case.root)], capture_output=True, text=True, env=os.environ
    )
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "MISMATCH disk.E01"


def test_segmented_uncompressed_e01_reads_as_libewf_reads_it(
    case_of: CaseOf, root: Path, disk_image: Built
) -> None:
    import pyewf

    from unseen.sources.ewfread import EwfMedia

    need("ewfacquire")
    run(
        "ewfacquire",
        "-u",
        "-q",
        "-t",
        root / "segments",
        "-f",
        "encase6",
        "-c",
        "none",
        "-S",
        "40MiB",
        disk_image.path,
    )
    segments = sorted(root.glob("segments.E0*"))
    assert [p.name for p in segments] == ["segments.E01", "segments.E02", "segments.E03"]
    files = [p.open("rb") for p in segments]
    handle = pyewf.handle()
    handle.open_file_objects(files)
    media = EwfMedia(files)
    assert media.read() == handle.read_buffer_at_offset(handle.get_media_size(), 0)
    assert media.damaged == set()
    _, from_segments = case_of(segments[0])
    _, from_raw = case_of(disk_image.path)
    assert rows(from_segments, "segments.E01") == rows(from_raw, "disk.raw")


def test_truncated_e01_is_recorded_not_fatal(
    case_of: CaseOf, truncated_e01: Path, fat_image: Built
) -> None:
    case, records = case_of(truncated_e01, fat_image.path)
    (source_error,) = (r for k, r in records.items() if k.startswith("disk.E01:"))
    assert source_error["path"] == "."
    assert source_error["errors"][0].startswith("listing: ")
    assert len([k for k in records if k.startswith("fat32.raw:")]) == 8  # the rest goes on
    verdicts = {v.label: v for v in verify(case)}
    assert verdicts["disk.E01"].status == "MISMATCH"
    assert verdicts["fat32.raw"].status == "OK"


def test_verify_notices_changed_evidence(
    case_of: CaseOf, tmp_path: Path, unseen_exe: Path
) -> None:
    folder = tmp_path / "evidence"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_bytes(b"first")
    case, _ = case_of(folder)
    assert [v.status for v in verify(case)] == ["OK"]
    (folder / "sub" / "b.txt").write_bytes(b"second")
    (verdict,) = verify(case)
    assert (verdict.status, verdict.notes) == (
        "MISMATCH",
        [
            "tree fingerprint differs (bytes, files, folders, mtime_max_ns, sha256)",
            "folder 'sub': entries added, removed or changed (names, types, sizes, times or "
            "link targets)",
        ],
    )
    shutil.rmtree(folder)
    (verdict,) = verify(case)
    assert verdict.notes == [f"evidence not found at {folder}"]
