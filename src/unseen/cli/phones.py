"""``unseen people`` and ``unseen messages``: the contacts a phone exchanged pictures
with, ranked with reasons; the conversations, and messages found by their text.

Message text is evidence (hostile, and sensitive): it is printed through Rich with
escaping, and every listing or search of messages is written to the case's audit log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from unseen.cli.common import fail, say
from unseen.core.errors import UnseenError
from unseen.phones.conversations import conversation_rows, message_rows
from unseen.phones.people import rank_people
from unseen.phones.search import search_ids
from unseen.store.case import Case, current_user

CaseDir = Annotated[Path, typer.Argument(help="The case folder.")]


def people(
    case_dir: CaseDir,
    top: Annotated[int, typer.Option(help="How many people at most.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Contacts ranked by the unknown pictures exchanged with them and their
    first-generation indicators, with the reasons."""
    try:
        case = Case.open(case_dir)
        with case.engine.connect() as conn:
            ranked = rank_people(conn)[:top]
    except UnseenError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps([_person(n, p) for n, p in enumerate(ranked, 1)], indent=2))
        return
    table = Table("rank", "score", "app", "contact", "unknown", "known", "reasons")
    for n, p in enumerate(ranked, 1):
        table.add_row(
            str(n),
            f"{p.score:.2f}",
            escape(p.app),
            escape(p.label),
            str(len(p.unknown)),
            str(len(p.known)),
            escape("; ".join(p.reasons)),
        )
    Console().print(table)


def _person(rank: int, p: Any) -> dict[str, Any]:
    return {
        "rank": rank,
        "score": p.score,
        "app": p.app,
        "contact": p.label,
        "key": p.key,
        "unknown_items": sorted(p.unknown),
        "known_items": sorted(p.known),
        "received_items": sorted(p.received),
        "sent_items": sorted(p.sent),
        "conversations": sorted(p.conversations),
        "reasons": p.reasons,
    }


def messages(
    case_dir: CaseDir,
    search: Annotated[
        str | None, typer.Option(help="Words the message text holds (any order).")
    ] = None,
    conversation: Annotated[int | None, typer.Option(help="Conversation id: its thread.")] = None,
    limit: Annotated[int, typer.Option(help="How many messages at most.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List conversations; with --search or --conversation, the messages (audited)."""
    try:
        case = Case.open(case_dir)
        with case.engine.connect() as conn:
            if search is None and conversation is None:
                rows = conversation_rows(conn)
            else:
                ids = search_ids(conn, search, limit) if search else None
                rows = message_rows(conn, ids=ids, conversation=conversation, limit=limit)
        if search is not None or conversation is not None:
            _audit(case, search, conversation, len(rows))
    except UnseenError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        say("nothing found", stdout=True)
        return
    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*(escape("" if v is None else str(v)) for v in row.values()))
    Console().print(table)


def _audit(case: Case, search: str | None, conversation: int | None, count: int) -> None:
    """Reading messages is an audited action, from the command line as in the browser."""
    from unseen.store import audit

    details = {"search": search, "conversation": conversation, "messages": count}
    audit.append_alone(
        case, f"cli:{current_user()}", "messages.read", f"{count} messages", details
    )
