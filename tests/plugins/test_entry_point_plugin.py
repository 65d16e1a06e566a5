"""A third-party plugin found only through its entry point adds a fact, an export
key, a grid filter, an item panel and a report section, without any other file of
unseen naming it (the case and the subprocesses: ``conftest.py``)."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from .conftest import FILES, item_ids, records, review, run


def test_the_entry_point_is_found_without_installing() -> None:
    probe = "from importlib.metadata import entry_points as e\n"
    probe += "print(sorted((x.name, x.value) for x in e(group='unseen.plugins')))"
    assert "('name_length', 'unseen_testplugin')" in run([sys.executable, "-c", probe])


def test_export_key(unseen_exe: Path, plugin_case: Path) -> None:
    found = records(unseen_exe, plugin_case)
    assert {name: r["name_length"] for name, r in found.items()} == FILES
    # Added at the end, after every key of the record and of the built-ins.
    assert all(list(r)[-2:] == ["place", "name_length"] for r in found.values())
    out = run([str(unseen_exe), "export", str(plugin_case), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["path"].rsplit("/", 1)[-1]: r["name_length"] for r in rows} == {
        name: str(length) for name, length in FILES.items()
    }


def test_grid_filter_and_item_panel(plugin_case: Path) -> None:
    ids = item_ids(plugin_case)
    queries = ["name_length=12", "name_length=17", "name_length=9", "name_length=twelve",
               "name_length=5&mismatch=no", "name_length=5&mismatch=yes",
               "bulk:name_length=17"]  # fmt: skip
    shown = review(plugin_case, [ids["IMG_0001.JPG"]], queries)
    assert shown["grid"] == {
        "name_length=12": [ids["IMG_0001.JPG"]],
        "name_length=17": [ids["holiday-photo.png"]],
        "name_length=9": [],  # notes.txt: the grid shows pictures and videos
        "name_length=twelve": [],
        "name_length=5&mismatch=no": [ids["x.png"]],  # combined with a built-in's
        "name_length=5&mismatch=yes": [],
    }
    # The grid's "apply to all matching" sends the plugin's filter like any other.
    assert shown["bulk"] == {
        "bulk:name_length=17": {
            "filter": {"name_length": "17"},
            "count": 1,
            "categorised": [ids["holiday-photo.png"]],
        }
    }
    form = '<label>name length is <input name="name_length" value="" size="12"></label>'
    assert form in shown["grid_form"]
    page = shown["items"][str(ids["IMG_0001.JPG"])]
    assert (
        '<h2>Name length</h2>\n    <div class="panel"><p id="name-length">12 characters</p>'
        in (page)
    )


def test_report_section(unseen_exe: Path, plugin_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "summary.html"
    run([str(unseen_exe), "report", str(plugin_case), "--kind", "summary", "-o", str(out)])
    html = out.read_text()
    expected = '<p id="name-lengths">5 files; the longest name has 17 characters.</p>'
    assert f"<h2>File names</h2>\n{expected}" in html
