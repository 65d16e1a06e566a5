"""``unseen verify CASE``: re-read every evidence source and check it is unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from unseen.cli.common import fail, say
from unseen.cli.privacy import warn_widened
from unseen.core.errors import UnseenError
from unseen.store.case import Case

_STYLE = {"OK": "green", "MISMATCH": "red", "UNCHECKED": "yellow"}


def verify(
    case_dir: Annotated[Path, typer.Argument(help="The case folder.")],
) -> None:
    """Check every source against its fingerprint (and an E01 against its stored hashes).

    Prints OK, MISMATCH or UNCHECKED per source; exits 1 when any source mismatches.
    """
    from unseen.sources.verify import verify as check

    try:
        case = Case.open(case_dir)
    except UnseenError as exc:
        raise fail(exc) from exc
    failed = False
    for verdict in check(case):
        style = _STYLE.get(verdict.status, "white")
        say(f"{verdict.status} {verdict.label}", style, stdout=True)
        for note in verdict.notes:
            say(f"    {note}", stdout=True)
        failed |= verdict.status == "MISMATCH"
    warn_widened(case.root)  # the case itself must still be private
    if failed:
        raise typer.Exit(1)
