"""Schema versions: new cases start at head, reopening keeps them there, a case from a
newer tool is refused, and migrations missing from a case are applied on open."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, insert, inspect, select

from unseen.core.errors import CaseError
from unseen.store import migrations, schema
from unseen.store.case import Case

from .casework import cli


def stamped(case: Case) -> list[int]:
    with case.engine.connect() as conn:
        rows = conn.execute(select(schema.schema_migrations.c.version).order_by("version"))
        return list(rows.scalars())


ALL = sorted(m.version for m in migrations.MIGRATIONS)


def test_new_case_is_at_head_and_stays_there(tmp_path: Path) -> None:
    case = Case.create(tmp_path / "case")
    assert stamped(case) == ALL and ALL[-1] == migrations.HEAD
    with case.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == set(schema.metadata.tables)
    case.close()
    for _ in range(2):
        again = Case.open(tmp_path / "case")
        assert stamped(again) == ALL  # nothing applied twice
        assert again.info["uuid"] == case.info["uuid"]
        again.close()


def test_case_from_a_newer_tool_is_refused(tmp_path: Path, unseen_exe: Path) -> None:
    case = Case.create(tmp_path / "case")
    newer = migrations.HEAD + 1
    with case.engine.begin() as conn:
        conn.execute(
            insert(schema.schema_migrations).values(
                version=newer, name="from the future", applied_at="2099-01-01T00:00:00Z"
            )
        )
    case.close()
    message = (
        f"the case database has schema version {newer}, newer than this tool's {migrations.HEAD}"
    )
    with pytest.raises(CaseError, match=message):
        Case.open(tmp_path / "case")
    done = cli(unseen_exe, "status", str(tmp_path / "case"), check=False)
    assert done.returncode == CaseError.exit_code == 2
    assert message in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_missing_migrations_are_applied_on_open(tmp_path: Path) -> None:
    """Migrations landing out of order (parallel branches) must still be applied, and
    each must be safe on a database that already has its tables."""
    case = Case.create(tmp_path / "case")
    with case.engine.begin() as conn:
        conn.execute(
            delete(schema.schema_migrations).where(schema.schema_migrations.c.version > 1)
        )
    case.close()
    reopened = Case.open(tmp_path / "case")
    assert stamped(reopened) == ALL
    reopened.close()


def test_open_refuses_a_folder_that_is_not_a_case(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="is not an unseen case"):
        Case.open(tmp_path)
