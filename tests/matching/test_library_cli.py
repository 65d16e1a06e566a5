"""``unseen hashset import|list|remove`` through the real program."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from .hashset_files import media, nsrl, vics_media


def run(
    exe: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(exe), "hashset", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env or os.environ.copy(),
    )


def listed(exe: Path, *args: str) -> list[dict[str, Any]]:
    done = run(exe, "list", "--json", *args)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_cli_round_trip(unseen_exe: Path, tmp_path: Path) -> None:
    library = str(tmp_path / "lib")
    vics = vics_media(tmp_path / "vic.json", [media(1, 1), media(2, 7), media(1, 1)])
    done = run(unseen_exe, "import", str(vics), "--name", "vic", "--library", library)
    assert done.returncode == 0, done.stderr
    assert "imported 1 entries into vic v1 (vics, scheme us, profile US)" in done.stderr
    assert "read 3, duplicates 1, rejected 1" in done.stderr
    assert "record 2: Category 7 is not defined for VICS profile US (scheme us)" in done.stderr
    assert "record 3: duplicate of record 1" in done.stderr

    db = nsrl(tmp_path / "RDS.db", [(5, 1)])
    done = run(unseen_exe, "import", str(db), "--name", "nsrl", "--format", "nsrl",
               "--library", library)  # fmt: skip
    assert done.returncode == 0, done.stderr
    sets = listed(unseen_exe, "--library", library)
    assert [
        (s["name"], s["version"], s["entries"], s["known_good"], s["scheme"]) for s in sets
    ] == [
        ("nsrl", 1, 1, True, "none"),
        ("vic", 1, 1, False, "us"),
    ]
    table = run(unseen_exe, "list", "--library", library)
    assert table.returncode == 0 and "nsrl" in table.stdout and "vic" in table.stdout

    strict = run(unseen_exe, "import", str(vics), "--name", "vic", "--strict",
                 "--library", library)  # fmt: skip
    assert strict.returncode == 2
    assert "record 2: Category 7 is not defined" in strict.stderr
    assert "nothing imported" in strict.stderr
    assert [s["version"] for s in listed(unseen_exe, "--library", library)] == [1, 1]

    removed = run(unseen_exe, "remove", "vic", "--library", library)
    assert removed.returncode == 0 and "removed 1 version(s) of vic" in removed.stderr
    assert [s["name"] for s in listed(unseen_exe, "--library", library)] == ["nsrl"]
    everything = listed(unseen_exe, "--library", library, "--all")
    assert [(s["name"], s["removed_at"] is not None) for s in everything] == [
        ("nsrl", False), ("vic", True),
    ]  # fmt: skip


def test_cli_uses_unseen_home_and_reports_errors(unseen_exe: Path, tmp_path: Path) -> None:
    env = {**os.environ, "UNSEEN_HOME": str(tmp_path / "home")}
    default = vics_media(tmp_path / "d.json", [media(1, 1)], profile="Default")
    done = run(unseen_exe, "import", str(default), "--name", "d", env=env)
    assert done.returncode == 2
    assert "VICS profile Default does not say what its Category numbers mean" in done.stderr
    done = run(unseen_exe, "import", str(default), "--name", "d", "--scheme", "us", env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "home" / "library.db").is_file()
    missing = run(unseen_exe, "remove", "nope", env=env)
    assert missing.returncode == 2 and "no hash set 'nope'" in missing.stderr
