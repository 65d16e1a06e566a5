"""The supervisors' overview report: counts, leads worked and left, each reviewer's
decisions, reveals and time, from what reviewers did through the real server; and no
file name of the evidence anywhere in it."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from unseen import plugins
from unseen.reports.overview import overview_data
from unseen.store.case import Case

from .helpers import item_ids, login, make_client

IMG = "DCIM/100TEST/IMG_000{}.JPG"


def post(client: Any, csrf: str, path: str, body: dict[str, Any]) -> Any:
    done = client.post(path, json=body, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200, done.text
    return done


def test_the_overview_counts_what_reviewers_did(case_dir: Path, unseen_exe: Path) -> None:
    ids = item_ids(case_dir)
    with sqlite3.connect(case_dir / "case.db") as db:
        ranked = [r[0] for r in db.execute("SELECT target_id FROM leads WHERE target_kind='item'")]
    unlooked = [i for i in ranked if i not in (ids[IMG.format(1)], ids[IMG.format(2)])]
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        post(client, csrf, "/api/categorise", {"items": [ids[IMG.format(1)]], "code": "A"})
        post(client, csrf, "/api/categorise", {"items": [ids[IMG.format(2)]], "code": "B"})
        post(client, csrf, "/api/categorise", {"items": [ids[IMG.format(2)]], "code": "C"})
        post(client, csrf, "/api/leads/looked", {"kind": "item", "target": unlooked[0]})
        for ms in (30_000, 60_000):
            body = {"item": ids[IMG.format(3)], "kind": "thumb", "ms": ms}
            post(client, csrf, "/api/exposure", body)
    with sqlite3.connect(case_dir / "case.db") as db:
        ranked = [r[0] for r in db.execute("SELECT target_id FROM leads WHERE target_kind='item'")]
        groups = db.execute("SELECT count(*) FROM leads WHERE target_kind='cluster'").fetchone()[0]
    plugins.load()
    case = Case.open(case_dir)
    data = overview_data(case)
    case.close()
    people = {r["user"]: r for r in data["reviewers"]}
    assert sorted(people) == ["rob"]
    rob = people["rob"]
    assert (rob["decisions"], rob["in_force"], rob["reveals"], rob["exposure_min"]) == (
        3,
        2,
        2,
        1.5,
    )
    decided = {ids[IMG.format(1)], ids[IMG.format(2)]} & set(ranked)
    pictures, clusters = data["leads"]
    assert len(decided) == 2
    assert (pictures["total"], pictures["worked"]) == (len(ranked), 3)  # 2 decided, 1 looked
    assert pictures["left"] == len(ranked) - 3
    assert (clusters["total"], clusters["worked"]) == (groups, 0)
    reviewed = {r["code"]: r["reviewer"] for r in data["overall"]}
    assert (reviewed["A"], reviewed["C"], reviewed["B"]) == (1, 1, 0)
    assert [d["n"] for d in data["days"]] == [3]

    out = case_dir.parent / "overview.html"
    done = subprocess.run(
        [str(unseen_exe), "report", str(case_dir), "--kind", "overview", "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert '<h2 id="reviewers">Reviewers</h2>' in html and "<td>rob</td>" in html
    assert not [p for p in ids if p.rsplit("/", 1)[-1] in html]  # no evidence name
    assert "<img" not in html and "<script" not in html
