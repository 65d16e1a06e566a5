"""``unseen match``: match a case against the hash-set library, on demand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from unseen.cli.common import fail, say
from unseen.core.errors import UnseenError
from unseen.store.case import Case


def match(
    case_dir: Annotated[Path, typer.Argument(help="The case folder.")],
    library: Annotated[
        Path | None,
        typer.Option(help="Hash-set library folder (default: $UNSEEN_HOME or your data folder)."),
    ] = None,
    max_distance: Annotated[
        int, typer.Option(min=0, max=255, help="Largest PDQ distance that matches (bits).")
    ] = 31,
    min_quality: Annotated[
        int, typer.Option(min=0, max=100, help="Smallest PDQ quality compared (0-100).")
    ] = 50,
) -> None:
    """Match every file against the hash sets (exact and PDQ); replaces earlier matches."""
    from unseen.matching.matcher import MatchConfig
    from unseen.matching.stage import run_match

    try:
        case = Case.open(case_dir)
        summary = run_match(case, library, MatchConfig(max_distance, min_quality))
    except UnseenError as exc:
        raise fail(exc) from exc
    say(summary.line())
