"""Progress on a terminal: for ``unseen process`` the fast pass's files and MB (rate and
time left), then one bar per job with per-item work (parsers, hashing, deep pass); for
the other long commands a spinner with what is being done and the time it has taken."""

from __future__ import annotations

import io
import logging
import time
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RichProgress:
    """Implements the runner's ``Progress`` with two bars: files and megabytes."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._files: TaskID | None = None
        self._mb: TaskID | None = None
        self._jobs: dict[str, TaskID] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def start(self, files: int, size: int) -> None:
        """Begin, or set the totals to what is done plus what is still pending (items
        found inside items arrive while the pass runs: "found so far")."""
        if self._files is None or self._mb is None:
            self._files = self._progress.add_task("files", total=files, rate="")
            self._mb = self._progress.add_task("MB", total=max(1, size // 1_000_000), rate="")
            return
        for task_id, pending in ((self._files, files), (self._mb, size / 1_000_000)):
            task = self._progress.tasks[task_id]
            self._progress.update(task_id, total=max(1, task.completed + pending))

    def job_begin(self, job: str, total: int) -> None:
        """A bar for one job's per-item work after the fast pass (parsers, deep pass)."""
        if total:
            self._jobs[job] = self._progress.add_task(job, total=total, rate="")

    def job_advance(self, job: str, done: int) -> None:
        if job in self._jobs:
            self._progress.update(self._jobs[job], advance=done)

    def advance(self, files: int, size: int) -> None:
        assert self._files is not None and self._mb is not None
        self._progress.update(self._files, advance=files)
        self._progress.update(self._mb, advance=size / 1_000_000)
        for task_id, unit in ((self._files, "files/s"), (self._mb, "MB/s")):
            speed = self._progress.tasks[task_id].speed or 0
            self._progress.update(task_id, rate=f"{speed:,.1f} {unit}")


log = logging.getLogger("unseen.cli")


class Working:
    """A spinner with the elapsed time and what is being done, on a terminal, while a
    long command works without a known total (matching, a report, validation, an
    export's records); one log line when it starts and one when it ends, either way."""

    def __init__(self, console: Console, what: str) -> None:
        self.what = what
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task: TaskID | None = None
        self._started = 0.0

    def __enter__(self) -> Working:
        self._started = time.monotonic()
        log.info("%s: started", self.what)
        self._progress.start()
        self._task = self._progress.add_task(self.what, total=None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()
        outcome = "failed" if exc_type else "done"
        log.info("%s: %s in %.1f s", self.what, outcome, time.monotonic() - self._started)

    def show(self, doing: str) -> None:
        """What is being done now (e.g. '12,000 lines written')."""
        assert self._task is not None
        self._progress.update(self._task, description=f"{self.what}: {doing}")


class Counted(io.TextIOBase):
    """A text stream that counts the lines and bytes written through it, for showing an
    export's progress; everything is passed on unchanged."""

    def __init__(self, out: IO[str], working: Working) -> None:
        self.out = out
        self.working = working
        self.lines = 0
        self.chars = 0
        self._shown = 0.0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        self.chars += len(text)
        now = time.monotonic()
        if now - self._shown >= 0.2:  # JSON exports write in many small pieces
            self._shown = now
            self.working.show(f"{self.lines:,} lines, {self.chars / 1e6:.1f} MB written")
        return self.out.write(text)

    def writable(self) -> bool:
        return True
