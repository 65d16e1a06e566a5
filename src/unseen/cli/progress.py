"""Rich progress bars for ``unseen process``: the fast pass's files and MB (rate and
time left), then one bar per job with per-item work (parsers, hashing, deep pass)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
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
