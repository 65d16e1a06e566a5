"""VICS 2.0 case export: shape, profile mapping, and a round trip through the library."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import delete, insert, select

from unseen.core.errors import UserError
from unseen.engine.runner import process_case
from unseen.matching.library import Library
from unseen.matching.library_schema import entries
from unseen.reports.vics import VicsExporter, case_categories
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{}/$metadata#Cases"


def noise_png(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 48, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    """Five files: a.png twice (one copy in sub/), b.png, sub/c.png and a text file.

    Shared by the tests of this module; each sets the auto_categories it needs.
    """
    tmp_path = tmp_path_factory.mktemp("vics")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UNSEEN_HOME", str(tmp_path / "no-library"))  # matching skips
        yield _build_case(tmp_path)


def _build_case(tmp_path: Path) -> Case:
    evidence = tmp_path / "evidence"
    noise_png(evidence / "a.png", 1)
    noise_png(evidence / "b.png", 2)
    noise_png(evidence / "sub" / "c.png", 3)
    (evidence / "sub" / "a-copy.png").write_bytes((evidence / "a.png").read_bytes())
    (evidence / "notes.txt").write_text("benign text\n")
    made = Case.create(tmp_path / "case", name="OP-[7]", examiner="Examiner", scheme="uk")
    repo.add_source(made, "folder", str(evidence), "EV01", "Examiner")
    process_case(made, workers=0)
    return made


def item_ids(case: Case) -> dict[str, int]:
    with case.engine.connect() as conn:
        return {p: i for i, p in conn.execute(select(s.items.c.id, s.items.c.path))}


def item_md5s(case: Case) -> dict[str, str]:
    with case.engine.connect() as conn:
        return {p: m for p, m in conn.execute(select(s.items.c.path, s.items.c.md5))}


def categorise(case: Case, categories: dict[str, str | None]) -> None:
    """Write auto_categories rows as the matching stage would."""
    ids = item_ids(case)
    rows = [
        {"item_id": ids[path], "category": code, "reason": "test", "source": "hashset:t v1",
         "conflict": code is None, "known_good": False, "decided_at": "2026-01-01T00:00:00Z"}
        for path, code in categories.items()
    ]  # fmt: skip
    with case.engine.begin() as conn:
        conn.execute(delete(s.auto_categories))
        conn.execute(insert(s.auto_categories), rows)


def export(case: Case, **options: str) -> dict[str, Any]:
    out = io.StringIO()
    count = VicsExporter().export(case, out, "items", options)
    doc = json.loads(out.getvalue())
    assert count == len(doc["value"][0]["Media"])
    return dict(doc)


def test_case_shape_and_uk_profile(case: Case) -> None:
    categorise(case, {"a.png": "A", "sub/a-copy.png": "A", "b.png": "NI", "sub/c.png": None})
    doc = export(case, profile="uk")
    assert doc["@odata.context"] == CONTEXT.format("UK")
    (exported,) = doc["value"]
    assert exported["CaseID"] == "{" + case.info["uuid"] + "}"
    assert exported["CaseNumber"] == "OP-[7]"
    assert exported["SourceApplicationName"] == "unseen"
    md5s = item_md5s(case)
    media = {m["MD5"]: m for m in exported["Media"]}
    # One Media per distinct MD5 of the pictures; the text file is not media.
    assert sorted(media) == sorted({md5s["a.png"], md5s["b.png"], md5s["sub/c.png"]})
    assert sorted(m["MediaID"] for m in media.values()) == [1, 2, 3]
    a = media[md5s["a.png"]]
    assert (a["Category"], a["IsPrecategorized"], a["MimeType"]) == (1, "true", "image/png")
    assert [(f["FileName"], f["FilePath"], f["SourceID"]) for f in a["MediaFiles"]] == [
        ("a.png", "a.png", "EV01"),
        ("a-copy.png", "sub/a-copy.png", "EV01"),
    ]
    assert all(f["MD5"] == md5s["a.png"] and f["Written"].endswith("Z") for f in a["MediaFiles"])
    assert media[md5s["b.png"]]["Category"] == 4
    assert "Category" not in media[md5s["sub/c.png"]]  # a conflict stays uncategorised
    assert "IsPrecategorized" not in media[md5s["sub/c.png"]]


def test_profile_mapping_leaves_unmappable_out(case: Case) -> None:
    categorise(case, {"a.png": "A", "sub/a-copy.png": "A", "b.png": "NI", "sub/c.png": "U"})
    doc = export(case, profile="US")
    assert doc["@odata.context"] == CONTEXT.format("US")
    md5s = item_md5s(case)
    media = {m["MD5"]: m for m in doc["value"][0]["Media"]}
    assert media[md5s["a.png"]]["Category"] == 1  # A -> CAT-1
    assert media[md5s["sub/c.png"]]["Category"] == 0  # U -> CAT-0
    b = media[md5s["b.png"]]
    assert "Category" not in b
    assert b["Comments"] == "unseen: category NI (uk) has no US equivalent"


def test_instances_graded_differently_are_not_merged(case: Case) -> None:
    categorise(case, {"a.png": "A", "sub/a-copy.png": "B"})
    media = export(case)["value"][0]["Media"]  # profile derived from the case scheme
    (a,) = [m for m in media if len(m["MediaFiles"]) == 2]
    assert "Category" not in a
    assert a["Comments"] == "unseen: instances categorised differently (A, B); category left out"


def test_options_are_checked(case: Case) -> None:
    with pytest.raises(UserError, match="unknown VICS profile 'ca'"):
        export(case, profile="ca")
    with pytest.raises(UserError, match="no option 'colour'"):
        export(case, colour="red")


def test_export_reimported_gives_back_the_categories(case: Case, tmp_path: Path) -> None:
    graded = {"a.png": "A", "sub/a-copy.png": "A", "b.png": "NI", "sub/c.png": "C"}
    categorise(case, graded)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export(case, profile="uk")))
    library = Library.open(tmp_path / "library")
    result = library.import_file(path, "roundtrip")
    assert (result.info.profile, result.info.scheme, result.rejected) == ("UK", "uk", 0)
    with library.engine.connect() as conn:
        back = {m: c for m, c in conn.execute(select(entries.c.md5, entries.c.category))}
    md5s, ids = item_md5s(case), item_ids(case)
    with case.engine.connect() as conn:
        expected = {ids[p]: ("uk", code, "hashset:t v1") for p, code in graded.items()}
        assert case_categories(conn) == expected
    assert back == {md5s[p]: code for p, code in graded.items()}


def test_full_round_trip_through_matching(case: Case, tmp_path: Path) -> None:
    """A hash set grades the case; its VICS export re-imported grades the same files."""
    md5s = item_md5s(case)
    source = tmp_path / "set.json"
    ctx = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata#Media"
    records = [{"MediaID": 1, "MD5": md5s["a.png"], "Category": 2},
               {"MediaID": 2, "MD5": md5s["sub/c.png"], "Category": 3}]  # fmt: skip
    source.write_text(json.dumps({"@odata.context": ctx, "value": records}))
    home = tmp_path / "home"
    Library.open(home).import_file(source, "graded")
    done = subprocess.run(
        [str(Path(os.sys.executable).with_name("unseen")), "match", str(case.root)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "UNSEEN_HOME": str(home)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = tmp_path / "case.vics.json"
    done = subprocess.run(
        [str(Path(os.sys.executable).with_name("unseen")), "export", str(case.root),
         "--format", "vics", "--profile", "uk", "-o", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    again = Library.open(tmp_path / "again").import_file(out, "again")
    with Library.open(tmp_path / "again").engine.connect() as conn:
        back = {m: c for m, c in conn.execute(select(entries.c.md5, entries.c.category))}
    assert again.info.profile == "UK"
    assert {m: c for m, c in back.items() if c} == {md5s["a.png"]: "B", md5s["sub/c.png"]: "C"}
