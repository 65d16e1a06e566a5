"""Helpers that drive a case the way a user does: through the library or the CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import select

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.reports.records import iter_records
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

LABEL = "EV01"


def library_case(
    root: Path,
    evidence: Path,
    workers: int = 0,
    database_url: str | None = None,
    settings: Settings | None = None,
) -> Case:
    """Create a case over ``evidence`` and process it with the library API."""
    case = Case.create(root, name="LIB", examiner="Test Examiner", database_url=database_url)
    repo.add_source(case, "folder", str(evidence), LABEL, "Test Examiner")
    process_case(case, workers=workers, settings=settings)
    return case


def export(case: Case) -> list[dict[str, Any]]:
    """Every export record of the case, in listing order."""
    with case.engine.connect() as conn:
        return list(iter_records(conn))


def by_path(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Records keyed by path (paths are unique within one source)."""
    keyed = {r["path"]: r for r in records}
    assert len(keyed) == len(records), "duplicate paths in the export"
    return keyed


# Who reports errors in the fast pass: the listing, the reading, the engine and the
# spine's analysers. Later stages (matching, deep analysis...) add their own; those
# belong to their own tests.
SPINE = ("listing", "read", "engine", "filetype", "hashes", "image", "exif", "thumbnail")


def spine_errors(record: dict[str, Any]) -> list[str]:
    """The record's errors reported by the spine, in order."""
    return [e for e in record["errors"] if e.split(": ", 1)[0] in SPINE]


def dihedral(case: Case, path: str) -> list[str]:
    """The eight stored dihedral PDQ hashes of one item (not part of the export)."""
    query = (
        select(s.images.c.pdq_dihedral)
        .select_from(s.images.join(s.items, s.items.c.id == s.images.c.item_id))
        .where(s.items.c.path == path)
    )
    with case.engine.connect() as conn:
        joined = conn.execute(query).scalar_one()
    return str(joined).split(",")


def cli(exe: Path, *args: str, check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run the real ``unseen`` program; fail with its output when it fails."""
    done = subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=120, env=os.environ, **kw
    )
    if check and done.returncode != 0:
        raise AssertionError(f"unseen {' '.join(args)} -> {done.returncode}\n{done.stderr}")
    return done


def cli_export(exe: Path, case_dir: Path, **kw: Any) -> list[dict[str, Any]]:
    """``unseen export --format jsonl`` to stdout, parsed."""
    out = cli(exe, "export", str(case_dir), "--format", "jsonl", **kw).stdout
    return [json.loads(line) for line in out.splitlines()]


def thumbs(case_dir: Path) -> dict[str, bytes]:
    """Every file under the case's thumbs folder, by relative path."""
    root = case_dir / "thumbs"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
