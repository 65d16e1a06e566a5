"""``unseen hashset``: import, list and remove sets of the shared hash-set library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from unseen.cli.common import LibraryOpt, console, fail, say
from unseen.cli.progress import Working
from unseen.core.errors import UnseenError

if TYPE_CHECKING:  # the library (SQLAlchemy, ijson) loads only when a command runs
    from unseen.matching.library import ImportResult

hashset_app = typer.Typer(
    help="The hash-set library shared by all cases (known material, known-good files).",
    no_args_is_help=True,
)
SHOWN_PROBLEMS = 20  # problems printed after an import; all are counted


@hashset_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The hash-set file (read, never written).")],
    name: Annotated[str, typer.Option("--name", help="Set name; each import is a new version.")],
    fmt: Annotated[
        str, typer.Option("--format", help="auto, vics, icse, nsrl, csv or md5list.")
    ] = "auto",
    scheme: Annotated[
        str | None,
        typer.Option(help="Category scheme of the file (uk, us, custom or a JSON file)."),
    ] = None,
    category: Annotated[
        str | None, typer.Option(help="Category code for entries without one (needs --scheme).")
    ] = None,
    known_good: Annotated[
        bool | None,
        typer.Option("--known-good/--not-known-good", help="Default: NSRL sets are known-good."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on the first bad record or duplicate.")
    ] = False,
    library: LibraryOpt = None,
) -> None:
    """Import a hash-set file as a new version of NAME."""
    from unseen.matching.library import HashSetImportError, Library

    try:
        lib = Library.open(library)
        shown = escape(file.name)
        with Working(console, f"importing {shown}") as working:
            result = lib.import_file(
                file, name, fmt=fmt, scheme=scheme, strict=strict, known_good=known_good,
                category=category, progress=lambda n: working.show(f"{n:,} records read"),
            )  # fmt: skip
    except HashSetImportError as exc:
        say(f"read {exc.read} records before the failure")
        raise fail(exc) from exc
    except UnseenError as exc:
        raise fail(exc) from exc
    _print_result(result)


def _print_result(result: ImportResult) -> None:
    info = result.info
    profile = f", profile {info.profile}" if info.profile else ""
    good = ", known-good" if info.known_good else ""
    say(
        f"imported {result.imported} entries into {info.label} "
        f"({info.format}, scheme {info.scheme}{profile}{good}); read {result.read}, "
        f"duplicates {result.duplicates}, rejected {result.rejected}"
    )
    for problem in result.problems[:SHOWN_PROBLEMS]:
        say(f"  {problem.ref}: {problem.reason}")
    hidden = result.rejected + result.duplicates - min(len(result.problems), SHOWN_PROBLEMS)
    if result.problems and hidden > 0:
        say(f"  ... and {hidden} more")


@hashset_app.command("list")
def list_(
    library: LibraryOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="Include removed sets.")] = False,
) -> None:
    """List the hash-set versions in the library."""
    from unseen.matching.library import Library

    try:
        sets = Library.open(library).sets(include_removed=show_all)
    except UnseenError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in sets], indent=2))
        return
    table = Table(title="hash sets")
    for column in ("name", "version", "entries", "format", "scheme", "profile", "known good",
                   "imported", "file sha256"):  # fmt: skip
        table.add_column(column)
    for s in sets:
        label = escape(s.name) + (" (removed)" if s.removed_at else "")
        table.add_row(
            label, str(s.version), str(s.entries),
            s.format, s.scheme, s.profile or "", "yes" if s.known_good else "",
            s.imported_at, s.file_sha256[:16],
        )  # fmt: skip
    Console().print(table)


@hashset_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The set to remove (all its versions).")],
    library: LibraryOpt = None,
) -> None:
    """Remove every version of a set (its history stays listed with --all)."""
    from unseen.matching.library import Library

    try:
        count = Library.open(library).remove(name)
    except UnseenError as exc:
        raise fail(exc) from exc
    say(f"removed {count} version(s) of {name}")
