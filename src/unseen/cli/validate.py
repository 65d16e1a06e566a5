"""``unseen validate``: measure the signals' error rates on benign generated data and
write the report (Markdown and HTML)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from unseen.cli.common import console
from unseen.cli.progress import Working


def validate(
    markdown_out: Annotated[
        Path, typer.Option("--markdown", help="Where the Markdown report goes.")
    ] = Path("docs/validation.md"),
    html_out: Annotated[Path, typer.Option("--html", help="Where the HTML page goes.")] = Path(
        "docs/validation.html"
    ),
    quick: Annotated[
        bool, typer.Option("--quick", help="A small run (seconds) to check the machinery.")
    ] = False,
) -> None:
    """Measure true- and false-match rates with confidence intervals and write the report."""
    # Here, not with the module: every command (and every worker) imports the CLI.
    from unseen.validation.report import html_page, markdown, run

    with Working(console, "validation"):
        report = run(quick=quick)
    markdown_out.parent.mkdir(parents=True, exist_ok=True)
    markdown_out.write_text(markdown(report), encoding="utf-8")
    html_out.parent.mkdir(parents=True, exist_ok=True)
    html_out.write_text(html_page(report), encoding="utf-8")
    typer.echo(f"validation report: {markdown_out} and {html_out} ({report.seconds:.0f} s)")
