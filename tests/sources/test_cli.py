"""The user's path: ``unseen add`` (E01, archive), processing with workers, ``verify``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from unseen.core.settings import Settings
from unseen.engine.driver import ordered_jobs
from unseen.engine.runner import process_case
from unseen.store.case import Case

from . import artefacts as a
from .conftest import Built


def unseen(exe: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(exe), *map(str, args)], capture_output=True, text=True, env=os.environ, timeout=300
    )


def test_add_process_export_verify(
    unseen_exe: Path, tmp_path: Path, e01_image: Path, disk_image: Built, photos: dict[str, bytes]
) -> None:
    pytest.importorskip("pyewf")
    archive = tmp_path / "phone.zip"
    archive.write_bytes(a.zip_bytes({"inner.zip": a.zip_bytes({"x.jpg": photos["car.jpg"]})}))
    case = tmp_path / "case"
    assert unseen(unseen_exe, "init", case).returncode == 0
    added = unseen(unseen_exe, "add", case, e01_image)
    assert added.returncode == 0, added.stderr
    assert "added ewf source" in added.stderr
    assert "added archive source" in unseen(unseen_exe, "add", case, archive).stderr
    # Processing through the library, with a real pool of two workers; the whole-case
    # stages (matching, correlation...) are others' and skipped here.
    stages = tuple(job.NAME for job in ordered_jobs())
    process_case(Case.open(case), workers=2, settings=Settings(skip=stages))
    out = unseen(unseen_exe, "export", case, "--format", "jsonl").stdout
    records = {(r["source"], r["path"]): r for r in map(json.loads, out.splitlines())}
    nested = records[("phone.zip", "inner.zip!x.jpg")]
    assert (nested["sha256"], nested["container"]) == (a.sha256(photos["car.jpg"]), ["inner.zip"])
    deleted = records[("disk.E01", "p1/deleted_me.jpg")]
    assert (deleted["deleted"], deleted["sha256"]) == (True, a.sha256(photos["deleted_me.jpg"]))
    carved = [r for r in records.values() if r["carved"]]
    assert sorted(r["offset"] for r in carved) == sorted(disk_image.offsets.values())
    checked = unseen(unseen_exe, "verify", case)
    assert checked.returncode == 0, checked.stdout
    assert [line for line in checked.stdout.splitlines() if not line.startswith(" ")] == [
        "OK disk.E01",
        "OK phone.zip",
    ]


def test_add_refuses_what_it_cannot_read(unseen_exe: Path, tmp_path: Path) -> None:
    case = tmp_path / "case"
    unseen(unseen_exe, "init", case)
    odd = tmp_path / "notes.txt"
    odd.write_text("just text\n")
    refused = unseen(unseen_exe, "add", case, odd)
    assert refused.returncode == 2
    assert "not a kind of evidence unseen can read" in refused.stderr
