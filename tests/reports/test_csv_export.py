"""CSV export: one row per item, the JSONL record flattened, spreadsheet-safe cells."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from unseen.core.errors import UserError
from unseen.engine.runner import process_case
from unseen.reports.csv_export import CsvExporter, cell, columns, flatten
from unseen.reports.records import iter_records
from unseen.store import repo
from unseen.store.case import Case


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    tmp_path = tmp_path_factory.mktemp("csv")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    pixels = np.random.default_rng(5).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(evidence / "photo.png")
    (evidence / "=HYPERLINK(x).txt").write_text("a name that is a formula\n")
    (evidence / "-12.5").write_text("a name that is a number\n")
    (evidence / 'quote",comma.txt').write_text("x\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UNSEEN_HOME", str(tmp_path / "no-library"))
        made = Case.create(tmp_path / "case", name="CSV", examiner="Examiner")
        repo.add_source(made, "folder", str(evidence), "EV01", "Examiner")
        process_case(made, workers=0)
        yield made


def exported(case: Case, **options: str) -> list[list[str]]:
    out = io.StringIO()
    count = CsvExporter().export(case, out, "items", options)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert count == len(rows) - 1
    return rows


def records(case: Case) -> list[dict[str, Any]]:
    with case.engine.connect() as conn:
        return list(iter_records(conn))


def test_one_row_per_item_with_the_record_flattened(case: Case) -> None:
    rows = exported(case)
    expected = records(case)
    header, body = rows[0], rows[1:]
    assert header == columns(expected[0])
    assert len(body) == len(expected) == 4
    assert "exif.make" in header and "md5" in header and "errors" in header
    for row, record in zip(body, expected, strict=True):
        flat = flatten(record)
        assert row == [cell(flat.get(name)) for name in header]
    by_path = {row[header.index("path")]: dict(zip(header, row, strict=True)) for row in body}
    photo = by_path["photo.png"]
    assert (photo["mime"], photo["width"], photo["height"]) == ("image/png", "40", "40")
    assert photo["errors"] == "[]"
    assert photo["deleted"] == "false"
    assert by_path['quote",comma.txt']["kind"] == "file"  # quoted, not split


def test_formula_cells_are_defused(case: Case) -> None:
    rows = exported(case)
    paths = [row[rows[0].index("path")] for row in rows[1:]]
    assert "'=HYPERLINK(x).txt" in paths
    assert "-12.5" in paths  # a number stays a number
    raw = exported(case, excel_safe="false")
    assert "=HYPERLINK(x).txt" in [row[raw[0].index("path")] for row in raw[1:]]


def test_cells() -> None:
    assert [cell(None), cell(True), cell(False), cell(3), cell(1.5)] == [
        "",
        "true",
        "false",
        "3",
        "1.5",
    ]
    assert cell(["a", "b"]) == '["a", "b"]'
    assert cell({"b": 1, "a": [2]}) == '{"a": [2], "b": 1}'
    assert [cell("+1"), cell("@x"), cell("\tx"), cell("+x")] == ["+1", "'@x", "'\tx", "'+x"]
    assert columns({"a": 1, "exif": None, "m": []})[:3] == ["a", "exif.make", "exif.model"]
    assert flatten({"a": {"b": 1}, "c": [json.dumps(1)]}) == {"a.b": 1, "c": ["1"]}


def test_options_and_cli(case: Case, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no option 'profile'"):
        exported(case, profile="uk")
    out = tmp_path / "items.csv"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("unseen")), "export", str(case.root),
         "--format", "csv", "-o", str(out)],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "exported 4 records" in done.stderr
    assert list(csv.reader(out.open())) == exported(case)
