"""Pictures hidden under other names are flagged; honest names are not."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from unseen.analysis.filetype import extension_mismatch
from unseen.engine.runner import process_case
from unseen.reports.records import iter_records
from unseen.store import repo
from unseen.store.case import Case


@pytest.mark.parametrize(
    ("path", "mime", "expected"),
    [
        ("DCIM/IMG_0001.JPG", "image/jpeg", False),
        ("notes.txt", "image/jpeg", True),
        ("a.zip!inner/track01.mp3", "image/gif", True),
        ("holiday", "image/png", True),
        ("clip.mov", "video/quicktime", False),
        ("fake.jpg", "text/plain", True),
        ("report.pdf", "application/pdf", None),
        ("empty.jpg", "application/x-empty", True),
        ("empty.bin", "application/x-empty", None),
    ],
)
def test_extension_mismatch(path: str, mime: str, expected: bool | None) -> None:
    assert extension_mismatch(path, mime) is expected


def test_the_flag_reaches_the_export(tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    picture = Image.new("RGB", (64, 48), (200, 10, 10))
    picture.save(ev / "photo.jpg", "JPEG")
    picture.save(ev / "notes.txt", "JPEG")
    (ev / "readme.md").write_text("hello")
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "tester")
    process_case(case, workers=0)
    with case.engine.connect() as conn:
        flags = {r["path"]: r["extension_mismatch"] for r in iter_records(conn)}
    assert flags == {"notes.txt": True, "photo.jpg": False, "readme.md": None}
