"""Progress that never lies: archive members found during the pass grow the totals,
so the fast pass never shows more files done than its total."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from rich.console import Console

from unseen.cli.progress import RichProgress
from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case


class Checked(RichProgress):
    """The command line's progress bars, checked after every step."""

    def __init__(self) -> None:
        super().__init__(Console(file=io.StringIO(), width=100))
        self.seen: list[tuple[float, float]] = []

    def advance(self, files: int, size: int) -> None:
        super().advance(files, size)
        task = self._progress.tasks[0]
        self.seen.append((task.completed, task.total or 0))


def nested_zip(path: Path, depth: int, members: int) -> None:
    """A zip of ``members`` text files and, below ``depth``, a zip like itself."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for n in range(members):
            z.writestr(f"level{depth}/note{n}.txt", f"level {depth} note {n}\n")
        if depth > 1:
            inner = path.with_name(f"inner{depth}.zip")
            nested_zip(inner, depth - 1, members)
            z.write(inner, f"level{depth}/inner.zip")
            inner.unlink()
    path.write_bytes(buffer.getvalue())


def test_done_never_passes_the_total_on_nested_archives(tmp_path: Path) -> None:
    ev = tmp_path / "ev"
    ev.mkdir()
    for n in range(3):
        nested_zip(ev / f"bundle{n}.zip", depth=3, members=5)
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "test")
    progress = Checked()
    with progress:
        summary = process_case(
            case, workers=0, settings=Settings(batch_size=2, skip=("deep",)), progress=progress
        )
    assert summary.processed == 3 * (1 + 3 * 5 + 2)  # each: itself, 15 notes, 2 inner zips
    assert all(done <= total for done, total in progress.seen), progress.seen
    assert progress.seen[-1] == (summary.processed, summary.processed)
    case.close()


def test_a_reader_that_breaks_its_contract_costs_only_its_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container member whose stream raises something other than OSError (a bug in a
    reader, or a library's own exception) is recorded on that item; the run goes on."""
    from unseen.core.models import FileRecord, ItemTask, SourceSpec
    from unseen.engine import pipeline

    class Broken:
        def read(self, size: int = -1) -> bytes:
            raise EOFError("compressed stream ended early")

        def __enter__(self) -> Broken:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    class Source:
        def open(self, locator: bytes) -> Broken:
            return Broken()

    spec = SourceSpec(1, "folder", str(tmp_path), "EV1")
    task = ItemTask(7, spec, "a.tar.gz/inner.jpg", b"x", 10)
    config = pipeline.WorkerConfig(Settings(), str(tmp_path))
    monkeypatch.setattr(pipeline, "open_source", lambda _spec: Source())
    record: FileRecord = pipeline.process_item(task, config)
    assert record.errors == [("read", "cannot read: EOFError: compressed stream ended early")]


class Jobs(RichProgress):
    """The command line's bars, recording each job's bar after every step."""

    def __init__(self) -> None:
        super().__init__(Console(file=io.StringIO(), width=100))
        self.seen: dict[str, list[tuple[float, float]]] = {}

    def job_advance(self, job: str, done: int) -> None:
        super().job_advance(job, done)
        task = self._progress.tasks[self._jobs[job]]
        self.seen.setdefault(job, []).append((task.completed, task.total or 0))


def test_every_job_with_per_item_work_has_a_bar_that_ends_full(tmp_path: Path) -> None:
    """The pictures' deep pass and the browser history's parsing get their own bars,
    with exact totals, stepping up to them and never past."""
    from internet.builders import chrome_history
    from spine.evidence import encode, scene, write

    ev = tmp_path / "ev"
    for n in range(5):
        write(ev / f"p{n}.png", encode(scene(160, 128, seed=n), "PNG"))
    chrome_history(ev / "Users/alex/AppData/Local/Google/Chrome/User Data/Default/History")
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "test")
    progress = Jobs()
    with progress:
        process_case(
            case,
            workers=0,
            settings=Settings(skip=("faces", "ocr", "scene", "match")),
            progress=progress,
        )
    ends = {job: steps[-1] for job, steps in progress.seen.items()}
    assert ends == {"internet": (1, 1), "deep": (5, 5)}
    assert all(done <= total for steps in progress.seen.values() for done, total in steps)


def test_status_shows_the_deep_pass_progress_and_time_left(tmp_path: Path) -> None:
    from spine.evidence import encode, scene, write
    from unseen.reports.status import deep_line, deep_status

    ev = tmp_path / "ev"
    for n in range(5):
        write(ev / f"p{n}.png", encode(scene(160, 128, seed=n), "PNG"))
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "test")
    quick = Settings(skip=("faces", "ocr", "scene", "match"))
    process_case(case, workers=0, settings=Settings(skip=(*quick.skip, "deep")))
    with case.engine.connect() as conn:
        before = deep_status(conn, quick)
    assert before == {
        "pictures_done": 0,
        "pictures_left": 5,
        "per_minute": 0.0,
        "minutes_left": None,
    }
    assert deep_line(before) == "0 of 5 pictures; not running"

    process_case(case, workers=0, settings=quick)
    with case.engine.connect() as conn:
        after = deep_status(conn, quick)
    # Five pictures in the last ten minutes: half a picture a minute.
    assert after == {
        "pictures_done": 5,
        "pictures_left": 0,
        "per_minute": 0.5,
        "minutes_left": None,
    }
    assert deep_line(after) == "5 of 5 pictures"
    running = {"pictures_done": 120, "pictures_left": 380, "per_minute": 40.0, "minutes_left": 9.5}
    assert deep_line(running) == "120 of 500 pictures; 40.0/min, about 10 min left"


def test_the_work_left_counted_by_shape_is_the_work_the_deep_pass_would_do(
    tmp_path: Path,
) -> None:
    """``unseen status`` asks the analysers once per type and size: on pictures of
    several sizes (one too small for any analyser), a text file, and a ledger with
    holes, it counts exactly the pictures the deep pass would take."""
    from sqlalchemy import delete, select

    from spine.evidence import encode, scene, write
    from unseen.correlation.deep import stage
    from unseen.store import schema as s

    ev = tmp_path / "ev"
    for n, (w, h) in enumerate([(160, 128), (160, 128), (400, 300), (300, 400), (40, 30)]):
        write(ev / f"p{n}.png", encode(scene(w, h, seed=n), "PNG"))
    (ev / "note.txt").write_text("not a picture")
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "test")
    quick = Settings(skip=("faces", "ocr", "scene", "match"))
    process_case(case, workers=0, settings=quick)
    usable, _ = stage._usable(quick)

    def counts() -> tuple[int, int]:
        with case.engine.connect() as conn:
            wanted = sum(1 for _ in stage._wanted(conn, usable, quick))
            return stage._left(conn, usable, quick), wanted

    assert counts() == (0, 0)
    with case.engine.begin() as conn:
        ids = dict(conn.execute(select(s.items.c.path, s.items.c.id)).all())
        holes = [ids["p0.png"], ids["p2.png"], ids["p4.png"], ids["note.txt"]]
        conn.execute(delete(s.job_done).where(s.job_done.c.item_id.in_(holes)))
    assert counts() == (2, 2)  # p4.png, 40 x 30, is too small for every analyser
    quick_all = Settings(skip=("match",))
    usable, _ = stage._usable(quick_all)
    with case.engine.connect() as conn:
        assert stage._left(conn, usable, quick_all) == sum(
            1 for _ in stage._wanted(conn, usable, quick_all)
        )


def test_status_and_dashboard_show_each_worker(tmp_path: Path) -> None:
    """The latest run's workers with what each delivered (here: this process alone)."""
    import os
    import socket

    from unseen.core.schemes import load_scheme
    from unseen.review.data import CaseView

    ev = tmp_path / "ev"
    ev.mkdir()
    for n in range(5):
        (ev / f"n{n}.txt").write_text("x" * (n + 1))
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "test")
    process_case(case, workers=0, settings=Settings(skip=("deep", "match", "correlate")))
    with case.engine.connect() as conn:
        (worker,) = repo.run_workers(conn)
        progress = CaseView(load_scheme("uk")).progress(conn)
    assert worker["worker"] == f"{socket.gethostname()}:{os.getpid()}"
    assert (worker["items"], worker["bytes"], worker["errors"]) == (5, 15, 0)
    assert progress["workers"] == [worker]
