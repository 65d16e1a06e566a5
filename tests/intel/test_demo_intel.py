"""The demo's library holds a series from an earlier case that the demo laptop meets."""

from __future__ import annotations

from pathlib import Path

import pytest

from unseen.correlation.queries import top_leads
from unseen.demo.intel import EARLIER_CASE, SERIES_NAME, write_demo_intel
from unseen.demo.synth import render_scene
from unseen.engine.runner import process_case
from unseen.intel.store import IntelLibrary
from unseen.store import repo
from unseen.store.case import Case

from .cases import FAST

pytest.importorskip("onnxruntime", reason="needs the scene extra (make test installs it)")
pytest.importorskip("cv2", reason="needs the scene extra (make test installs it)")


def test_the_kitchen_series_is_seen_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "library"
    monkeypatch.setenv("UNSEEN_HOME", str(home))
    said = write_demo_intel(tmp_path, home)
    assert (
        said == f"intelligence library: series {SERIES_NAME!r} promoted from case {EARLIER_CASE}"
    )
    with IntelLibrary.open(home) as library:
        (entry,) = library.entries()
    assert (entry.kind, entry.case_ref, entry.details["scenes"]) == ("series", EARLIER_CASE, 3)
    # Two shots as the demo laptop has them (photos.SERIES, kitchen: scene 102), and
    # the lake house (scene 101), which must not be taken for the kitchen.
    ev = tmp_path / "laptop"
    ev.mkdir()
    render_scene(102, (1024, 768), 0, 1.0).save(ev / "kitchen_01.jpg", "JPEG", quality=90)
    render_scene(102, (800, 600), 4, 1.0).save(ev / "kitchen_05_edit.jpg", "JPEG", quality=85)
    render_scene(101, (1024, 768), 0, 1.0).save(ev / "lake_house_01.jpg", "JPEG", quality=90)
    case = Case.create(tmp_path / "demo-case", name="DEMO-001")
    repo.add_source(case, "folder", str(ev), "EV01-laptop", "tester")
    process_case(case, workers=0, settings=FAST)
    with case.engine.connect() as conn:
        leads = {x["item"]: {r["signal"]: r for r in x["reasons"]} for x in top_leads(conn)}
    named = (
        f"series {SERIES_NAME!r} from case {EARLIER_CASE}; identified victim, record DEMO-VID-0001"
    )
    for kitchen in ("kitchen_01.jpg", "kitchen_05_edit.jpg"):
        # The same room, or (close enough for PDQ) a near copy of one of its pictures:
        # one reason either way, never both for one entry.
        seen = {k: str(v["detail"]) for k, v in leads[kitchen].items() if k.startswith("seen_")}
        assert len(seen) == 1 and set(seen) <= {"seen_series", "seen_near"}, seen
        assert named in next(iter(seen.values()))
    assert not {k for k in leads["lake_house_01.jpg"] if k.startswith("seen_")}
