"""Leads learn from what is known: association with hash-set material and with every
reviewer decision, on the generated case the ranking was found wanting on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from unseen.cli.main import app
from unseen.core.schemes import load_scheme
from unseen.core.settings import Settings
from unseen.correlation import ledger
from unseen.correlation.queries import top_leads
from unseen.demo import scenarios
from unseen.engine.runner import process_case
from unseen.review import decisions
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

ROOM_CAMERA = "NIKON CORPORATION NIKON D5600 serial 999"
SKIP = Settings(skip=("deep", "internet"))


@dataclass
class Ranked:
    case: Case
    scenario: scenarios.Scenario
    home: Path

    def ids(self) -> dict[str, int]:
        with self.case.engine.connect() as conn:
            return {p: int(i) for i, p in conn.execute(select(s.items.c.id, s.items.c.path))}

    def order(self) -> list[str]:
        """Undecided item leads, best first, as relative paths."""
        with self.case.engine.connect() as conn:
            return [r["item"] for r in top_leads(conn, "item", 10_000)]

    def reasons(self, rel: str) -> list[dict[str, object]]:
        with self.case.engine.connect() as conn:
            raw = conn.execute(
                select(s.leads.c.reasons).where(
                    s.leads.c.target_kind == "item", s.leads.c.target_id == self.ids()[rel]
                )
            ).scalar_one()
        found: list[dict[str, object]] = json.loads(raw)
        return found

    def leads(self) -> list[tuple[str, int, float, int, str]]:
        with self.case.engine.connect() as conn:
            found: list[tuple[str, int, float, int, str]] = []
            for kind in ("cluster", "item"):  # the order computed as every reader does
                lead = s.leads
                rows = conn.execute(
                    select(lead.c.target_id, lead.c.score, lead.c.reasons)
                    .where(lead.c.target_kind == kind)
                    .order_by(*ledger.order(kind))
                )
                found += [(kind, t, sc, n, rs) for n, (t, sc, rs) in enumerate(rows, 1)]
            return found


@pytest.fixture(scope="module")
def ranked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ranked]:
    root = tmp_path_factory.mktemp("association")
    sc = scenarios.build_with_library(root)
    home = root / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UNSEEN_HOME", str(home))
        case = Case.create(root / "case")
        repo.add_source(case, "folder", str(root / "ev"), "EV1", "test")
        process_case(case, workers=0, settings=SKIP)
        yield Ranked(case, sc, home)
    case.close()


def test_unknown_pictures_of_the_known_camera_rank_above_every_holiday_picture(
    ranked: Ranked,
) -> None:
    order = ranked.order()
    associated = ranked.scenario.of_role("associated")
    holiday = ranked.scenario.of_role("holiday")
    assert len(associated) == 16 and len(holiday) == 120
    assert len(order) == 16 + 120 + 60  # the known pictures are no leads
    worst_associated = max(order.index(p) for p in associated)
    best_holiday = min(order.index(p) for p in holiday)
    assert worst_associated == 15 and best_holiday == 16
    for rel in associated:
        camera = [r for r in ranked.reasons(rel) if r["signal"] == "assoc.camera"]
        assert [(r["detail"], r["weight"]) for r in camera] == [
            (f"same camera ({ROOM_CAMERA}) as 16 pictures categorised A by hash set UK-A", 18.0)
        ]
        assert str(camera[0]["provenance"]).startswith("camera cluster NIKON CORPORATION")
        assert str(camera[0]["provenance"]).endswith("and 11 more")


def test_group_lead_says_what_known_material_it_holds(ranked: Ranked) -> None:
    with ranked.case.engine.connect() as conn:
        groups = {g["cluster"]: g for g in top_leads(conn, "cluster", 100)}
    camera = groups[ROOM_CAMERA]
    held = [r for r in camera["reasons"] if r["signal"] == "known_members"]
    assert [(r["detail"], r["weight"]) for r in held] == [
        ("holds 16 pictures categorised A by hash set UK-A beside 16 unknown", 18.0)
    ]
    assert camera["rank"] == 1


def test_cli_names_the_associated_material(ranked: Ranked) -> None:
    result = CliRunner().invoke(app, ["leads", str(ranked.case.root), "--top", "3", "--json"])
    assert result.exit_code == 0, result.output
    top = json.loads(result.output)["item"]
    assert all(p["item"] in ranked.scenario.of_role("associated") for p in top)
    assert all(
        any("categorised A by hash set UK-A" in r["detail"] for r in p["reasons"]) for p in top
    )
    assert [p["associated_with"][0] for p in top] == [
        "16 pictures categorised A by hash set UK-A"
    ] * 3
    text = CliRunner().invoke(
        app, ["leads", str(ranked.case.root), "--top", "2"], env={"COLUMNS": "300"}
    )
    assert "associated with" in text.output
    assert "16 pictures categorised A by hash set UK-A" in text.output


def test_reviewer_decisions_move_the_neighbourhood_and_equal_a_full_rerun(ranked: Ranked) -> None:
    burst = [p for p in ranked.scenario.of_role("holiday") if ranked.scenario.truth[p].burst == 3]
    ids = ranked.ids()
    scheme = load_scheme("uk")
    with ranked.case.engine.begin() as conn:
        decisions.categorise(conn, scheme, "alice", [ids[p] for p in burst[:3]], "NI")
    top50 = ranked.order()[:50]
    assert not set(burst) & set(top50)
    rest = burst[3]
    session = [r for r in ranked.reasons(rest) if r["signal"] == "assoc.session.benign"]
    assert [r["detail"] for r in session] == [
        "same capture session (Canon EOS 2000D, 2024-07-04 10:00-10:22, 12 pictures) as "
        "3 pictures categorised NI by reviewer alice"
    ]
    with ranked.case.engine.connect() as conn:
        run = conn.execute(select(s.lead_runs).order_by(s.lead_runs.c.id.desc())).first()
        assert run is not None and run.cause.startswith("alice categorised 3 items NI")
        change = conn.execute(
            select(s.lead_changes).where(
                s.lead_changes.c.run_id == run.id, s.lead_changes.c.target_id == ids[rest]
            )
        ).one()
    assert (change.old_score, change.new_score, json.loads(change.lost)) == (17.0, 6.246, [])
    assert [(r["signal"], r["weight"]) for r in json.loads(change.gained)] == [
        ("assoc.folder.benign", -1.792),
        ("assoc.session.benign", -8.962),
    ]
    # A positive decision raises the folder peers of a download.
    downloads = ranked.scenario.of_role("download")
    with ranked.case.engine.begin() as conn:
        decisions.categorise(conn, scheme, "alice", [ids[downloads[0]]], "A")
    folder = [r for r in ranked.reasons(downloads[1]) if r["signal"] == "assoc.folder"]
    assert [r["detail"] for r in folder] == [
        "same folder (Users/owner/Downloads) as 1 picture categorised A by reviewer alice"
    ]
    incremental = ranked.leads()
    process_case(ranked.case, workers=0, settings=SKIP)  # nothing new: only the stages rerun
    assert ranked.leads() == incremental


def test_more_like_this_from_the_cli(ranked: Ranked) -> None:
    seed = ranked.ids()["Pictures/Camera Uploads/DSC_0000.JPG"]
    args = ["search", str(ranked.case.root), "--like", str(seed), "--by", "camera,pdq", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    first = hits[0]
    assert first["path"].startswith("Pictures/Camera Uploads/DSC_00")
    assert first["why"][0] == f"same camera: {ROOM_CAMERA}"
    assert first["why"][1].startswith("PDQ ")
    assert {h["path"].split("/")[0] for h in hits[:31]} == {"Pictures"}
    bad = CliRunner().invoke(app, ["search", str(ranked.case.root), "--like", "1", "--by", "x"])
    assert bad.exit_code != 0 and "--by takes some of scene,face,camera,sensor,pdq" in bad.output


def test_hostile_names_print_as_text(tmp_path: Path) -> None:
    folder = tmp_path / "ev" / "a["
    folder.mkdir(parents=True)
    scenarios.render_scene(5, (160, 120)).save(folder / "]b.jpg", quality=80)
    scenarios.render_scene(6, (160, 120)).save(tmp_path / "ev" / "[red]x[bold].jpg", quality=80)
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(tmp_path / "ev"), "EV1", "test")
    process_case(case, workers=0, settings=SKIP)
    result = CliRunner().invoke(app, ["leads", str(case.root)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "a[/]b.jpg" in result.output and "[red]x[bold].jpg" in result.output
    case.close()


def test_reading_leads_and_searching_at_the_command_line_is_audited(ranked: Ranked) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["leads", str(ranked.case.root), "--json"]).exit_code == 0
    seed = str(ranked.ids()["Pictures/Camera Uploads/DSC_0000.JPG"])
    args = ["search", str(ranked.case.root), "--like", seed, "--by", "camera", "--json"]
    assert runner.invoke(app, args).exit_code == 0
    with ranked.case.engine.connect() as conn:
        rows = conn.execute(
            select(s.audit_log.c.action, s.audit_log.c.target, s.audit_log.c.details)
            .where(s.audit_log.c.action.in_(["view_leads", "search"]))
            .order_by(s.audit_log.c.id)
        ).all()
    assert [(r.action, r.target) for r in rows][-2:] == [
        ("view_leads", "leads"),
        ("search", "search"),
    ]
    assert json.loads(rows[-1].details) == {"like": int(seed), "by": ["camera"], "hits": 31}
