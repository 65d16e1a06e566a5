"""``unseen keys``: create and show the agency's signing key (kept in the library home)."""

from __future__ import annotations

from typing import Annotated

import typer

from unseen.cli.common import LibraryOpt, fail, say
from unseen.core import keys
from unseen.core.errors import UnseenError

keys_app = typer.Typer(
    help="The agency's Ed25519 signing key (audit heads, exchange packages).",
    no_args_is_help=True,
)


@keys_app.command("init")
def init(
    agency: Annotated[
        str, typer.Option("--agency", help="Agency name recorded with the key.")
    ] = keys.DEFAULT_AGENCY,
    library: LibraryOpt = None,
) -> None:
    """Create the agency key pair (never overwrites one) and print the public key's path."""
    try:
        pub = keys.init_keys(library, agency)
        fp = keys.fingerprint(keys.load_public(pub))
    except UnseenError as exc:
        raise fail(exc) from exc
    say(f"agency key created; fingerprint {fp}")
    typer.echo(str(pub))  # stdout: the one thing scripts want


@keys_app.command("show")
def show(library: LibraryOpt = None) -> None:
    """Print the agency name, the public key's path and its fingerprint."""
    try:
        pub = keys.public_path(library)
        fp = keys.fingerprint(keys.load_public(pub))
        info = keys.agency_info(library)
    except UnseenError as exc:
        raise fail(exc) from exc
    typer.echo(f"agency: {info.get('agency', '')}")
    typer.echo(f"public key: {pub}")
    typer.echo(f"fingerprint: {fp}")
    typer.echo(f"created: {info.get('created', '')}")
