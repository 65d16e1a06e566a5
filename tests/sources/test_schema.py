"""Migration 2: cases made before deleted/carved items, fingerprints and videos."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, inspect, select

from unseen.store import schema as s
from unseen.store.case import Case


def test_cases_made_before_these_columns_are_migrated(tmp_path: Path) -> None:
    case = Case.create(tmp_path / "old", name="OLD")
    with case.engine.begin() as conn:  # back to a case made before migration 2
        for column in ("deleted", "carved", '"offset"'):
            conn.exec_driver_sql(f"ALTER TABLE items DROP COLUMN {column}")
        for column in ("fingerprint", "acquisition"):
            conn.exec_driver_sql(f"ALTER TABLE sources DROP COLUMN {column}")
        conn.exec_driver_sql("DROP TABLE video_frames")
        conn.exec_driver_sql("DROP TABLE videos")
        conn.execute(delete(s.schema_migrations).where(s.schema_migrations.c.version == 2))
    case.close()
    reopened = Case.open(tmp_path / "old")
    with reopened.engine.connect() as conn:
        found = inspect(conn)
        assert {"deleted", "carved", "offset"} <= {c["name"] for c in found.get_columns("items")}
        assert {"fingerprint", "acquisition"} <= {c["name"] for c in found.get_columns("sources")}
        assert found.has_table("videos") and found.has_table("video_frames")
        versions = set(conn.execute(select(s.schema_migrations.c.version)).scalars())
    assert 2 in versions


def test_a_case_made_before_migration_11_opens_and_exports_its_records(
    tmp_path: Path,
) -> None:
    from unseen.reports.records import iter_records
    from unseen.store import repo

    case = Case.create(tmp_path / "old", name="OLD")
    spec = repo.add_source(case, "folder", str(tmp_path), "ev", "T")
    with case.engine.begin() as conn:
        conn.execute(
            s.items.insert().values(
                source_id=spec.id, path="a.jpg", locator=b"a.jpg", kind="file", status="done"
            )
        )
        for column in ("volume", "snapshot"):
            conn.exec_driver_sql(f"ALTER TABLE items DROP COLUMN {column}")
        for column in ("expanded_bytes", "expanded_items", "volume_keys"):
            conn.exec_driver_sql(f"ALTER TABLE sources DROP COLUMN {column}")
        conn.execute(delete(s.schema_migrations).where(s.schema_migrations.c.version == 11))
    case.close()
    reopened = Case.open(tmp_path / "old")
    with reopened.engine.connect() as conn:
        (record,) = iter_records(conn)
        assert repo.source_specs(conn)[0].keys == ()
    assert (record["path"], record["deleted"], record["carved"], record["offset"]) == (
        "a.jpg",
        False,
        False,
        None,
    )
    assert (record["volume"], record["snapshot"], record["container"]) == (None, None, [])
