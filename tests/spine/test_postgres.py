"""The same case in PostgreSQL: a fresh database per test on the server named by
UNSEEN_TEST_PG_URL (``bash scripts/with-postgres.sh`` starts a throwaway one)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

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


@pytest.fixture
def fresh_db() -> Iterator[Callable[[], str]]:
    """Makes fresh, empty databases on the test server; drops them afterwards."""
    assert SERVER
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"unseen_test_{uuid.uuid4().hex[:16]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(SERVER).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def mixed_evidence(root: Path) -> None:
    small_evidence(root)
    write(Path(os.fsdecode(os.fsencode(root) + b"/na\xefve.jpg")), jpeg(160, 120, 77))
    write(root / "claims_3e9_wide.tiff", tiff_bomb(3_000_000_000))  # width past a 32-bit integer


@pytest.mark.parametrize("workers", [0, 2])
def test_postgres_case_equals_sqlite_case(
    tmp_path: Path, unseen_exe: Path, fresh_db: Callable[[], str], workers: int
) -> None:
    evidence = tmp_path / "evidence"
    mixed_evidence(evidence)
    sqlite_case = library_case(tmp_path / "sqlite", evidence, workers=0)
    expected = export(sqlite_case)

    url = fresh_db()
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
def test_sizes_past_32_bits(tmp_path: Path, fresh_db: Callable[[], str], backend: str) -> None:
    """A 3 GiB (sparse) file lists with its true size in either database."""
    big = tmp_path / "evidence" / "disk.img"
    big.parent.mkdir()
    with big.open("wb") as out:
        out.truncate(3 * 1024**3)
    url = fresh_db() if backend == "postgresql" else None
    case = Case.create(tmp_path / "case", database_url=url)
    repo.add_source(case, "folder", str(big.parent), LABEL, "Test Examiner")
    assert enumerate_sources(case) == 1
    with case.engine.connect() as conn:
        assert conn.execute(select(s.items.c.size)).scalar_one() == 3 * 1024**3
    case.close()
