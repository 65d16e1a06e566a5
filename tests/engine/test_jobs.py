"""The job model: one ledger, version bumps that re-run exactly what they touched,
per-item jobs of plugins run by the one driver, and kill -9 during every kind of job."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from internet.builders import chrome_history
from spine.evidence import encode, scene, write
from unseen import plugins
from unseen.analysis.image import ImageAnalyser
from unseen.core.settings import Settings
from unseen.engine.driver import ordered_jobs
from unseen.engine.runner import process_case
from unseen.phones.stage import LINKS_JOB
from unseen.reports.status import stale_jobs
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from . import jobplugin
from .jobplugin import NameLength

ROOT = Path(__file__).resolve().parents[1]  # tests/
# The slow deep analysers are switched off; sensor noise stays as the deep job.
QUICK = ("faces", "ocr", "scene")
PICTURES = ("a.png", "bb.png", "bad.png")


@pytest.fixture()
def registered() -> Iterator[None]:
    plugins.load()
    jobplugin.register()
    jobplugin.WORKED.clear()
    yield
    jobplugin.unregister()


def evidence(root: Path) -> Path:
    """Three pictures, a text file and a Chromium history."""
    for n, name in enumerate(PICTURES):
        write(root / name, encode(scene(160, 128, seed=n), "PNG"))
    write(root / "notes.txt", b"nothing to see\n")
    chrome_history(root / "Users/alex/AppData/Local/Google/Chrome/User Data/Default/History")
    return root


def make_case(root: Path, ev: Path) -> Case:
    case = Case.create(root)
    repo.add_source(case, "folder", str(ev), "EV1", "tester")
    return case


def by_name(case: Case) -> dict[str, int]:
    """File name -> item id (the names in the evidence are unique)."""
    with case.engine.connect() as conn:
        rows = conn.execute(select(s.items.c.id, s.items.c.path).where(s.items.c.kind == "file"))
        return {path.rsplit("/", 1)[-1]: i for i, path in rows}


def ids(case: Case, *names: str) -> list[int]:
    """The item ids of these file names, in id order."""
    return sorted(by_name(case)[name] for name in names)


def test_a_plugin_job_stores_rows_errors_and_ledger(tmp_path: Path, registered: None) -> None:
    case = make_case(tmp_path / "case", evidence(tmp_path / "ev"))
    summary = process_case(case, workers=0, settings=Settings(skip=QUICK))
    assert summary.stages["test_name_length"] == "5 items, 1 errors"
    with case.engine.connect() as conn:
        lengths: dict[int, int] = dict(
            conn.execute(text("SELECT item_id, length FROM test_name_lengths")).all()
        )
        errors = conn.execute(
            select(s.item_errors.c.item_id, s.item_errors.c.message).where(
                s.item_errors.c.analyser == "test_name_length"
            )
        ).all()
        ledger = conn.execute(
            select(s.job_done.c.item_id, s.job_done.c.version).where(
                s.job_done.c.job == "test_name_length"
            )
        ).all()
    names = {i: name for name, i in by_name(case).items()}
    assert {names[i]: n for i, n in lengths.items()} == {
        "a.png": 5,
        "bb.png": 6,
        "bad.png": 7,
        "notes.txt": 9,
        "History": 7,
    }
    assert errors == [(ids(case, "bad.png")[0], "names starting with 'bad' are refused")]
    assert sorted(ledger) == [(i, "1") for i in sorted(names)]
    case.close()


def test_version_bumps_rerun_exactly_what_they_touched(
    tmp_path: Path, registered: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = make_case(tmp_path / "case", evidence(tmp_path / "ev"))
    settings = Settings(skip=QUICK)
    process_case(case, workers=0, settings=settings)
    pictures = ids(case, *PICTURES)
    everything = ids(case, *PICTURES, "notes.txt", "History")

    # A fast-pass analyser: the pictures it looked at, and the jobs depending on it.
    monkeypatch.setattr(ImageAnalyser, "VERSION", "99")
    with case.engine.connect() as conn:
        assert stale_jobs(conn, settings) == {"image": 3}
    jobplugin.WORKED.clear()
    summary = process_case(case, workers=0, settings=settings)
    assert summary.processed == 3
    assert sorted(jobplugin.WORKED) == pictures
    with case.engine.connect() as conn:
        assert stale_jobs(conn, settings) == {}

    # The plugin job itself: all its items, and nothing of the fast pass.
    monkeypatch.setattr(NameLength, "VERSION", "2")
    jobplugin.WORKED.clear()
    summary = process_case(case, workers=0, settings=settings)
    assert (summary.processed, sorted(jobplugin.WORKED)) == (0, everything)

    # A result-changing setting: the thumbnails (pictures) and the plugin job (all).
    jobplugin.WORKED.clear()
    summary = process_case(case, workers=0, settings=Settings(skip=QUICK, thumbnail_size=128))
    assert (summary.processed, sorted(jobplugin.WORKED)) == (3, everything)

    # Nothing changed: nothing re-runs.
    jobplugin.WORKED.clear()
    summary = process_case(case, workers=0, settings=Settings(skip=QUICK, thumbnail_size=128))
    assert (summary.processed, jobplugin.WORKED) == (0, [])
    case.close()


KILLER = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from unseen import plugins
from unseen.core.settings import Settings
from unseen.engine.driver import ordered_jobs
from unseen.engine.runner import process_case
from unseen.store import done
from unseen.store.case import Case
from engine import jobplugin

plugins.load()
jobplugin.register()
real, calls = done.add, [0]

def add(conn, entries):  # every ledger write goes through it
    real(conn, entries)
    if any(job == {target!r} for job, _, _ in entries):
        calls[0] += 1
        if calls[0] == {nth}:  # inside the transaction that stores the batch
            os.kill(os.getpid(), signal.SIGKILL)

done.add = add
process_case(Case.open(Path({case!r})), workers=0, settings=Settings(skip={skip!r}, batch_size=2))
"""

DUMPED = {
    "items": "id, path, status, md5, sha256, mime, extension_mismatch",
    "images": "*",
    "exif": "*",
    "item_errors": "item_id, analyser, message",
    "job_done": "job, item_id, version",
    "artefacts": "item_id, parser, type, ts_utc, data",
    "artefact_coverage": "item_id, parser, parser_version, status, records, errors",
    "sensor_noise": "*",
    "test_name_lengths": "*",
    "clusters": "kind, key, label, confidence, size, details",
    "leads": "target_kind, target_id, score, rank, reasons",
}


def dump(case_dir: Path) -> dict[str, list[Any]]:
    case = Case.open(case_dir)
    with case.engine.connect() as conn:
        out = {
            table: sorted(
                json.dumps(list(row), default=repr)
                for row in conn.execute(text(f"SELECT {cols} FROM {table}"))
            )
            for table, cols in DUMPED.items()
        }
    case.close()
    return out


@pytest.mark.parametrize(
    ("target", "nth"),
    [
        ("image", 2),  # the fast pass, second batch
        ("chromium_history", 1),  # an artefact parser
        ("sensor_noise", 1),  # a deep analyser
        ("test_name_length", 1),  # a plugin's per-item job
        ("correlate", 1),  # a whole-case job
    ],
)
def test_kill_9_during_each_kind_of_job_then_rerun_equals_an_uninterrupted_run(
    tmp_path: Path, registered: None, target: str, nth: int
) -> None:
    ev = evidence(tmp_path / "ev")
    settings = Settings(skip=QUICK, batch_size=2)
    reference = make_case(tmp_path / "reference", ev)
    process_case(reference, workers=0, settings=settings)
    reference.close()
    make_case(tmp_path / "killed", ev).close()

    script = KILLER.format(
        root=str(ROOT), target=target, nth=nth, case=str(tmp_path / "killed"), skip=QUICK
    )
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=False)
    assert killed.returncode == -9  # it died where it was meant to, mid-transaction
    process_case(Case.open(tmp_path / "killed"), workers=0, settings=settings)

    assert dump(tmp_path / "killed") == dump(tmp_path / "reference")


def test_the_one_ledger_is_filled_from_the_three_it_replaces(tmp_path: Path) -> None:
    """A case made before the one ledger: the fast pass's analysers per item (versions
    from their run), the deep analysers' own table and the parsers' coverage rows."""
    plugins.load()
    case = make_case(tmp_path / "case", evidence(tmp_path / "ev"))
    process_case(case, workers=0, settings=Settings(skip=QUICK))
    # Whole-case entries (the stages', the phone links') are not filled: they run again.
    stages = {job.NAME for job in ordered_jobs()} | {LINKS_JOB}
    with case.engine.begin() as conn:
        entries = select(s.job_done.c.job, s.job_done.c.item_id, s.job_done.c.version)
        ledger = sorted(tuple(r) for r in conn.execute(entries))
        conn.execute(
            text(
                "CREATE TABLE deep_done (item_id INTEGER, analyser VARCHAR(64),"
                " version VARCHAR(16), PRIMARY KEY (item_id, analyser))"
            )
        )
        conn.execute(
            text(
                "INSERT INTO deep_done SELECT item_id, job, version FROM job_done"
                " WHERE job = 'sensor_noise'"
            )
        )
        conn.execute(text("DROP TABLE job_done"))
        # A case from before the phones tables: migration 12 runs before 14 makes them.
        conn.execute(text("DROP TABLE msg_coverage"))
        conn.execute(text("DELETE FROM schema_migrations WHERE version IN (12, 13, 14)"))
    case.close()

    case = Case.open(tmp_path / "case")
    with case.engine.connect() as conn:
        filled = sorted(tuple(r) for r in conn.execute(entries))
        tables = set(inspect(conn).get_table_names())
    case.close()
    assert filled == [row for row in ledger if row[0] not in stages]
    assert {"sensor_noise", "image", "chromium_history", "presence_rules"} <= {
        r[0] for r in filled
    }
    assert "deep_done" not in tables
