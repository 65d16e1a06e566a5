"""``unseen leads``: the ranked unknown remainder, with the reasons for each rank."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from unseen.core.errors import UnseenError
from unseen.correlation.queries import top_leads
from unseen.correlation.scoring import Reason, describe
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
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(exc.exit_code) from exc
    with case.engine.connect() as conn:
        found = {kind: top_leads(conn, kind, top) for kind in ("item", "cluster")}
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    console = Console()
    for kind, rows in found.items():
        table = Table(title=f"top {kind} leads", show_lines=False)
        for column in ("#", "score", kind, "reasons"):
            table.add_column(column, overflow="fold")
        for row in rows:
            reasons = [Reason(r["signal"], r["weight"], r["detail"]) for r in row["reasons"]]
            table.add_row(str(row["rank"]), f"{row['score']:g}", row[kind], describe(reasons))
        console.print(table if rows else f"no {kind} leads yet (run 'unseen process')")
