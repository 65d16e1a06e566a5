"""Ex01 (EWF2): an image of the test disk written by code (``ex01``) and read through
libewf yields exactly the raw disk's records, its acquisition metadata and its MD5."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from unseen.core.errors import EvidenceError
from unseen.sources.base import detect_kind
from unseen.sources.verify import verify
from unseen.store import schema as s

from . import ex01
from .conftest import Built, Records
from .test_disk import rows

pytest.importorskip("pyewf")
pytest.importorskip("pytsk3")

CaseOf = Callable[..., tuple[Any, Records]]


@pytest.fixture(scope="session")
def ex01_image(root: Path, disk_image: Built) -> Path:
    return ex01.ex01(disk_image.path.read_bytes(), root / "disk.Ex01")


def test_ex01_lists_what_the_raw_disk_lists(
    case_of: CaseOf, ex01_image: Path, disk_image: Built
) -> None:
    assert detect_kind(ex01_image) == "ewf"
    _, from_ex01 = case_of(ex01_image)
    _, from_raw = case_of(disk_image.path)
    assert rows(from_ex01, "disk.Ex01") == rows(from_raw, "disk.raw")
    assert len(from_ex01) == 14


def test_ex01_acquisition_metadata_is_kept_and_verified(
    case_of: CaseOf, ex01_image: Path, disk_image: Built
) -> None:
    case, _ = case_of(ex01_image)
    with case.engine.connect() as conn:
        row = conn.execute(select(s.sources.c.acquisition)).one()
    acquired = json.loads(row.acquisition)
    assert {k: acquired[k] for k in ("case_number", "evidence_number", "examiner")} == {
        "case_number": "CASE-002",
        "evidence_number": "EV-2",
        "examiner": "Test Examiner",
    }
    media = disk_image.path.read_bytes()
    assert acquired["stored_hashes"] == {"md5": hashlib.md5(media).hexdigest()}
    (verdict,) = verify(case)
    assert (verdict.status, verdict.notes) == (
        "OK",
        ["sha256 fingerprint matches", "E01 media MD5 matches the acquisition hash"],
    )


def test_damaged_ex01_chunk_is_recorded_not_silent(root: Path, ex01_image: Path) -> None:
    """The first chunk (the partition table) no longer inflates: the disk is reported
    unreadable, never listed as empty. libewf reads such a chunk as zeros without
    saying so (pyewf exposes no checksum errors), so the error names the symptom."""
    from unseen.sources.containers import Limits
    from unseen.sources.ewf import EwfReader

    data = bytearray(ex01_image.read_bytes())
    case_descriptor = data.index(struct.pack("<II", ex01.CASE, 0), 32)
    first_chunk = case_descriptor + 64
    data[first_chunk + 2 : first_chunk + 66] = bytes(64)
    path = root / "damaged.Ex01"
    path.write_bytes(bytes(data))
    with path.open("rb") as f:
        reader = EwfReader(f)
        with pytest.raises(EvidenceError, match="neither a partition table nor a file system"):
            list(reader.members(Limits(carve=False)))
