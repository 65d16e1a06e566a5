"""What the commands share: one error printer, the case folder argument and the
library option.

Errors are printed escaped: they quote evidence names and file contents, which are
hostile text to Rich's markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from unseen.core.errors import UnseenError

console = Console(stderr=True, soft_wrap=True)  # long paths and reasons stay on one line

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
