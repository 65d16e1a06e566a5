"""``unseen``: the command-line entry point. Commands parse options and call the library.

The command names and options are a stable interface for scripts.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import unseen
from unseen.cli.common import CaseDir, console, fail, leads_caught_up, say, warn
from unseen.cli.exchange import exchange_app
from unseen.cli.hashset import hashset_app
from unseen.cli.intel import intel_app
from unseen.cli.keys import keys_app
from unseen.cli.leads import leads
from unseen.cli.match import match
from unseen.cli.phones import messages, people
from unseen.cli.privacy import private_by_default, warn_widened
from unseen.cli.progress import Counted, RichProgress, Working
from unseen.cli.review import audit_app, record_export, record_view, serve, serve_demo, user_app
from unseen.cli.search import search
from unseen.cli.validate import validate
from unseen.cli.verify import verify
from unseen.core.errors import UnseenError, UserError
from unseen.store.case import Case, close_all, current_user

app = typer.Typer(
    name="unseen",
    help="Account for every file on seized media, categorise the known, rank the unseen.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _log_to(case: Case) -> None:
    handler = logging.FileHandler(case.logs_dir / "process.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("unseen")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


@app.command()
def version() -> None:
    """Print the tool version."""
    typer.echo(unseen.__version__)


@app.command()
def init(
    case_dir: CaseDir,
    name: Annotated[str | None, typer.Option(help="Case name (default: folder name).")] = None,
    examiner: Annotated[str | None, typer.Option(help="Examiner (default: login name).")] = None,
    db: Annotated[
        str | None, typer.Option(help="Database URL (default: SQLite case.db in the folder).")
    ] = None,
    scheme: Annotated[str, typer.Option(help="Category scheme: uk, us or a JSON file.")] = "uk",
) -> None:
    """Create a new, empty case folder."""
    try:
        case = Case.create(case_dir, name=name, examiner=examiner, database_url=db, scheme=scheme)
    except UnseenError as exc:
        raise fail(exc) from exc
    say(f"created case {case.info['name']} in {case.root}")


@app.command()
def add(
    case_dir: CaseDir,
    source_path: Annotated[
        Path,
        typer.Argument(
            help="Evidence: a folder, an archive (zip, 7z, tar, rar), a raw disk image "
            "(.dd/.raw/.img, split .001) or an E01 image (with its segments)."
        ),
    ],
    label: Annotated[str | None, typer.Option(help="Evidence label (default: name).")] = None,
    key: Annotated[
        list[str] | None,
        typer.Option(
            help="VOLUME=KEY for an encrypted volume (p2=..., whole=..., *=...); "
            "whatsapp=HEX64 or whatsapp=@KEYFILE for WhatsApp's encrypted backups."
        ),
    ] = None,
    password: Annotated[
        bool,
        typer.Option("--password", help="Prompt for the password of an encrypted iOS backup."),
    ] = False,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the encrypted iOS backup's password from stdin."
        ),
    ] = False,
) -> None:
    """Add an evidence source to the case (it is read, never written)."""
    from unseen import plugins
    from unseen.cli.volume_keys import (
        backup_password,
        parse_keys,
        password_warning,
        store_keys,
    )
    from unseen.sources import verify as integrity
    from unseen.sources.base import detect_kind
    from unseen.store import repo

    plugins.load()
    try:
        case = Case.open(case_dir)
        path = source_path.resolve()
        if not path.exists():
            raise UserError(f"{source_path} does not exist")
        kind = detect_kind(path)
        label = label or path.name
        keys = parse_keys(key or [])  # refused before anything is added
        keys.update(backup_password(password, password_stdin))
        spec = repo.add_source(case, kind, str(path), label, current_user())
        if keys:
            store_keys(case, spec, keys, current_user())
        if problem := password_warning(kind, spec.path, keys):
            warn(problem)
        say(f"fingerprinting {spec.path} (read only) ...")
        try:
            integrity.record(case, spec)
        except OSError as exc:  # hostile evidence: the source stays added, unfingerprinted
            warn(
                f"could not fingerprint {spec.path}: "
                f"{exc.strerror or exc}; 'unseen verify' will report it as unchecked"
            )
    except UnseenError as exc:
        raise fail(exc) from exc
    say(f"added {spec.kind} source {spec.label}: {spec.path}")


@app.command()
def process(
    case_dir: CaseDir,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: CPU count; 0: in-process).")
    ] = None,
    skip: Annotated[
        list[str] | None,
        typer.Option(
            help="A case stage or deep analyser not to run this time (repeatable), "
            "e.g. deep or ocr."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            envvar="UNSEEN_SCHEDULER",
            help="A Dask scheduler (tcp://HOST:8786): run the fast pass on its workers.",
        ),
    ] = None,
    path_map: Annotated[
        list[str] | None,
        typer.Option(
            help="HERE=THERE: workers find paths under HERE at THERE (repeatable; "
            "with --scheduler)."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="A setting for this run, over the case's case.toml [settings] "
            "(repeatable), e.g. session_gap_minutes=20.",
        ),
    ] = None,
    library: Annotated[
        Path | None,
        typer.Option(
            help="Hash-set library folder (default: the case's library setting, else "
            "$UNSEEN_HOME, else ~/.local/share/unseen).",
        ),
    ] = None,
) -> None:
    """List and analyse everything pending in the case (the fast pass). Resumable."""
    from unseen.engine.driver import start_process_pool

    if scheduler is None and workers != 0:
        # Before loading the plugins and opening the case: the workers' fork server
        # imports what they need (about a second) on the other core meanwhile.
        start_process_pool()
    from unseen import plugins
    from unseen.core.settings import Settings
    from unseen.correlation.deep.base import DEEP_ANALYSERS
    from unseen.engine.distributed import DaskCluster, parse_path_map
    from unseen.engine.runner import process_case
    from unseen.engine.stages import STAGES

    plugins.load()
    try:
        unknown = sorted(set(skip or ()) - set(STAGES.names()) - set(DEEP_ANALYSERS.names()))
        if unknown:
            known = ", ".join(STAGES.names()) or "none"
            deep = ", ".join(DEEP_ANALYSERS.names()) or "none"
            raise UserError(
                f"no case stage named {', '.join(unknown)} (stages: {known}; "
                f"deep analysers: {deep})"
            )
        case = Case.open(case_dir)
        settings = Settings.from_case(case.root, set_ or (), library=library, skip=skip or ())
    except UnseenError as exc:
        raise fail(exc) from exc
    _log_to(case)
    try:
        pairs = parse_path_map(path_map or [])
        cluster = DaskCluster(scheduler) if scheduler else None
    except UnseenError as exc:
        raise fail(exc) from exc
    try:
        with RichProgress(console) as progress:
            summary = process_case(
                case, workers=workers, settings=settings, progress=progress,
                cluster=cluster, path_map=pairs,
            )  # fmt: skip
    finally:
        if cluster is not None:
            cluster.close()
    say(
        f"processed {summary.processed} items ({summary.bytes / 1e6:.1f} MB) in run "
        f"{summary.run_id}; {summary.errors} with errors"
        + (f"; {len(summary.crashed)} crashed a worker" if summary.crashed else "")
    )
    _print_stages(summary.stages)
    _print_status(case)


def _print_stages(stages: dict[str, str]) -> None:
    """One line per whole-case stage (matching, internet, correlation, deep pass)."""
    for name, line in stages.items():
        say(f"{name}: {line}")


@app.command()
def status(
    case_dir: CaseDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts of files, images, types, errors, processed and pending."""
    try:
        case = Case.open(case_dir)
    except UnseenError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(_status(case), indent=2))
    else:
        _print_status(case)
    warn_widened(case.root)


def _status(case: Case) -> dict[str, Any]:
    from unseen.core.settings import Settings
    from unseen.reports.status import case_status

    try:
        settings = Settings.from_case(case.root)
    except UnseenError as exc:  # a case.toml the user broke: say so, not a traceback
        raise fail(exc) from exc
    with case.engine.connect() as conn:
        return case_status(conn, case.info, settings)


def _print_status(case: Case) -> None:
    st = _status(case)
    table = Table(title=escape(f"case {st['case']['name']}"), show_header=False)
    for key in ("files", "processed", "pending", "images", "pdq_hashed", "items_with_errors"):
        table.add_row(key.replace("_", " "), str(st[key]))
    table.add_row("size", f"{st['bytes'] / 1e6:.1f} MB")
    for mime, n in list(st["by_type"].items())[:12]:
        table.add_row(escape(f"  {mime}"), str(n))
    for stage, n in st["errors_by_stage"].items():
        table.add_row(f"  errors in {stage}", str(n))
    from unseen.reports.status import deep_line

    table.add_row("deep pass", deep_line(st["deep"]))
    now = time.time()
    for w in st["workers"]:
        seen = (
            f"{w['items']} items, {w['bytes'] / 1e6:.1f} MB, last {now - w['last_at']:.0f} s ago"
        )
        table.add_row(escape(f"  worker {w['worker']}"), seen)
    for job, n in st["stale"].items():
        table.add_row(f"  stale: {job}", f"{n} to redo (its version changed)")
    table.add_row("not examined", str(st["not_examined"]["items"]))
    for row in st["not_examined"]["shown"]:
        where = escape(f"{row['source']}:{row['path']}")
        table.add_row(f"  {where}", escape(row["reason"]))
    if st["settings"]:
        from unseen.reports.status import settings_line

        table.add_row("settings not default", escape(settings_line(st["settings"])))
    Console().print(table)


@app.command()
def export(
    case_dir: CaseDir,
    fmt: Annotated[str, typer.Option("--format", help="Export format, e.g. jsonl.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default: stdout).")
    ] = None,
    what: Annotated[
        str, typer.Option(help="What to export: items, artefacts, messages.")
    ] = "items",
    option: Annotated[
        list[str] | None, typer.Option("--option", help="Exporter option KEY=VALUE.")
    ] = None,
    profile: Annotated[
        str | None, typer.Option(help="VICS profile (uk, us); same as --option profile=.")
    ] = None,
    where: Annotated[
        str | None,
        typer.Option(
            help="Only the items a grid filter shows, written as the grid's query string "
            "(e.g. 'faces=yes&place=leeds'); jsonl and csv."
        ),
    ] = None,
) -> None:
    """Export records for other tools (one record per item by default)."""
    from unseen import plugins
    from unseen.reports.registry import EXPORTERS

    plugins.load()
    try:
        if fmt not in EXPORTERS.names():
            raise UserError(
                f"unknown export format {fmt!r} (known: {', '.join(EXPORTERS.names())})"
            )
        exporter = EXPORTERS.get(fmt)()
        if what == "messages":  # phones: one record per message, in jsonl or csv
            from unseen.reports.messages import MessagesExporter

            exporter = MessagesExporter(fmt)
        if what not in exporter.WHAT:
            raise UserError(f"{fmt} exports {', '.join(exporter.WHAT)}, not {what!r}")
        options = dict(o.split("=", 1) for o in option or [] if "=" in o)
        if profile is not None:
            options["profile"] = profile
        case = Case.open(case_dir)
        leads_caught_up(case)
        if where is not None and what != "items":
            raise UserError(f"--where chooses items; it cannot export {what}")
        only = _chosen(case, where) if where is not None else None
        with Working(console, f"{fmt} export") as working, _output(output) as raw:
            out = cast(IO[str], Counted(raw, working))  # a text stream, counted
            if only is None:
                count = exporter.export(case, out, what, options)
            else:
                count = exporter.export_items(case, out, only, options)
        record_export(case, fmt, what, output, count, where)
    except UnseenError as exc:
        raise fail(exc) from exc
    say(f"exported {count} records")


def _chosen(case: Case, where: str) -> list[int]:
    """The items of the ``--where`` grid filter."""
    from unseen.core.schemes import load_scheme
    from unseen.review.grid import filtered_ids, parse_where

    params = parse_where(where)
    with case.engine.connect() as conn:
        return filtered_ids(conn, load_scheme(case.info.get("scheme", "uk")), params)


@app.command()
def report(
    case_dir: CaseDir,
    kind: Annotated[str, typer.Option("--kind", help="Report kind, e.g. summary.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")],
) -> None:
    """Write a report about the case (HTML)."""
    from unseen import plugins
    from unseen.reports.registry import REPORTS

    plugins.load()
    try:
        if kind not in REPORTS.names():
            known = ", ".join(REPORTS.names()) or "none yet"
            raise UserError(f"unknown report kind {kind!r} (known: {known})")
        case = Case.open(case_dir)
        leads_caught_up(case)
        # Audited first, so the report's database digest and audit head include it.
        record_view(case, "report", kind, {"output": str(output)})
        with Working(console, f"{kind} report"), _output(output) as out:
            REPORTS.get(kind)().render(case, out)
    except UnseenError as exc:
        raise fail(exc) from exc
    say(f"wrote {kind} report to {output}")


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    """A text stream to ``path`` (written whole or not at all), or stdout."""
    if path is None:
        yield sys.stdout
        return
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as out:
        yield out
    tmp.replace(path)


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to build the demo.")] = Path(
        "demo-case"
    ),
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the review UI.")] = True,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """Build the synthetic demo evidence, make a case of it and process it."""
    from unseen.core.settings import Settings
    from unseen.demo.case import build_demo_case
    from unseen.engine.runner import process_case

    try:
        case, built = build_demo_case(directory)
    except UnseenError as exc:
        raise fail(exc) from exc
    say(f"built the demo: {built}")
    _log_to(case)
    with RichProgress(console) as progress:
        # The demo case names its own library in case.toml.
        settings = Settings.from_case(case.root)
        summary = process_case(case, workers=workers, settings=settings, progress=progress)
    _print_stages(summary.stages)
    _print_status(case)
    say(f"case folder: {case.root}; try: unseen leads {case.root}")
    if serve:
        serve_demo(case)


app.command()(leads)
app.command()(search)
app.command()(match)
app.command()(people)
app.command()(messages)
app.add_typer(hashset_app, name="hashset")
app.add_typer(keys_app, name="keys")
app.callback()(private_by_default)
app.add_typer(intel_app, name="intel")
app.add_typer(exchange_app, name="exchange")
app.command()(serve)
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.command()(verify)
app.command()(validate)


def main() -> None:
    """The ``unseen`` command: ``app``, then a quick exit.

    With a thousand modules loaded, tearing the interpreter down took a quarter of a
    second after every command, after its output, for nothing a command leaves
    behind: its databases are closed, the exit handlers run (logging, temporary
    files, process pools) and the output is flushed first. With a thread still
    running, or an exit message to print, the ordinary exit is taken instead.
    """
    try:
        app()
    except SystemExit as done:
        code = done.code
    else:
        code = 0
    if not (code is None or isinstance(code, int)) or threading.active_count() > 1:
        sys.exit(code)
    close_all()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
