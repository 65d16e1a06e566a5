"""The same case in PostgreSQL: a fresh database per test on the server named by
UNSEEN_TEST_PG_URL (``bash scripts/with-postgres.sh`` starts a throwaway one)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from unseen.engine.runner import enumerate_sources
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .casework import LABEL, cli, cli_export, export, library_case, thumbs
from .evidence import jpeg, small_evidence, tiff_bomb, write

SERVER = os.environ.get("UNSEEN_TEST_PG_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not SERVER,
        reason="UNSEEN_TEST_PG_URL is not set; run under `bash scripts/with-postgres.sh`",
    ),
]


def mixed_evidence(root: Path) -> None:
    small_evidence(root)
    write(Path(os.fsdecode(os.fsencode(root) + b"/na\xefve.jpg")), jpeg(160, 120, 77))
    write(root / "claims_3e9_wide.tiff", tiff_bomb(3_000_000_000))  # width past a 32-bit integer


@pytest.mark.parametrize("workers", [0, 2])
def test_postgres_case_equals_sqlite_case(
    tmp_path: Path, unseen_exe: Path, pg_database: Callable[[], str], workers: int
) -> None:
    evidence = tmp_path / "evidence"
    mixed_evidence(evidence)
    sqlite_case = library_case(tmp_path / "sqlite", evidence, workers=0)
    expected = export(sqlite_case)

    url = pg_database()
    case_dir = tmp_path / "pg"
    cli(unseen_exe, "init", str(case_dir), "--db", url)
    assert not (case_dir / "case.db").exists()
    assert json.loads((case_dir / "case.json").read_text())["database_url"] == url
    cli(unseen_exe, "add", str(case_dir), str(evidence), "--label", LABEL)
    cli(unseen_exe, "process", str(case_dir), "--workers", str(workers))

    assert cli_export(unseen_exe, case_dir) == expected
    assert thumbs(case_dir) == thumbs(sqlite_case.root)
    status = json.loads(cli(unseen_exe, "status", str(case_dir), "--json").stdout)
    assert (status["files"], status["processed"], status["pending"]) == (9, 9, 0)
    assert status["items_with_errors"] == 4  # truncated, link, undecodable name, bomb


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sizes_past_32_bits(tmp_path: Path, pg_database: Callable[[], str], backend: str) -> None:
    """A 3 GiB (sparse) file lists with its true size in either database."""
    big = tmp_path / "evidence" / "disk.img"
    big.parent.mkdir()
    with big.open("wb") as out:
        out.truncate(3 * 1024**3)
    url = pg_database() if backend == "postgresql" else None
    case = Case.create(tmp_path / "case", database_url=url)
    repo.add_source(case, "folder", str(big.parent), LABEL, "Test Examiner")
    assert enumerate_sources(case) == 1
    with case.engine.connect() as conn:
        assert conn.execute(select(s.items.c.size)).scalar_one() == 3 * 1024**3
    case.close()
