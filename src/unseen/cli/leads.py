"""``unseen leads``: the ranked unknown remainder, with the reasons for each rank and
the known or decided material each lead is associated with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from unseen.cli.common import fail, leads_caught_up
from unseen.cli.review import record_view
from unseen.core.errors import UnseenError
from unseen.correlation.queries import top_leads
from unseen.correlation.reasons import Reason, associated_with, describe
from unseen.store.case import Case


def leads(
    case_dir: Annotated[Path, typer.Argument(help="The case folder.")],
    top: Annotated[int, typer.Option(help="How many leads of each kind.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The unknown images and clusters to look at first, and why."""
    try:
        case = Case.open(case_dir)
    except UnseenError as exc:
        raise fail(exc) from exc
    leads_caught_up(case)
    with case.engine.connect() as conn:
        found = {kind: top_leads(conn, kind, top) for kind in ("item", "cluster")}
    # The ranked list says which pictures matter most: reading it is audited.
    record_view(case, "view_leads", "leads", {k: len(v) for k, v in found.items()})
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    console = Console()
    for kind, rows in found.items():
        console.print(
            _table(kind, rows) if rows else f"no {kind} leads yet (run 'unseen process')"
        )


def _table(kind: str, rows: list[dict[str, Any]]) -> Table:
    """Evidence names and reasons are hostile text: every cell is escaped."""
    table = Table(title=f"top {kind} leads", show_lines=False)
    for column in ("#", "score", kind, "associated with", "reasons"):
        table.add_column(column, overflow="fold")
    for row in rows:
        reasons = [Reason.from_dict(r) for r in row["reasons"]]
        tied = "; ".join(associated_with(reasons)) or "-"
        table.add_row(
            str(row["rank"]),
            f"{row['score']:.2f}",
            escape(row[kind]),
            escape(tied),
            escape(describe(reasons)),
        )
    return table
