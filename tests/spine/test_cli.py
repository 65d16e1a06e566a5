"""The real program end to end: init, add, process, status --json, export; and the
library API giving the same case."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from unseen.cli.main import app
from unseen.engine.runner import enumerate_sources
from unseen.reports.status import case_status
from unseen.store import repo
from unseen.store.case import Case

from .casework import LABEL, SPINE, by_path, cli, cli_export, export, library_case, thumbs
from .evidence import digests, small_evidence, write


def said(done: subprocess.CompletedProcess[str]) -> str:
    """What the program told the user on stderr, as one line (rich wraps it)."""
    return " ".join(done.stderr.split())


def status_json(exe: Path, case_dir: Path) -> dict[str, Any]:
    return dict(json.loads(cli(exe, "status", str(case_dir), "--json").stdout))


EXPECTED_COUNTS = {
    "files": 7,
    "processed": 7,
    "pending": 0,
    "images": 4,
    "pdq_hashed": 3,
    "by_kind": {"file": 6, "symlink": 1},
    "by_type": {
        "image/jpeg": 3,
        "application/x-empty": 1,
        "image/png": 1,
        "text/plain": 1,
    },
    "items_with_errors": 2,
}
SPINE_ERRORS_BY_STAGE = {"image": 1, "listing": 1}  # later stages may add their own


def spine_counts(status: dict[str, Any]) -> dict[str, Any]:
    counts = {k: status[k] for k in EXPECTED_COUNTS}
    by_stage = status["errors_by_stage"]
    return {**counts, "errors_by_stage": {k: v for k, v in by_stage.items() if k in SPINE}}


def test_cli_end_to_end_equals_library(tmp_path: Path, unseen_exe: Path) -> None:
    files = small_evidence(tmp_path / "evidence")
    case_dir = tmp_path / "case"
    cli(unseen_exe, "init", str(case_dir), "--name", "OP-1", "--examiner", "Examiner A")
    assert sorted(p.name for p in case_dir.iterdir()) == ["case.db", "case.json", "logs", "thumbs"]
    cli(unseen_exe, "add", str(case_dir), str(tmp_path / "evidence"), "--label", LABEL)
    before = status_json(unseen_exe, case_dir)
    assert (before["files"], before["processed"], before["pending"]) == (0, 0, 0)
    assert before["case"]["name"] == "OP-1" and before["case"]["examiner"] == "Examiner A"
    assert before["sources"][0]["label"] == LABEL and before["sources"][0]["listed"] is False

    done = cli(unseen_exe, "process", str(case_dir), "--workers", "2")
    assert "processed 6 items (0.1 MB) in run 1; 1 with errors" in said(done)
    # The command leaves without tearing its interpreter down: it closed the case
    # first, so the database's log was checkpointed and removed.
    assert sorted(p.name for p in case_dir.iterdir()) == ["case.db", "case.json", "logs", "thumbs"]

    status = status_json(unseen_exe, case_dir)
    assert spine_counts(status) == {**EXPECTED_COUNTS, "errors_by_stage": SPINE_ERRORS_BY_STAGE}
    assert status["bytes"] == sum(len(d) for d in files.values())
    assert status["sources"][0]["listed"] is True

    records = cli_export(unseen_exe, case_dir)
    out = tmp_path / "export.jsonl"
    cli(unseen_exe, "export", str(case_dir), "--format", "jsonl", "-o", str(out))
    assert [json.loads(line) for line in out.read_text().splitlines()] == records
    recs = by_path(records)
    for name, data in files.items():
        assert {k: recs[name][k] for k in ("size", "md5", "sha1", "sha256")} == digests(data)

    # The library API over the same evidence, in-process, makes the same case.
    lib = library_case(tmp_path / "lib", tmp_path / "evidence", workers=0)
    assert export(lib) == records
    assert thumbs(lib.root) == thumbs(case_dir) and len(thumbs(case_dir)) == 3
    with lib.engine.connect() as conn:
        lib_status = case_status(conn, lib.info)
    assert spine_counts(lib_status) == spine_counts(status)


def test_status_while_listed_but_not_processed(tmp_path: Path) -> None:
    small_evidence(tmp_path / "evidence")
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(tmp_path / "evidence"), LABEL, "Test Examiner")
    assert enumerate_sources(case) == 7
    assert enumerate_sources(case) == 0  # listed once
    with case.engine.connect() as conn:
        st = case_status(conn, case.info)
    # Links have no content: done at once, with their error; files wait.
    assert (st["files"], st["processed"], st["pending"], st["images"]) == (7, 1, 6, 0)
    assert (st["by_type"], st["items_with_errors"]) == ({}, 1)


def test_rerun_on_a_finished_case_changes_nothing(tmp_path: Path, unseen_exe: Path) -> None:
    small_evidence(tmp_path / "evidence")
    case = library_case(tmp_path / "case", tmp_path / "evidence", workers=0)
    first = export(case)
    done = cli(unseen_exe, "process", str(case.root), "--workers", "2")
    assert "processed 0 items (0.0 MB) in run 2; 0 with errors" in said(done)
    assert cli_export(unseen_exe, case.root) == first


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["status", "{tmp}/nowhere"], 2, "is not an unseen case"),
        (["add", "{case}", "{tmp}/missing"], 2, "does not exist"),
        (["add", "{case}", "{tmp}/file.txt"], 2, "not a kind of evidence unseen can read"),
        (["export", "{case}", "--format", "nope"], 2, "unknown export format 'nope'"),
        (["process", "{case}", "--skip", "nope"], 2, "no case stage named nope"),
        (["init", "{case}"], 2, "exists and is not empty"),
        (["init", "{tmp}/new", "--scheme", "nope"], 2, "unknown category scheme 'nope'"),
        (["init", "{tmp}/new", "--db", "sqlite:///{case}/case.db"], 2, "already holds a case"),
    ],
)
def test_user_errors_exit_2_with_a_message(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    case_dir = tmp_path / "case"
    Case.create(case_dir).close()
    write(tmp_path / "file.txt", b"x")
    argv = [a.format(tmp=tmp_path, case=case_dir) for a in args]
    done = CliRunner().invoke(app, argv)  # in-process: the same commands, no start-up
    assert done.exit_code == code
    assert message in " ".join(done.stderr.split())
    assert not (tmp_path / "new").exists()  # a refused init leaves no folder behind
