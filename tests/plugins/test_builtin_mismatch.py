"""The built-in extension-mismatch plugin, written only through the hooks: its export
key in its old place (right after ``mime``), its grid filter and its item panel."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, insert

from unseen.analysis import mismatch
from unseen.store import schema as s

from .conftest import item_ids, records, review


def test_export_key_in_its_place(unseen_exe: Path, plugin_case: Path) -> None:
    found = records(unseen_exe, plugin_case)
    assert {name: r["extension_mismatch"] for name, r in found.items()} == {
        "IMG_0001.JPG": False, "holiday-photo.png": False, "x.png": False,
        "renamed.jpg": True, "notes.txt": None,
    }  # fmt: skip
    keys = list(found["x.png"])
    assert keys[keys.index("mime") + 1] == "extension_mismatch"


def test_grid_filter_and_item_panel(plugin_case: Path) -> None:
    ids = item_ids(plugin_case)
    shown = review(
        plugin_case, [ids["renamed.jpg"], ids["x.png"]], ["mismatch=yes", "mismatch=no"]
    )
    assert shown["grid"] == {
        "mismatch=yes": [ids["renamed.jpg"]],
        "mismatch=no": sorted(ids[n] for n in ("IMG_0001.JPG", "holiday-photo.png", "x.png")),
    }
    assert '<label>named as another type\n    <select name="mismatch">' in shown["grid_form"]
    panel = (
        '<h2>Named as another type</h2>\n    <div class="panel"><p id="extension-mismatch">'
        'The name <span class="mono">renamed.jpg</span> hides what the content is: '
        "<b>image/png</b>.</p></div>"
    )
    assert panel in shown["items"][str(ids["renamed.jpg"])]
    assert "Named as another type" not in shown["items"][str(ids["x.png"])]


def test_the_panel_escapes_a_hostile_name() -> None:
    engine = create_engine("sqlite://")
    s.metadata.create_all(engine)
    with engine.begin() as conn:
        source = {"id": 1, "label": "EV01", "kind": "folder", "path": "/e", "added_by": "t",
                  "added_at": "2026"}  # fmt: skip
        conn.execute(insert(s.sources).values(source))
        item = {"id": 7, "source_id": 1, "path": "d/<img src=x>.jpg", "locator": b"",
                "kind": "file", "mime": "image/png", "extension_mismatch": True}  # fmt: skip
        conn.execute(insert(s.items).values(item))
        (panel,) = mismatch.item_panels(conn, 7)
        (field,) = mismatch.export_fields()
        assert field.values(conn, [7]) == {7: True}
    assert str(panel.html) == (
        '<p id="extension-mismatch">The name <span class="mono">&lt;img src=x&gt;.jpg</span> '
        "hides what the content is: <b>image/png</b>.</p>"
    )
