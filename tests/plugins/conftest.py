"""A case made by the ``unseen`` program with the test plugin installed through its
entry point (``site/`` on PYTHONPATH, no install), and the review app's view of it.

Everything runs in subprocesses with ``UNSEEN_LOAD_PLUGINS=1``: the test process
itself keeps only the built-ins (``tests/conftest.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

HERE = Path(__file__).parent
SITE = HERE / "site"
# name -> length of the name (the test plugin's fact)
FILES = {"IMG_0001.JPG": 12, "holiday-photo.png": 17, "x.png": 5, "renamed.jpg": 11,
         "notes.txt": 9}  # fmt: skip


def plugin_env() -> dict[str, str]:
    path = os.pathsep.join([str(SITE), str(HERE.parent), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "UNSEEN_LOAD_PLUGINS": "1"}


def run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=plugin_env())
    assert done.returncode == 0, done.stderr
    return done.stdout


def _evidence(root: Path) -> None:
    root.mkdir()
    for n, name in enumerate(FILES):
        if name.endswith(".txt"):
            (root / name).write_text("not a picture\n")
            continue
        img = Image.new("RGB", (64, 48), (40 * n, 90, 200 - 40 * n))
        # renamed.jpg is a PNG: a name that hides what the content is.
        img.save(root / name, "JPEG" if name.endswith(".JPG") else "PNG")


@pytest.fixture(scope="session")
def plugin_case(unseen_exe: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The case: init, add and process through the CLI, as an examiner would."""
    root = tmp_path_factory.mktemp("plugin")
    _evidence(root / "evidence")
    case = root / "case"
    run([str(unseen_exe), "init", str(case)])
    run([str(unseen_exe), "add", str(case), str(root / "evidence")])
    run([str(unseen_exe), "process", str(case), "--workers", "0"])
    return case


def item_ids(case: Path) -> dict[str, int]:
    """Item id by file name."""
    with sqlite3.connect(case / "case.db") as db:
        return {p.rsplit("/", 1)[-1]: i for i, p in db.execute("SELECT id, path FROM items")}


def records(unseen_exe: Path, case: Path) -> dict[str, dict[str, Any]]:
    """The JSON Lines export by file name."""
    out = run([str(unseen_exe), "export", str(case), "--format", "jsonl"])
    found = [json.loads(line) for line in out.splitlines()]
    return {r["path"].rsplit("/", 1)[-1]: r for r in found}


def review(case: Path, items: list[int], queries: list[str]) -> dict[str, Any]:
    """What the review app shows (``review_probe.py``), run in a copy of the case."""
    copy = Path(tempfile.mkdtemp(dir=case.parent)) / "case"
    shutil.copytree(case, copy)  # the probe adds users
    ids = ",".join(str(i) for i in items)
    out = run([sys.executable, str(HERE / "review_probe.py"), str(copy), ids, *queries])
    return json.loads(out)  # type: ignore[no-any-return]
