"""``unseen serve``, ``unseen user add`` and ``unseen audit verify``: the review workbench.

The web stack (FastAPI, uvicorn) is imported only when a command needs it, so the
rest of the CLI starts fast.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from unseen.cli.common import CaseDir, fail, say, warn
from unseen.core.errors import UnseenError, UserError
from unseen.store.case import Case, current_user

user_app = typer.Typer(help="Review accounts of a case.", no_args_is_help=True)
audit_app = typer.Typer(help="The case's hash-chained audit log.", no_args_is_help=True)
HEAD_SUFFIX = ".audit-head"  # beside each exported file: its signed audit head
T = TypeVar("T")


def _password(from_stdin: bool, generate: bool, prompt: str) -> str:
    """The password an account command was given: generated, read from standard input,
    or prompted for twice."""
    from unseen.review.auth import generate_password

    if from_stdin and generate:
        raise fail(UserError("choose --password-stdin or --generate, not both"))
    if generate:
        return generate_password()
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))


def _open(case_dir: Path) -> Case:
    try:
        return Case.open(case_dir)
    except UnseenError as exc:
        raise fail(exc) from exc


def serve(
    case_dir: CaseDir,
    host: Annotated[
        str, typer.Option(help="Address to listen on (default: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    idle_timeout: Annotated[
        int, typer.Option(help="Minutes of inactivity after which a session ends.")
    ] = 30,
    processes: Annotated[
        int,
        typer.Option(
            min=1, help="Server processes on the one port (a team server: one per core)."
        ),
    ] = 1,
) -> None:
    """Serve the review workbench for a case (works while 'unseen process' runs)."""
    from unseen.review.config import ReviewConfig
    from unseen.review.server import serve as run_server
    from unseen.review.server import url_for

    case = _open(case_dir)
    if host not in ("127.0.0.1", "localhost", "::1"):
        warn(
            f"listening on {host}: other machines can reach the "
            "review server; serve it only on a closed network"
        )
    name = case.info.get("name")
    say(f"review server for case {name}: {url_for(host, port)}")
    try:
        config = ReviewConfig(idle_timeout_s=idle_timeout * 60)
        run_server(case, host, port, config, processes)
    except UnseenError as exc:  # e.g. the case's category scheme cannot be loaded
        raise fail(exc) from exc


@user_app.command("add")
def user_add(
    case_dir: CaseDir,
    name: Annotated[str, typer.Argument(help="The user's login name.")],
    role: Annotated[str, typer.Option(help="admin, examiner, reviewer or read-only.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate a password and print it once.")
    ] = False,
) -> None:
    """Add a review account (the password is prompted for unless told otherwise)."""
    password = _password(password_stdin, generate, "password")
    from unseen.review.auth import create_account

    _account(
        case_dir,
        lambda case, actor: create_account(case, actor, name, role, password, current_user()),
    )
    say(f"added {role} {name}")
    if generate:
        typer.echo(password)


def _account(case_dir: Path, change: Callable[[Case, str], T]) -> T:
    """Run one of ``review.auth``'s audited account changes (given the case and the
    actor: the operating-system user), turning its refusal into the command's error."""
    case = _open(case_dir)
    try:
        return change(case, f"cli:{current_user()}")
    except UnseenError as exc:
        raise fail(exc) from exc


@user_app.command("list")
def user_list(case_dir: CaseDir) -> None:
    """Every account: role, state (active, disabled, removed, locked) and open sessions."""
    from rich.markup import escape
    from rich.table import Table

    from unseen.review.auth import list_users

    case = _open(case_dir)
    with case.engine.connect() as conn:
        users = list_users(conn)
    table = Table("name", "role", "state", "sessions", "created", "by")
    for u in users:
        cells = (u["name"], u["role"], u["state"], u["sessions"], u["created_at"], u["created_by"])
        table.add_row(*(escape(str(c)) for c in cells))
    Console().print(table)


@user_app.command("disable")
def user_disable(case_dir: CaseDir, name: Annotated[str, typer.Argument()]) -> None:
    """Disable an account; its open sessions end at once."""
    from unseen.review.auth import disable_account

    ended = _account(case_dir, lambda case, actor: disable_account(case, actor, name))
    say(f"disabled {name}; {ended} open sessions ended")


@user_app.command("enable")
def user_enable(case_dir: CaseDir, name: Annotated[str, typer.Argument()]) -> None:
    """Enable a disabled account again."""
    from unseen.review.auth import enable_account

    _account(case_dir, lambda case, actor: enable_account(case, actor, name))
    say(f"enabled {name}")


@user_app.command("remove")
def user_remove(case_dir: CaseDir, name: Annotated[str, typer.Argument()]) -> None:
    """Remove an account for good (its name stays reserved for the audit log)."""
    from unseen.review.auth import remove_account

    ended = _account(case_dir, lambda case, actor: remove_account(case, actor, name))
    say(f"removed {name}; {ended} open sessions ended")


@user_app.command("reset")
def user_reset(
    case_dir: CaseDir,
    name: Annotated[str, typer.Argument()],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate a password and print it once.")
    ] = False,
) -> None:
    """Set a new password; the account's open sessions end."""
    from unseen.review.auth import reset_account

    password = _password(password_stdin, generate, "new password")
    ended = _account(case_dir, lambda case, actor: reset_account(case, actor, name, password))
    say(f"new password for {name}; {ended} open sessions ended")
    if generate:
        typer.echo(password)


@user_app.command("role")
def user_role(
    case_dir: CaseDir,
    name: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="admin, examiner, reviewer or read-only.")],
) -> None:
    """Change an account's role; its open sessions end so the change applies at once."""
    from unseen.review.auth import change_role

    old, ended = _account(case_dir, lambda case, actor: change_role(case, actor, name, role))
    say(f"{name}: {old} -> {role}; {ended} open sessions ended")


@user_app.command("sessions")
def user_sessions(
    case_dir: CaseDir,
    name: Annotated[str, typer.Argument()],
    revoke: Annotated[bool, typer.Option("--revoke", help="End them all now.")] = False,
) -> None:
    """List the account's open sessions, or end them all with --revoke."""
    from unseen.review.auth import open_sessions

    case = _open(case_dir)
    try:
        with case.engine.connect() as conn:
            rows = open_sessions(conn, name)
    except UnseenError as exc:
        raise fail(exc) from exc
    if revoke:
        user_revoke(case_dir, name)
        return
    for row in rows:
        say(f"session {row['id']}: since {row['created_at']}")
    say(f"{len(rows)} open sessions")


@user_app.command("revoke")
def user_revoke(case_dir: CaseDir, name: Annotated[str, typer.Argument()]) -> None:
    """End every open session of the account now."""
    from unseen.review.auth import revoke_account

    ended = _account(case_dir, lambda case, actor: revoke_account(case, actor, name))
    say(f"{ended} open sessions of {name} ended")


@user_app.command("unlock")
def user_unlock(case_dir: CaseDir, name: Annotated[str, typer.Argument()]) -> None:
    """Lift the lockout (and back-off) an account got from failed logins."""
    from unseen.review.auth import unlock_account

    was_locked = _account(case_dir, lambda case, actor: unlock_account(case, actor, name))
    say(f"unlocked {name}" if was_locked else f"{name} was not locked")


@audit_app.command("verify")
def audit_verify(
    case_dir: CaseDir,
    expect_head: Annotated[
        str | None,
        typer.Option(help="A head hash recorded earlier (in a report) that must be in the chain."),
    ] = None,
    head_files: Annotated[
        list[Path] | None,
        typer.Option("--head", help="More signed heads to check (an export's .audit-head file)."),
    ] = None,
    key_files: Annotated[
        list[Path] | None,
        typer.Option("--key", help="Agency public key (default: the library's agency.pub)."),
    ] = None,
) -> None:
    """Check the audit chain against every signed head recorded outside the database.

    Exit 1 and say what was altered: an entry changed, rows deleted, entries cut off
    the end, or the whole chain rewritten and re-hashed.
    """
    from unseen.store.audit import recorded_heads, verify

    case = _open(case_dir)
    try:
        public_keys = _verify_keys(key_files or [])
    except UnseenError as exc:
        raise fail(exc) from exc
    with case.engine.connect() as conn:
        recorded = recorded_heads(conn, head_files or [])
        verdict = verify(conn, expect_head, recorded, public_keys)
    if verdict.ok:
        say(
            f"audit log intact: {verdict.entries} entries; {verdict.signed_heads} signed "
            f"and {verdict.unsigned_heads} unsigned recorded heads match "
            f"(newest: entry {verdict.last_recorded})"
        )
        if verdict.unsigned_heads:
            warn(
                "unsigned heads prove little (no agency key when they were "
                "written); run `unseen keys init`"
            )
        typer.echo(f"head {verdict.head}")
        return
    say(f"audit log altered: {verdict.problem or ''}", style="red")
    if verdict.bad_entry is not None:
        typer.echo(f"first bad entry: {verdict.bad_entry}")
    raise typer.Exit(1)


def _verify_keys(key_files: list[Path]) -> list[Any]:
    """The public keys heads may be signed with: those given, else the library's."""
    from unseen.core import keys

    if key_files:
        return [keys.load_public(path) for path in key_files]
    return list(keys.own_public_keys())


def record_export(
    case: Case, fmt: str, what: str, output: Path | None, count: int, where: str | None = None
) -> None:
    """Append an ``export`` entry to the case's audit log (called by ``unseen export``)."""
    from unseen.store import audit

    details: dict[str, Any] = {"format": fmt, "what": what, "records": count}
    if where is not None:
        details["where"] = where
    details["output"] = str(output) if output else "stdout"
    audit.append_alone(case, f"cli:{current_user()}", "export", f"{count} records", details)
    with case.engine.connect() as conn:  # the head that includes this export's entry
        line = audit.signed_head(conn).line()
    # The signed head travels with the export: whoever receives it can later prove the
    # case's log still holds everything up to and including this export.
    if output is None:
        sys.stderr.write(f"audit head: {line}")
    else:
        head_file = output.with_name(output.name + HEAD_SUFFIX)
        head_file.write_text(line, encoding="utf-8")


def record_view(case: Case, action: str, target: str, details: dict[str, Any]) -> None:
    """Audit that someone read the case at the command line (a report, leads, a search):
    what was shown is as sensitive as what the review server shows."""
    from unseen.store import audit

    audit.append_alone(case, f"cli:{current_user()}", action, target, details)


def free_port(host: str, preferred: int) -> int:
    """``preferred`` when it is free on ``host``, else a free port the system picks."""
    for candidate in (preferred, 0):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise UserError(f"no free port on {host}")


def serve_demo(case: Case, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Create an admin with a one-time password, print how to log in, and serve."""
    from unseen.review.auth import create_account, generate_password
    from unseen.review.server import serve as run_server
    from unseen.review.server import url_for

    password = generate_password()
    name = "admin"
    port = free_port(host, port)
    create_account(case, f"cli:{current_user()}", name, "admin", password, current_user())
    say(f"\nreview UI: {url_for(host, port)}", stdout=True)
    say(f"log in as {name} with the one-time password: {password}", stdout=True)
    say("(press Ctrl+C to stop the server)\n", stdout=True)
    run_server(case, host, port)
