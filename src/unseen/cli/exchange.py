"""``unseen exchange``: signed packages of intelligence or hash sets between agencies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from unseen.cli.common import LibraryOpt, fail, say
from unseen.core.errors import UnseenError, UserError

exchange_app = typer.Typer(
    help="Signed exchange packages (VICS 2.0 + series and device fingerprints; no media).",
    no_args_is_help=True,
)


@exchange_app.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="The package file to write.")],
    intel: Annotated[
        str | None, typer.Option("--intel", help="An intelligence library entry.")
    ] = None,
    hashset: Annotated[
        str | None, typer.Option("--hashset", help="A hash set (its newest version).")
    ] = None,
    library: LibraryOpt = None,
) -> None:
    """Write a package signed with the agency key (unseen keys init)."""
    from unseen.intel.exchange import export_hashset, export_intel

    try:
        if (intel is None) == (hashset is None):
            raise UserError("give exactly one of --intel NAME or --hashset NAME")
        if intel is not None:
            manifest = export_intel(library, intel, output)
        else:
            manifest = export_hashset(library, str(hashset), output)
    except UnseenError as exc:
        raise fail(exc) from exc
    say(
        f"wrote {output}: {manifest['what']} {manifest['name']}, signed by "
        f"{manifest['agency']} (key {manifest['signer']})"
    )


@exchange_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The package (read, never written).")],
    trust: Annotated[Path, typer.Option("--trust", help="The sending agency's public key (PEM).")],
    name: Annotated[str | None, typer.Option("--name", help="Import under this name.")] = None,
    library: LibraryOpt = None,
) -> None:
    """Verify a package's signature and digests, then import it."""
    from unseen.intel.exchange import import_package

    try:
        done = import_package(file, trust, library, name)
    except UnseenError as exc:
        raise fail(exc) from exc
    say(
        f"imported {done.what} {done.name} ({done.entries} hashes) from "
        f"{done.agency}, signature verified (key {done.signer})"
    )
