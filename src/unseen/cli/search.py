"""``unseen search``: pictures by the text read in them, by a face they show, or more
like a picture or a group (scene, face, camera, sensor, PDQ)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from unseen.cli.common import fail, say
from unseen.cli.review import record_view
from unseen.core.errors import UnseenError, UserError
from unseen.core.settings import Settings
from unseen.correlation.like import KINDS, LikeHit, cluster_members, more_like
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
    like: Annotated[
        int | None, typer.Option(help="Item id: the pictures most like it (more like this).")
    ] = None,
    like_cluster: Annotated[
        int | None, typer.Option(help="Cluster id: the pictures most like its members.")
    ] = None,
    by: Annotated[
        str, typer.Option(help=f"Likenesses to use with --like: {','.join(KINDS)}.")
    ] = ",".join(KINDS),
    threshold: Annotated[
        float, typer.Option(help="Largest face distance (dlib: under 0.6 is the same person).")
    ] = SAME_PERSON,
    limit: Annotated[int, typer.Option(help="How many hits at most.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Pictures whose text holds some words, that show a face like a given one, or that
    are most like a picture or a group."""
    text_hits: list[TextHit] = []
    face_hits: list[FaceHit] = []
    like_hits: list[LikeHit] = []
    try:
        if sum(x is not None for x in (text, face, face_id, like, like_cluster)) != 1:
            raise UserError(
                "give exactly one of --text, --face, --face-id, --like or --like-cluster"
            )
        kinds = [k.strip() for k in by.split(",") if k.strip()]
        if set(kinds) - set(KINDS):
            raise UserError(f"--by takes some of {','.join(KINDS)}")
        case = Case.open(case_dir)
        with case.engine.connect() as conn:
            if text is not None:
                text_hits = search_text(conn, text, limit)
            elif like is not None or like_cluster is not None:
                seeds = [like] if like is not None else cluster_members(conn, like_cluster or 0)
                settings = Settings.from_case(case.root)  # the case's own PDQ radius
                like_hits = more_like(conn, seeds, kinds, limit, settings)
            else:
                face_hits = search_faces(conn, face, face_id, threshold, limit)
        query = {"text": text, "face": face, "face_id": face_id, "like": like,
                 "like_cluster": like_cluster, "by": kinds}  # fmt: skip
        hits = len(text_hits) + len(face_hits) + len(like_hits)
        record_view(
            case, "search", "search", {k: v for k, v in query.items() if v} | {"hits": hits}
        )
    except UnseenError as exc:
        raise fail(exc) from exc
    found: list[TextHit | FaceHit | LikeHit] = [*text_hits, *face_hits, *like_hits]
    if as_json:
        typer.echo(json.dumps([h.as_dict() for h in found], indent=2))
    elif text_hits:
        Console().print(_text_table(text_hits))
    elif face_hits:
        Console().print(_face_table(face_hits))
    elif like_hits:
        Console().print(_like_table(like_hits))
    else:
        say("no hits", stdout=True)


def _text_table(hits: list[TextHit]) -> Table:
    table = Table(title=f"{len(hits)} pictures with the text")
    for column in ("item", "path", "text", "confidence"):
        table.add_column(column, overflow="fold")
    for h in hits:
        lines = escape(" / ".join(h.lines))
        table.add_row(str(h.item_id), escape(h.path), lines, f"{h.confidence:g}")
    return table


def _face_table(hits: list[FaceHit]) -> Table:
    table = Table(title=f"{len(hits)} faces like it (distance: under 0.6 is the same person)")
    for column in ("distance", "item", "path", "face", "box (x, y, w, h)"):
        table.add_column(column, overflow="fold")
    for h in hits:
        box = ", ".join(map(str, h.box))
        table.add_row(f"{h.distance:.3f}", str(h.item_id), escape(h.path), str(h.face_id), box)
    return table


def _like_table(hits: list[LikeHit]) -> Table:
    table = Table(title=f"{len(hits)} pictures most like it")
    for column in ("score", "item", "path", "why"):
        table.add_column(column, overflow="fold")
    for h in hits:
        why = escape("; ".join(h.why))
        table.add_row(f"{h.score:.2f}", str(h.item_id), escape(h.path), why)
    return table
