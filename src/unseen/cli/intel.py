"""``unseen intel``: promote what a case confirmed into the agency intelligence library,
list it, remove it. Retention dates are enforced on every command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from unseen.cli.common import LibraryOpt, fail, say
from unseen.core.errors import UnseenError, UserError

if TYPE_CHECKING:  # the library (SQLAlchemy, numpy) loads only when a command runs
    from unseen.intel.store import IntelEntry, IntelLibrary

intel_app = typer.Typer(
    help="The agency intelligence library: series, devices, contacts, reviewed material "
    "promoted from cases, matched in every later case.",
    no_args_is_help=True,
)


def _open(library: Path | None) -> IntelLibrary:
    from unseen.intel.store import IntelLibrary

    lib = IntelLibrary.open(library)
    for name in lib.expire():
        say(f"retention: {name} expired and was deleted")
    return lib


@intel_app.command("promote")
def promote(
    case_dir: Annotated[Path, typer.Argument(help="The case folder.")],
    cluster: Annotated[
        int | None, typer.Option("--cluster", help="A cluster id: series, device or contact.")
    ] = None,
    reviewed: Annotated[
        bool, typer.Option("--reviewed", help="Everything reviewers categorised.")
    ] = False,
    name: Annotated[str | None, typer.Option("--name", help="Name of the new entry.")] = None,
    retain_until: Annotated[
        str | None,
        typer.Option("--retain-until", help="YYYY-MM-DD to delete it by (default: 10 years)."),
    ] = None,
    victim: Annotated[
        str | None,
        typer.Option("--victim", help="Identified victim: the agency's record reference only."),
    ] = None,
    library: LibraryOpt = None,
) -> None:
    """Promote a cluster or the reviewed material of CASE_DIR into the library."""
    from unseen.intel.promote import promote_cluster, promote_reviewed
    from unseen.intel.store import retention_date
    from unseen.store.case import Case

    try:
        if (cluster is None) == (not reviewed):
            raise UserError("give exactly one of --cluster ID or --reviewed")
        until = retention_date(retain_until)
        case = Case.open(case_dir)
        lib = _open(library)
        try:
            if cluster is not None:
                entry = promote_cluster(case, lib, cluster, name, until, victim)
            else:
                entry = promote_reviewed(case, lib, name, until, victim)
        finally:
            lib.close()
            case.close()
    except UnseenError as exc:
        raise fail(exc) from exc
    _print_entry("promoted", entry)


def _print_entry(verb: str, entry: IntelEntry) -> None:
    held = ", ".join(
        f"{entry.details.get(k, 0)} {k}"
        for k in ("hashes", "scenes", "devices", "contacts")
        if entry.details.get(k)
    )
    say(
        f"{verb} {entry.name} ({entry.kind} from case "
        f"{entry.case_ref}: {held or 'nothing'}), kept until {entry.retain_until}"
    )


@intel_app.command("list")
def list_(
    library: LibraryOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the library's entries (expired ones are deleted first)."""
    try:
        lib = _open(library)
        entries = lib.entries()
        lib.close()
    except UnseenError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    table = Table(title="intelligence library")
    for column in ("name", "kind", "case", "holds", "promoted by", "promoted", "retain until",
                   "victim ref", "origin"):  # fmt: skip
        table.add_column(column)
    for e in entries:
        holds = ", ".join(
            f"{e.details[k]} {k}"
            for k in ("hashes", "scenes", "devices", "contacts")
            if e.details.get(k)
        )
        table.add_row(
            escape(e.name), e.kind, escape(e.case_ref), holds, escape(e.promoted_by),
            e.promoted_at[:10], e.retain_until, escape(e.victim_ref or ""), escape(e.origin),
        )  # fmt: skip
    Console().print(table)


@intel_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The entry to delete.")],
    library: LibraryOpt = None,
) -> None:
    """Delete an entry and everything it holds (recorded in the library's audit log)."""
    try:
        lib = _open(library)
        entry = lib.remove(name)
        lib.close()
    except UnseenError as exc:
        raise fail(exc) from exc
    _print_entry("removed", entry)
