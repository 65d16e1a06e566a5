"""The intelligence library: promote reviewed material, list, remove, retention."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from unseen.core.schemes import load_scheme
from unseen.core.settings import Settings
from unseen.correlation.queries import top_leads
from unseen.engine.runner import process_case
from unseen.intel.store import IntelLibrary, NewEntry, retention_date
from unseen.review.decisions import categorise
from unseen.store import repo
from unseen.store.case import Case

from .cases import plain, recompressed, shot

QUICK = Settings(skip=("faces", "ocr", "scene", "sensor_noise"))


def make_case(root: Path, name: str, pictures: dict[str, tuple[int, int]]) -> Case:
    """A processed case of plain JPEGs: path -> (scene, JPEG quality)."""
    ev = root / f"ev-{name.replace('/', '-')}"
    for path, (scene, quality) in pictures.items():
        plain(ev / path, shot(scene, None), quality)
    case = Case.create(root / f"case-{name.replace('/', '-')}", name=name)
    repo.add_source(case, "folder", str(ev), "EV1", "tester")
    process_case(case, workers=0, settings=QUICK)
    return case


def ids(case: Case) -> dict[str, int]:
    with case.engine.connect() as conn:
        return {p: int(i) for i, p in conn.exec_driver_sql("SELECT id, path FROM items")}


def run(exe: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UNSEEN_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Case]:
    root = tmp_path_factory.mktemp("intel")
    a = make_case(root, "2025/117", {"a/one.jpg": (701, 90), "a/two.jpg": (702, 90)})
    found = ids(a)
    with a.engine.begin() as conn:
        categorise(conn, load_scheme("uk"), "rev1", [found["a/one.jpg"]], "A")
        categorise(conn, load_scheme("uk"), "rev2", [found["a/two.jpg"]], "NI")
    return root, a


def test_reviewed_material_is_promoted_listed_and_removed(
    cases: tuple[Path, Case], unseen_exe: Path
) -> None:
    root, a = cases
    home = root / "home-cli"
    out = run(unseen_exe, home, "intel", "promote", str(a.root), "--reviewed", "--name", "A rev")
    assert out.returncode == 0, out.stderr
    assert "promoted A rev (reviewed from case 2025/117: 2 hashes)" in out.stderr
    listed = json.loads(run(unseen_exe, home, "intel", "list", "--json").stdout)
    assert [(e["name"], e["kind"], e["case_ref"], e["reviewers"]) for e in listed] == [
        ("A rev", "reviewed", "2025/117", ["rev1", "rev2"])
    ]
    assert listed[0]["details"]["categories"] == {"A": 1, "NI": 1}
    with a.engine.connect() as conn:
        action, target, details = conn.exec_driver_sql(
            "SELECT action, target, details FROM audit_log ORDER BY id DESC LIMIT 1"
        ).one()
    assert (action, target) == ("intel_promote", "reviewed items")
    assert json.loads(details)["entry"] == "A rev"
    again = run(unseen_exe, home, "intel", "promote", str(a.root), "--reviewed", "--name", "A rev")
    assert again.returncode != 0 and "exists; choose another --name" in again.stderr
    gone = run(unseen_exe, home, "intel", "remove", "A rev")
    assert gone.returncode == 0, gone.stderr
    assert json.loads(run(unseen_exe, home, "intel", "list", "--json").stdout) == []
    with IntelLibrary.open(home) as library:
        assert [r["action"] for r in library.audit_log()] == ["promote", "remove"]
        assert library.counts(1) == {"hashes": 0, "scenes": 0, "devices": 0, "contacts": 0}


def test_a_bad_request_is_refused(cases: tuple[Path, Case], unseen_exe: Path) -> None:
    root, a = cases
    home = root / "home-bad"
    both = run(unseen_exe, home, "intel", "promote", str(a.root), "--reviewed", "--cluster", "1")
    assert both.returncode != 0 and "exactly one of --cluster ID or --reviewed" in both.stderr
    past = run(
        unseen_exe, home, "intel", "promote", str(a.root), "--reviewed", "--retain-until",
        "2001-01-01",
    )  # fmt: skip
    assert past.returncode != 0 and "retention date 2001-01-01 is in the past" in past.stderr
    nothing = run(unseen_exe, home, "intel", "promote", str(a.root), "--cluster", "99999")
    assert nothing.returncode != 0 and "no cluster 99999 in this case" in nothing.stderr


def test_expired_entries_are_deleted_with_an_audit_record(
    cases: tuple[Path, Case], unseen_exe: Path
) -> None:
    root, _ = cases
    home = root / "home-expiry"
    with IntelLibrary.open(home) as library:
        # Each write expires what is due first: "old", added last, outlives that.
        for name, until in (("current", retention_date(None)), ("old", "2020-01-01")):
            library.add(
                NewEntry(
                    name=name, kind="group", case_ref="2019/001", case_uuid="u",
                    reviewers=(), retain_until=until,
                    hashes=[{"ref": "item 1", "sha256": "ab" * 32}],
                )
            )  # fmt: skip
    out = run(unseen_exe, home, "intel", "list", "--json")
    assert "retention: old expired and was deleted" in out.stderr
    assert [e["name"] for e in json.loads(out.stdout)] == ["current"]
    with IntelLibrary.open(home) as library:
        log = library.audit_log()
        assert [(r["action"], r["name"], r["user"]) for r in log] == [
            ("promote", "current", log[0]["user"]),
            ("promote", "old", log[0]["user"]),
            ("expire", "old", "unseen (retention)"),
        ]
        assert log[2]["details"]["reason"] == "retention date 2020-01-01"
        with library.engine.connect() as conn:
            left = conn.exec_driver_sql("SELECT count(*) FROM intel_hashes").scalar()
    assert left == 1


def test_reviewed_material_is_seen_exactly_and_near_in_a_later_case(
    cases: tuple[Path, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, a = cases
    home = root / "home-seen"
    from unseen.intel.promote import promote_reviewed

    with IntelLibrary.open(home) as library:
        promote_reviewed(a, library, "A reviewed", retention_date(None))
    monkeypatch.setenv("UNSEEN_HOME", str(home))
    ev = root / "ev-b"
    (ev / "b").mkdir(parents=True)
    (ev / "b/copy.jpg").write_bytes((root / "ev-2025-117/a/one.jpg").read_bytes())
    plain(ev / "b/resaved.jpg", recompressed(shot(701, None)), 70)
    plain(ev / "b/new.jpg", shot(703, None))
    b = Case.create(root / "case-b", name="2026/004")
    repo.add_source(b, "folder", str(ev), "EV1", "tester")
    process_case(b, workers=0, settings=QUICK)
    with b.engine.connect() as conn:
        leads = {
            x["item"]: {r["signal"]: r for r in x["reasons"]} for x in top_leads(conn, "item")
        }
    exact = leads["b/copy.jpg"]["seen_exact"]
    assert exact["detail"] == (
        f"identical to item {ids(a)['a/one.jpg']} of reviewed material 'A reviewed' "
        "from case 2025/117, categorised A (uk) by rev1"
    )
    assert exact["weight"] == 6.0
    near = str(leads["b/resaved.jpg"]["seen_near"]["detail"])
    assert near.startswith("near-duplicate (PDQ distance ")
    assert near.endswith(
        f"of item {ids(a)['a/one.jpg']} of reviewed material 'A reviewed' from case "
        "2025/117, categorised A (uk) by rev1"
    )
    assert not {s for s in leads["b/new.jpg"] if s.startswith("seen_")}


def test_reviewed_videos_are_promoted_with_their_frame_hashes(cases: tuple[Path, Case]) -> None:
    from unseen.intel.promote import promote_reviewed

    root, a = cases
    one = ids(a)["a/one.jpg"]  # stands in for a video: frame rows are what count
    with a.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO video_frames (item_id, frame_index, timestamp, pdq, quality) "
            "VALUES (?, 0, 0.0, ?, 100), (?, 1, 1.0, ?, 90)",
            (one, "c" * 64, one, "d" * 64),
        )
    with IntelLibrary.open(root / "home-frames") as library:
        entry = promote_reviewed(a, library, "frames", retention_date(None))
        with library.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT ref, md5, pdq, category, reviewer FROM intel_hashes "
                "WHERE ref LIKE '%frame%' ORDER BY ref"
            ).all()
    assert entry.details["hashes"] == 4
    assert [tuple(r) for r in rows] == [
        (f"item {one} frame 0", None, "c" * 64, "A", "rev1"),
        (f"item {one} frame 1", None, "d" * 64, "A", "rev1"),
    ]
