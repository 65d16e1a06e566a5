"""JSON endpoints the pages' scripts call: categorise, undo, exposure, progress, map."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from unseen.core.errors import UserError
from unseen.review import decisions, explore
from unseen.review import exposure as metering
from unseen.review.context import AppContext, app_context, current_session
from unseen.review.grid import GridFilter, GridQuery
from unseen.review.ids import MAX_ID, BodyId
from unseen.store import schema as s

MAX_ITEMS = 100_000  # items in one explicit selection


class CategoriseBody(BaseModel):
    items: list[BodyId] = Field(min_length=1, max_length=MAX_ITEMS)
    code: str = Field(max_length=32)


class FilterBody(BaseModel):
    """Categorise every item a grid filter matches; ``expected`` is the count the
    reviewer confirmed, so items that arrived since are never swept in unseen."""

    filter: dict[str, str]
    code: str = Field(max_length=32)
    expected: int = Field(ge=0, le=MAX_ID)


class ExposureBody(BaseModel):
    item: BodyId | None = None
    kind: str = Field(max_length=8)
    ms: int = Field(ge=0, le=MAX_ID)


def categorise(request: Request, body: CategoriseBody) -> dict[str, Any]:
    ctx, session = app_context(request), current_session(request)
    try:
        with ctx.write() as conn:
            outcome = decisions.categorise(
                conn, ctx.scheme, session.user.name, body.items, body.code
            )
            items = item_flags(ctx, conn, list(outcome.categories))
    except UserError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    ctx.rescorer.wake()
    return {"batch": outcome.batch_id, "count": len(outcome.categories), "items": items}


def categorise_filter(request: Request, body: FilterBody) -> dict[str, Any]:
    ctx, session = app_context(request), current_session(request)
    flt = GridFilter.from_params(body.filter)
    try:
        with ctx.write() as conn:
            ids = GridQuery(ctx.view, conn, flt).ids()
            if len(ids) != body.expected:
                raise HTTPException(
                    status_code=409,
                    detail=f"the filter now matches {len(ids)} items, not {body.expected}",
                )
            outcome = decisions.categorise(conn, ctx.scheme, session.user.name, ids, body.code)
    except UserError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    ctx.rescorer.wake()
    return {"batch": outcome.batch_id, "count": len(outcome.categories)}


def undo(request: Request) -> dict[str, Any]:
    ctx, session = app_context(request), current_session(request)
    with ctx.write() as conn:
        outcome = decisions.undo_last(conn, session.user.name)
        items = item_flags(ctx, conn, list(outcome.categories))
    ctx.rescorer.wake()
    return {"batch": outcome.batch_id, "count": len(outcome.categories), "items": items}


def item_flags(ctx: AppContext, conn: Connection, ids: list[int]) -> dict[str, dict[str, Any]]:
    """Each item's reviewer code and disagreement flag, as the grid shows them."""
    if not ids:
        return {}
    i, r = s.items, s.review_state
    columns: list[Any] = [i.c.id, r.c.category, ctx.view.disagree().label("disagree")]
    flags: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(*columns)
            .select_from(ctx.view.joined())
            .where(i.c.id.in_(ids[start : start + 500]))
        )
        for x in rows:
            disagree = bool(x._mapping.get("disagree"))
            flags[str(x.id)] = {"rev": x.category, "disagree": disagree}
    return flags


def exposure(request: Request, body: ExposureBody) -> dict[str, Any]:
    """Meter one reveal; answer whether it is time to offer a break."""
    ctx, session = app_context(request), current_session(request)
    if body.kind not in metering.KINDS:
        raise HTTPException(status_code=400, detail="kind is thumb or full")
    with ctx.write() as conn:
        known = body.item is not None and decisions.existing_items(conn, [body.item])
        item = body.item if known else None
        metering.record(conn, session.id, session.user.name, item, body.kind, body.ms)
        totals = metering.totals(conn, session.id)
    return {
        "reveals": totals.reveals_since_break,
        "seconds": totals.ms_since_break // 1000,
        "break": totals.needs_break(ctx.config),
    }


def take_break(request: Request) -> dict[str, bool]:
    ctx, session = app_context(request), current_session(request)
    with ctx.write() as conn:
        metering.take_break(conn, session.id)
    return {"ok": True}


def progress(request: Request) -> dict[str, Any]:
    ctx = app_context(request)
    with ctx.read() as conn:
        return ctx.view.progress(conn)


def map_points(request: Request) -> dict[str, Any]:
    ctx = app_context(request)
    with ctx.read() as conn:
        return {"points": explore.map_points(ctx.view, conn)}
