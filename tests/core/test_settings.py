"""Settings per case: case.toml and --set, in that order, recorded with each run."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from unseen.cli.main import app as cli
from unseen.core.errors import UserError
from unseen.core.home import library_home
from unseen.core.settings import CASE_FILE, Settings, parse_override, write_case_file
from unseen.correlation.facts import HeldFacts, ItemFacts
from unseen.correlation.groupings.sessions import SessionGrouping
from unseen.store.case import Case

runner = CliRunner()


def _case_file(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / CASE_FILE).write_text(text, encoding="utf-8")
    return root


def _error(root: Path, *overrides: str) -> str:
    with pytest.raises(UserError) as caught:
        Settings.from_case(root, overrides)
    return str(caught.value)


def test_case_toml_values_keep_their_types(tmp_path: Path) -> None:
    root = _case_file(
        tmp_path,
        "[settings]\n"
        "session_gap_minutes = 20\n"
        "face_min_score = 1\n"  # a whole number where a number is asked for is a number
        "carve_unallocated = false\n"
        'skip = ["ocr", "faces"]\n'
        'lead_weights = "unit.toml"\n',
    )
    settings = Settings.from_case(root)
    assert settings.changed() == {
        "skip": ("ocr", "faces"),
        "carve_unallocated": False,
        "lead_weights": "unit.toml",
        "face_min_score": 1.0,
        "session_gap_minutes": 20,
    }
    assert type(settings.face_min_score) is float


def test_set_values_are_parsed_to_the_settings_types() -> None:
    assert parse_override("batch_size=1_000") == ("batch_size", 1000)
    assert parse_override(" scene_min_cosine = 0.75 ") == ("scene_min_cosine", 0.75)
    assert parse_override("carve_unallocated=no") == ("carve_unallocated", False)
    assert parse_override("carve_unallocated=TRUE") == ("carve_unallocated", True)
    assert parse_override("skip=ocr, faces,") == ("skip", ("ocr", "faces"))
    assert parse_override("skip=") == ("skip", ())
    assert parse_override("library=") == ("library", None)
    assert parse_override("library=/srv/sets") == ("library", "/srv/sets")


def test_unknown_settings_are_refused_naming_the_key(tmp_path: Path) -> None:
    assert _error(tmp_path, "session_gap=20") == (
        "--set: unknown setting 'session_gap' (did you mean session_gap_minutes?)"
    )
    assert _error(tmp_path, "colour=red") == "--set: unknown setting 'colour'"
    root = _case_file(tmp_path / "case", "[settings]\nface_min_scor = 0.7\n")
    assert _error(root) == (
        "case.toml: unknown setting 'face_min_scor' (did you mean face_min_score?)"
    )


def test_bad_values_are_refused_naming_the_key(tmp_path: Path) -> None:
    assert _error(tmp_path, "session_gap_minutes=half an hour") == (
        "--set session_gap_minutes: 'half an hour' is not a whole number"
    )
    assert (
        _error(tmp_path, "face_min_score=high") == "--set face_min_score: 'high' is not a number"
    )
    assert _error(tmp_path, "carve_unallocated=maybe") == (
        "--set carve_unallocated: 'maybe' is not true or false"
    )
    assert _error(tmp_path, "session_gap_minutes") == (
        "--set 'session_gap_minutes': expected KEY=VALUE"
    )
    cases = {
        "session_gap_minutes = 2.5": "setting session_gap_minutes = 2.5 is not a whole number",
        "session_gap_minutes = true": "setting session_gap_minutes = True is not a whole number",
        'face_min_score = "high"': "setting face_min_score = 'high' is not a number",
        "skip = [1]": "setting skip = [1] is not a list of names",
        "library = 3": "setting library = 3 is not a text",
    }
    for line, message in cases.items():
        root = _case_file(tmp_path / "bad", f"[settings]\n{line}\n")
        assert _error(root) == f"case.toml: {message}"
    root = _case_file(tmp_path / "broken", "[settings\n")
    assert _error(root).startswith(f"cannot read {root / CASE_FILE}: ")
    root = _case_file(tmp_path / "flat", "settings = 3\n")
    assert _error(root) == f"{root / CASE_FILE}: [settings] must be a table of setting = value"


def test_set_overrides_case_toml_which_overrides_the_defaults(tmp_path: Path) -> None:
    assert Settings.from_case(tmp_path) == Settings()
    root = _case_file(
        tmp_path / "case",
        '[settings]\nsession_gap_minutes = 20\nwindow_gap_minutes = 5\nskip = ["ocr"]\n',
    )
    settings = Settings.from_case(root, ["window_gap_minutes=7"], skip=["faces", "ocr"])
    assert (settings.session_gap_minutes, settings.window_gap_minutes) == (20, 7)
    assert settings.skip == ("ocr", "faces")  # --skip adds to the case's own
    assert settings.scene_min_cosine == Settings().scene_min_cosine
    assert Settings.from_case(root, ["skip=deep"]).skip == ("deep",)


def test_the_library_is_taken_from_the_case_folder(tmp_path: Path) -> None:
    root = _case_file(tmp_path / "case", '[settings]\nlibrary = "../sets"\n')
    assert Settings.from_case(root).library == str(tmp_path.resolve() / "sets")
    given = Settings.from_case(root, library=tmp_path / "mine")
    assert given.library == str(tmp_path.resolve() / "mine")
    # The case's library comes before $UNSEEN_HOME (set by the test set-up), --library
    # before both.
    assert library_home(None, root) == tmp_path.resolve() / "sets"
    assert library_home(tmp_path / "x", root) == tmp_path / "x"
    assert library_home(None, tmp_path) == Path(os.environ["UNSEEN_HOME"])


def test_write_case_file_is_read_back(tmp_path: Path) -> None:
    values = {"skip": ("ocr",), "face_min_score": 0.7, "library": 'a "b"', "batch_size": 4}
    write_case_file(tmp_path, values, "for a test")
    assert (tmp_path / CASE_FILE).read_text(encoding="utf-8") == (
        "# Settings of this case: `unseen process` reads them, --set overrides them.\n"
        "# for a test\n"
        "[settings]\n"
        'skip = ["ocr"]\n'
        "face_min_score = 0.7\n"
        'library = "a \\"b\\""\n'
        "batch_size = 4\n"
    )
    read = Settings.from_case(tmp_path)
    assert (read.skip, read.face_min_score, read.batch_size) == (("ocr",), 0.7, 4)
    assert read.library == str(tmp_path.resolve() / 'a "b"')
    with pytest.raises(UserError, match="setting batch_size = 'x' is not a whole number"):
        write_case_file(tmp_path, {"batch_size": "x"})


def _shot(item_id: int, taken: str) -> ItemFacts:
    return ItemFacts(
        item_id, 1, f"DCIM/{item_id}.jpg", f"{item_id:064x}", "image/jpeg", 640, 480,
        make="Canon", model="Canon EOS 80D", datetime_original=taken,
    )  # fmt: skip


def test_a_grouping_uses_the_runs_threshold() -> None:
    shots = [_shot(1, "2024-06-02T20:00:00"), _shot(2, "2024-06-02T20:25:00")]
    by_default = list(SessionGrouping().group(HeldFacts(shots), None))  # type: ignore[arg-type]
    assert [[m.item_id for m in c.members] for c in by_default] == [[1, 2]]
    stricter = SessionGrouping(Settings(session_gap_minutes=20))
    assert list(stricter.group(HeldFacts(shots), None)) == []  # type: ignore[arg-type]


def _picture_case(root: Path) -> Path:
    evidence = root / "evidence"
    evidence.mkdir(parents=True)
    Image.new("RGB", (64, 48), (200, 30, 30)).save(evidence / "red.png")
    case_dir = root / "case"
    assert runner.invoke(cli, ["init", str(case_dir), "--name", "SET-1"]).exit_code == 0
    added = runner.invoke(cli, ["add", str(case_dir), str(evidence), "--label", "EV01"])
    assert added.exit_code == 0, added.output
    return case_dir


def _recorded(case_dir: Path) -> list[dict[str, object]]:
    from sqlalchemy import select

    from unseen.store import schema as s

    case = Case.open(case_dir)
    try:
        with case.engine.connect() as conn:
            rows = conn.scalars(select(s.runs.c.settings).order_by(s.runs.c.id)).all()
    finally:
        case.close()
    return [json.loads(r) for r in rows]


def test_process_records_the_effective_settings_and_status_shows_them(tmp_path: Path) -> None:
    case_dir = _picture_case(tmp_path)
    _case_file(case_dir, "[settings]\nsession_gap_minutes = 20\nwindow_gap_minutes = 5\n")
    args = ["process", str(case_dir), "--workers", "0", "--skip", "deep"]
    done = runner.invoke(cli, [*args, "--set", "window_gap_minutes=7", "--set", "batch_size=4"])
    assert done.exit_code == 0, done.output
    (recorded,) = _recorded(case_dir)
    expected = Settings(session_gap_minutes=20, window_gap_minutes=7, batch_size=4, skip=("deep",))
    assert recorded == json.loads(json.dumps(expected.to_dict()))
    assert set(recorded) == {f.name for f in dataclasses.fields(Settings)}
    status = runner.invoke(cli, ["status", str(case_dir), "--json"])
    assert json.loads(status.stdout)["settings"] == {
        "batch_size": 4,
        "session_gap_minutes": 20,
        "skip": ["deep"],
        "window_gap_minutes": 7,
    }
    table = runner.invoke(cli, ["status", str(case_dir)], env={"COLUMNS": "200"})
    (row,) = [line for line in table.stdout.splitlines() if "settings not default" in line]
    assert row.split("│")[1:3] == [
        " settings not default ",
        " batch_size=4, session_gap_minutes=20, skip=deep, window_gap_minutes=7 ",
    ]
    report = tmp_path / "summary.html"
    exported = runner.invoke(
        cli, ["report", str(case_dir), "--kind", "summary", "-o", str(report)]
    )
    assert exported.exit_code == 0, exported.output
    assert (
        '<dt>Settings not default</dt><dd class="mono" id="settings">batch_size=4, '
        "session_gap_minutes=20, skip=deep, window_gap_minutes=7 (latest run)</dd>"
    ) in report.read_text(encoding="utf-8")


def test_process_refuses_a_bad_setting_before_running(tmp_path: Path) -> None:
    case_dir = _picture_case(tmp_path)
    done = runner.invoke(cli, ["process", str(case_dir), "--set", "session_gap=1"])
    assert done.exit_code == 2
    assert "--set: unknown setting 'session_gap' (did you mean session_gap_minutes?)" in (
        done.output
    )
    assert _recorded(case_dir) == []


def _environment() -> dict[str, str]:
    # OpenCV's import adds its own library folder to LD_LIBRARY_PATH, whoever imports it.
    return {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}


def test_the_demo_names_its_library_and_leaves_the_environment_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unseen.demo.case import build_demo_case
    from unseen.engine.runner import process_case

    monkeypatch.delenv("UNSEEN_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))  # the user's library
    before = _environment()
    case, _ = build_demo_case(tmp_path / "demo")
    assert "UNSEEN_HOME" not in os.environ
    assert (case.root / CASE_FILE).read_text(encoding="utf-8") == (
        "# Settings of this case: `unseen process` reads them, --set overrides them.\n"
        "# The demo's own library.\n"
        "[settings]\n"
        'library = "../library"\n'
    )
    settings = Settings.from_case(case.root, skip=("deep",))
    assert settings.library == str((tmp_path / "demo" / "library").resolve())
    summary = process_case(case, workers=0, settings=settings)
    assert summary.stages["match"].startswith("71 items matched against 3 hash sets")
    assert _environment() == before
    assert not (tmp_path / "user-data").exists()
    case.close()
