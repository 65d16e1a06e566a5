"""Run the real fast pass over files a test writes, and read back the export records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unseen.core.models import FileRecord, ItemTask, SourceSpec
from unseen.core.settings import Settings
from unseen.engine.pipeline import WorkerConfig, process_item
from unseen.engine.runner import process_case
from unseen.reports.records import iter_records
from unseen.store import repo
from unseen.store.case import Case


def process_files(
    root: Path, files: dict[str, bytes], settings: Settings | None = None
) -> dict[str, dict[str, Any]]:
    """Write ``files`` into a fresh evidence folder, process it in-process and return
    every export record keyed by path."""
    evidence = root / "evidence"
    for name, data in files.items():
        path = evidence / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    case = Case.create(root / "case", name="T", examiner="Test Examiner")
    try:
        repo.add_source(case, "folder", str(evidence), "EV01", "Test Examiner")
        process_case(case, workers=0, settings=settings)
        with case.engine.connect() as conn:
            return {r["path"]: r for r in iter_records(conn)}
    finally:
        case.close()


def item_errors(record: dict[str, Any], *analysers: str) -> list[str]:
    """The record's errors reported by the named analysers, in order."""
    return [e for e in record["errors"] if e.split(": ", 1)[0] in analysers]


def analyse(root: Path, name: str, data: bytes, settings: Settings | None = None) -> FileRecord:
    """One file through the fast pass's per-item function (what every worker runs),
    without a case: quicker where only the item's own facts matter."""
    folder = root / "evidence"
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    (root / "thumbs").mkdir(exist_ok=True)
    spec = SourceSpec(1, "folder", str(folder), "EV01")
    config = WorkerConfig(settings or Settings(), str(root / "thumbs"))
    return process_item(ItemTask(1, spec, name, name.encode(), len(data)), config)
