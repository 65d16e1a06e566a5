"""Internet-artefact parse errors are visible everywhere other problems are: ``unseen
status``, the item page, the grid's error filter, the exports and the summary report.
(Reading the report at the command line is audited too.)

The rows are written as the internet stage writes them (``artefact_errors``), one tied
to an item and one to no item.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from unseen.cli.main import app

from .helpers import item_ids, login

NOTES = "misc/notes.txt"
PROBLEM = "History: file is not a database"
runner = CliRunner()


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def add_parse_errors(case_dir: Path) -> int:
    notes = item_ids(case_dir)[NOTES]
    with sqlite3.connect(case_dir / "case.db") as db:
        db.execute(
            "INSERT INTO artefact_errors (item_id, parser, message) VALUES (?, 'chrome', ?)",
            (notes, PROBLEM),
        )
        db.execute(
            "INSERT INTO artefact_errors (item_id, parser, message) "
            "VALUES (NULL, 'firefox', 'profile folder unreadable')"
        )
    return notes


def test_status_counts_parse_errors(case_dir: Path) -> None:
    before = json.loads(cli("status", str(case_dir), "--json"))
    add_parse_errors(case_dir)
    after = json.loads(cli("status", str(case_dir), "--json"))
    assert after["items_with_errors"] == before["items_with_errors"] + 1
    stages = after["errors_by_stage"]
    assert (stages["internet:chrome"], stages["internet:firefox"]) == (1, 1)
    assert {k: v for k, v in stages.items() if not k.startswith("internet:")} == before[
        "errors_by_stage"
    ]
    assert "errors in internet:chrome" in " ".join(cli("status", str(case_dir)).split())


def test_item_page_and_error_filter_show_them(client: TestClient, case_dir: Path) -> None:
    notes = add_parse_errors(case_dir)
    login(client, "ron")
    page = client.get(f"/item/{notes}").text
    assert "internet:chrome" in page and PROBLEM in page
    assert f'data-id="{notes}"' in client.get("/grid?errors=yes").text
    assert f'data-id="{notes}"' not in client.get("/grid?errors=no").text


def test_exports_carry_them_per_item(case_dir: Path, tmp_path: Path) -> None:
    add_parse_errors(case_dir)
    out = tmp_path / "items.jsonl"
    cli("export", str(case_dir), "--format", "jsonl", "-o", str(out))
    records = {r["path"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert f"internet:chrome: {PROBLEM}" in records[NOTES]["errors"]
    sheet = tmp_path / "items.csv"
    cli("export", str(case_dir), "--format", "csv", "-o", str(sheet))
    rows = {r["path"]: r for r in csv.DictReader(io.StringIO(sheet.read_text()))}
    assert f"internet:chrome: {PROBLEM}" in json.loads(rows[NOTES]["errors"])


def test_summary_report_lists_them_and_reading_it_is_audited(
    case_dir: Path, tmp_path: Path
) -> None:
    add_parse_errors(case_dir)
    report = tmp_path / "summary.html"
    cli("report", str(case_dir), "--kind", "summary", "-o", str(report))
    html = report.read_text()
    assert "<tr><td>internet:chrome</td><td>1</td></tr>" in html
    assert "<tr><td>internet:firefox</td><td>1</td></tr>" in html
    with sqlite3.connect(case_dir / "case.db") as db:
        last = db.execute(
            "SELECT action, target, details FROM audit_log ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert last[:2] == ("report", "summary")
    assert json.loads(last[2]) == {"output": str(report)}
