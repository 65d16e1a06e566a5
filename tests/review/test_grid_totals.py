"""The grid's count of matching items is counted once per filter while the case is
unchanged, and again after any write to the case."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from unseen.core.settings import Settings
from unseen.engine.driver import ordered_jobs
from unseen.engine.runner import process_case
from unseen.review.grid import Totals, case_version
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case


def test_a_filter_is_counted_again_only_after_the_case_changed(tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    for n in range(3):
        (ev / f"note{n}.txt").write_text(f"note {n}\n")
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "test")
    process_case(case, workers=0, settings=Settings(skip=tuple(j.NAME for j in ordered_jobs())))
    totals, counted = Totals(), []

    def count() -> int:
        counted.append(1)
        return 3

    key = (("mime", "text/plain"),)
    with case.engine.connect() as conn:
        assert [totals.get(conn, key, count) for _ in range(3)] == [3, 3, 3]
        assert len(counted) == 1
        assert totals.get(conn, (("mime", "image/png"),), count) == 3
        assert len(counted) == 2  # another filter, counted on its own
        before = case_version(conn)
    with case.engine.begin() as conn:
        conn.execute(update(s.items).where(s.items.c.id == 1).values(mime="text/x-changed"))
    with case.engine.connect() as conn:
        assert case_version(conn) != before
        assert totals.get(conn, key, count) == 3
    assert len(counted) == 3  # the case changed: counted again
    case.close()
