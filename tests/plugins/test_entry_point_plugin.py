"""A third-party plugin found only through its entry point (``site/`` on PYTHONPATH,
no install) adds a fact, an export key, a grid filter, an item panel and a report
section, without any other file of unseen naming it.

Everything runs in subprocesses with ``UNSEEN_LOAD_PLUGINS=1``: the test process
itself keeps only the built-ins (``tests/conftest.py``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

HERE = Path(__file__).parent
SITE = HERE / "site"
TESTS = HERE.parent
# name -> length of the name (the plugin's fact)
FILES = {"IMG_0001.JPG": 12, "holiday-photo.png": 17, "x.png": 5, "notes.txt": 9}


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(SITE), str(TESTS), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "UNSEEN_LOAD_PLUGINS": "1"}


def _run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=_env())
    assert done.returncode == 0, done.stderr
    return done.stdout


def _evidence(root: Path) -> None:
    root.mkdir()
    for n, name in enumerate(FILES):
        if name.endswith(".txt"):
            (root / name).write_text("not a picture\n")
            continue
        img = Image.new("RGB", (64, 48), (40 * n, 90, 200 - 40 * n))
        img.save(root / name, "JPEG" if name.endswith(".JPG") else "PNG")


@pytest.fixture(scope="module")
def case(unseen_exe: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plugin")
    _evidence(root / "evidence")
    case = root / "case"
    _run([str(unseen_exe), "init", str(case)])
    _run([str(unseen_exe), "add", str(case), str(root / "evidence")])
    _run([str(unseen_exe), "process", str(case), "--workers", "0"])
    return case


def _records(unseen_exe: Path, case: Path) -> dict[str, dict[str, Any]]:
    out = _run([str(unseen_exe), "export", str(case), "--format", "jsonl"])
    records = [json.loads(line) for line in out.splitlines()]
    return {r["path"].rsplit("/", 1)[-1]: r for r in records}


def test_the_entry_point_is_found_without_installing() -> None:
    probe = "from importlib.metadata import entry_points as e\n"
    probe += "print(sorted((x.name, x.value) for x in e(group='unseen.plugins')))"
    out = _run([sys.executable, "-c", probe])
    assert "('name_length', 'unseen_testplugin')" in out


def test_export_key(unseen_exe: Path, case: Path) -> None:
    records = _records(unseen_exe, case)
    assert {name: r["name_length"] for name, r in records.items()} == FILES
    # Added at the end, after every key of the record and of the built-ins.
    assert all(list(r)[-2:] == ["place", "name_length"] for r in records.values())
    out = _run([str(unseen_exe), "export", str(case), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["path"].rsplit("/", 1)[-1]: r["name_length"] for r in rows} == {
        name: str(length) for name, length in FILES.items()
    }


def test_grid_filter_and_item_panel(unseen_exe: Path, case: Path) -> None:
    item_id = _item_ids(case)
    queries = ["name_length=12", "name_length=17", "name_length=9", "name_length=twelve",
               "name_length=5&mismatch=no", "name_length=5&mismatch=yes"]  # fmt: skip
    out = _run(
        [sys.executable, str(HERE / "review_probe.py"), str(case), str(item_id["IMG_0001.JPG"]),
         *queries]
    )  # fmt: skip
    shown = json.loads(out)
    assert shown["grid"] == {
        "name_length=12": [item_id["IMG_0001.JPG"]],
        "name_length=17": [item_id["holiday-photo.png"]],
        "name_length=9": [],  # notes.txt: the grid shows pictures and videos
        "name_length=twelve": [],
        "name_length=5&mismatch=no": [item_id["x.png"]],  # combined with a built-in's
        "name_length=5&mismatch=yes": [],
    }
    assert (
        '<label>name length is <input name="name_length" value="" size="12"></label>'
        in (shown["grid_form"])
    )
    assert "<h2>Name length</h2>" in shown["item"]
    assert '<p id="name-length">12 characters</p>' in shown["item"]


def test_report_section(unseen_exe: Path, case: Path, tmp_path: Path) -> None:
    out = tmp_path / "summary.html"
    _run([str(unseen_exe), "report", str(case), "--kind", "summary", "-o", str(out)])
    html = out.read_text()
    assert "<h2>File names</h2>" in html
    assert '<p id="name-lengths">4 files; the longest name has 17 characters.</p>' in html


def _item_ids(case: Path) -> dict[str, int]:
    with sqlite3.connect(case / "case.db") as db:
        return {p.rsplit("/", 1)[-1]: i for i, p in db.execute("SELECT id, path FROM items")}
