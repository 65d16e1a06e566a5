"""The HTML pages. Each handler reads with one connection and renders one template."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from unseen.core import keys
from unseen.phones.conversations import item_conversations
from unseen.review import auth, explore, exposure, throttle
from unseen.review.context import app_context, current_session
from unseen.review.grid import GridFilter, GridQuery, case_version, fact_filters
from unseen.review.ids import PathId, QueryId
from unseen.review.itemview import item_detail, similar
from unseen.review.media import thumbnail_path
from unseen.review.views.common import category_labels, render
from unseen.store import audit
from unseen.store import schema as s

AUDIT_PAGE = 200
MAX_BLUR = 40


def dashboard(request: Request) -> Response:
    ctx = app_context(request)
    with ctx.read() as conn:
        stats = ctx.view.dashboard_at(conn, case_version(conn))
        sources = ctx.view.sources(conn)
    return render(
        request,
        "dashboard.html",
        current_session(request),
        stats=stats,
        sources=sources,
        labels=category_labels(ctx),
    )


def grid(request: Request, after: str = "", before: str = "") -> Response:
    ctx, session = app_context(request), current_session(request)
    flt = GridFilter.from_params(request.query_params)
    with ctx.read() as conn:
        query = GridQuery(ctx.view, conn, flt)
        page = query.page(ctx.config.page_size, after, before, ctx.totals)
    if flt.q and not (after or before):
        # A search shows what the case holds under a name someone chose: on the record
        # (once per search, not again for each further page of its results).
        with ctx.write() as conn:
            details = {"filter": flt.params(), "matches": page.total}
            audit.append(conn, session.user.name, "search", flt.q[:128], details)
    with ctx.read() as conn:
        sources = ctx.view.sources(conn)
        cluster = explore.cluster(conn, flt.cluster) if flt.cluster else None
    keys = {c.key: c.code for c in ctx.scheme.categories}
    return render(
        request,
        "grid.html",
        session,
        page=page,
        flt=flt,
        sources=sources,
        source_labels=dict(sources),
        cluster=cluster,
        keys=keys,
        labels=category_labels(ctx),
        filter_json=json.dumps(flt.params()),
        fact_filters=fact_filters(),
    )


def item_page(request: Request, item_id: PathId) -> Response:
    ctx = app_context(request)
    with ctx.read() as conn:
        detail = item_detail(ctx.view, conn, item_id)
        if detail is None:
            raise HTTPException(status_code=404, detail="no such item")
        near = similar(conn, item_id, ctx.settings.pdq_radius, ctx.config.similar_limit)
        has_thumb = thumbnail_path(conn, ctx.thumbs_dir, item_id) is not None
        phone = item_conversations(conn, item_id)
    keys = {c.key: c.code for c in ctx.scheme.categories}
    return render(
        request,
        "item.html",
        current_session(request),
        d=detail,
        has_thumb=has_thumb,
        similar=near,
        pdq_radius=ctx.settings.pdq_radius,
        phone=phone,
        keys=keys,
        labels=category_labels(ctx),
    )


def map_page(request: Request) -> Response:
    return render(request, "map.html", current_session(request))


def timeline(request: Request, after: str = "", before: str = "") -> Response:
    ctx = app_context(request)
    flt = GridFilter.from_params({**request.query_params, "sort": "time"})
    with ctx.read() as conn:
        unit, bars = explore.histogram(ctx.view, conn, GridFilter())
        lanes = explore.lanes(ctx.view, conn, unit, bars)
        page = GridQuery(ctx.view, conn, flt).page(ctx.config.page_size, after, before)
    return render(
        request,
        "timeline.html",
        current_session(request),
        unit=unit,
        bars=bars,
        lanes=lanes,
        page=page,
        flt=flt,
        labels=category_labels(ctx),
    )


def clusters_page(request: Request, kind: str = "") -> Response:
    ctx = app_context(request)
    rows: list[dict[str, Any]] = []
    kinds: list[tuple[str, int]] = []
    with ctx.read() as conn:
        kinds = explore.cluster_kinds(conn)
        rows = explore.clusters(conn, kind[:32])
    return render(
        request, "clusters.html", current_session(request), rows=rows, kinds=kinds, kind=kind
    )


def cluster_page(request: Request, cluster_id: PathId) -> Response:
    """A cluster is reviewed in the grid, filtered to its members."""
    return RedirectResponse(f"/grid?cluster={cluster_id}", status_code=303)


def audit_page(request: Request, before: QueryId = 0) -> Response:
    ctx = app_context(request)
    log = s.audit_log
    with ctx.read() as conn:
        # The signed heads kept outside the database too, as `unseen audit verify`
        # checks them: a chain cut short or rewritten whole is intact in itself.
        verdict = audit.verify(conn, None, audit.recorded_heads(conn), keys.own_public_keys())
        query = select(log).order_by(log.c.id.desc()).limit(AUDIT_PAGE)
        if before > 0:
            query = query.where(log.c.id < before)
        rows = [dict(r._mapping) for r in conn.execute(query)]
        total = conn.execute(select(func.count()).select_from(log)).scalar()
    return render(
        request,
        "audit.html",
        current_session(request),
        verdict=verdict,
        rows=rows,
        total=total,
        next_before=rows[-1]["id"] if len(rows) == AUDIT_PAGE else None,
    )


def users_page(request: Request) -> Response:
    ctx = app_context(request)
    with ctx.read() as conn:
        users = auth.list_users(conn)
        metered = exposure.by_user(conn)
        unknown = throttle.unknown_windows(conn)
    return render(
        request,
        "users.html",
        current_session(request),
        users=users,
        metered=metered,
        unknown=unknown,
        names_kept=throttle.NAMES_KEPT,
    )


def settings_page(request: Request, saved: str = "") -> Response:
    ctx, session = app_context(request), current_session(request)
    with ctx.read() as conn:
        totals = exposure.totals(conn, session.id)
    return render(
        request, "settings.html", session, totals=totals, saved=bool(saved), max_blur=MAX_BLUR
    )


def settings_submit(request: Request, blur: Annotated[int, Form(ge=0, le=MAX_BLUR)]) -> Response:
    """Save the user's own thumbnail blur (CSS pixels)."""
    ctx, session = app_context(request), current_session(request)
    with ctx.write() as conn:
        auth.set_blur(conn, session.user.id, blur)
    return RedirectResponse("/settings?saved=1", status_code=303)
