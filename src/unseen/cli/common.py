"""What the commands share: one printer for errors, warnings and messages, the case
folder argument and the library option.

Everything is printed escaped: errors and messages quote evidence names, labels, paths
and file contents, which are hostile text to Rich's markup (``a[/]b.jpg`` would raise,
``[bold red]x`` would restyle the line). Commands print through ``fail``, ``warn`` and
``say`` only; tables escape their cells.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from unseen.core.errors import UnseenError
from unseen.store.case import Case

console = Console(stderr=True, soft_wrap=True)  # long paths and reasons stay on one line
_stdout = Console(soft_wrap=True)

CaseDir = Annotated[Path, typer.Argument(help="The case folder.")]
LibraryOpt = Annotated[
    Path | None,
    typer.Option(
        "--library",
        help="Library folder (default: $UNSEEN_HOME, else ~/.local/share/unseen).",
    ),
]


def fail(exc: UnseenError) -> typer.Exit:
    """Print ``exc`` as an error and give the exit to raise."""
    console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    return typer.Exit(exc.exit_code)


def warn(text: str) -> None:
    """Print a warning (standard error), ``text`` literally."""
    console.print(f"[yellow]warning:[/yellow] {escape(text)}", highlight=False)


def say(text: str, style: str | None = None, *, stdout: bool = False) -> None:
    """Print one line literally (case names, labels, paths and reasons are hostile
    text), on standard error unless it is the command's output."""
    (_stdout if stdout else console).print(escape(text), style=style, highlight=False)


def leads_caught_up(case: Case) -> None:
    """Re-score decisions a review server left queued (stopped before it had), so what
    the command reads of the leads is never behind the decisions, and say so."""
    from unseen.correlation import feedback

    with case.engine.connect() as conn:
        waiting = feedback.waiting(conn)
    if waiting:
        say(f"re-scoring {waiting:,} pictures after queued review decisions ...")
        feedback.drain(case.engine.begin)
