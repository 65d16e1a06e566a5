"""``unseen search``: pictures by the text read in them, or by a face they show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from unseen.core.errors import UnseenError, UserError
from unseen.correlation.search import (
    SAME_PERSON,
    FaceHit,
    TextHit,
    search_faces,
    search_text,
)
from unseen.store.case import Case


def search(
    case_dir: Annotated[Path, typer.Argument(help="The case folder.")],
    text: Annotated[
        str | None, typer.Option(help="Words the picture's text holds (any case, any order).")
    ] = None,
    face: Annotated[
        int | None, typer.Option(help="Item id of a picture: find the faces it shows.")
    ] = None,
    face_id: Annotated[int | None, typer.Option(help="Id of one face to find.")] = None,
    threshold: Annotated[
        float, typer.Option(help="Largest face distance (dlib: under 0.6 is the same person).")
    ] = SAME_PERSON,
    limit: Annotated[int, typer.Option(help="How many hits at most.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Pictures whose text holds some words, or that show a face like a given one."""
    err = Console(stderr=True)
    text_hits: list[TextHit] = []
    face_hits: list[FaceHit] = []
    try:
        if sum(x is not None for x in (text, face, face_id)) != 1:
            raise UserError("give exactly one of --text, --face or --face-id")
        case = Case.open(case_dir)
        with case.engine.connect() as conn:
            if text is not None:
                text_hits = search_text(conn, text, limit)
            else:
                face_hits = search_faces(conn, face, face_id, threshold, limit)
    except UnseenError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(exc.exit_code) from exc
    if as_json:
        hits = [h.as_dict() for h in text_hits] + [h.as_dict() for h in face_hits]
        typer.echo(json.dumps(hits, indent=2))
    elif text_hits or face_hits:
        Console().print(_text_table(text_hits) if text_hits else _face_table(face_hits))
    else:
        Console().print("no hits")


def _text_table(hits: list[TextHit]) -> Table:
    table = Table(title=f"{len(hits)} pictures with the text")
    for column in ("item", "path", "text", "confidence"):
        table.add_column(column, overflow="fold")
    for h in hits:
        table.add_row(str(h.item_id), h.path, " / ".join(h.lines), f"{h.confidence:g}")
    return table


def _face_table(hits: list[FaceHit]) -> Table:
    table = Table(title=f"{len(hits)} faces like it (distance: under 0.6 is the same person)")
    for column in ("distance", "item", "path", "face", "box (x, y, w, h)"):
        table.add_column(column, overflow="fold")
    for h in hits:
        box = ", ".join(map(str, h.box))
        table.add_row(f"{h.distance:.3f}", str(h.item_id), h.path, str(h.face_id), box)
    return table
