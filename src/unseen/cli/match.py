"""``unseen match``: match a case against the hash-set library, on demand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from unseen.cli.common import console, fail, say
from unseen.cli.progress import Working
from unseen.core.errors import UnseenError
from unseen.core.settings import Settings
from unseen.store.case import Case


def match(
    case_dir: Annotated[Path, typer.Argument(help="The case folder.")],
    library: Annotated[
        Path | None,
        typer.Option(help="Hash-set library folder (default: $UNSEEN_HOME or your data folder)."),
    ] = None,
    max_distance: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=255,
            help="Largest PDQ distance that matches (bits; default: the case's pdq_radius).",
        ),
    ] = None,
    min_quality: Annotated[
        int | None,
        typer.Option(min=0, max=100, help="Smallest PDQ quality compared (0-100; default 50)."),
    ] = None,
) -> None:
    """Match every file against the hash sets (exact and PDQ); replaces earlier matches."""
    from unseen.matching.matcher import MatchConfig
    from unseen.matching.signals import Pdq
    from unseen.matching.stage import run_match

    try:
        case = Case.open(case_dir)
        # Without an option, the radius the case's settings give (case.toml), as
        # ``unseen process`` matches with.
        if max_distance is None:
            max_distance = Settings.from_case(case.root).pdq_radius
        quality = Pdq.MIN_QUALITY if min_quality is None else min_quality
        with Working(console, "matching against the hash-set library"):
            summary = run_match(case, library, MatchConfig(max_distance, quality))
    except UnseenError as exc:
        raise fail(exc) from exc
    say(summary.line())
