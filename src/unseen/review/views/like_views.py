"""More like this: the case ranked by its likeness to one item or one group.

The thumbnails follow the grid's rules (blurred and greyscale until held, every
reveal metered and audited); opening the list is itself an audited act, as it shows
which pictures resemble a given one.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import Response

from unseen.correlation.like import KINDS, cluster_members, more_like
from unseen.review.context import app_context, current_session
from unseen.review.ids import QueryId
from unseen.review.views.common import render
from unseen.store import audit

LIMIT = 120


def like_page(request: Request, item: QueryId = 0, cluster: QueryId = 0, by: str = "") -> Response:
    ctx, session = app_context(request), current_session(request)
    kinds = [k for k in by.split(",") if k in KINDS] or list(KINDS)
    if (item > 0) == (cluster > 0):
        raise HTTPException(status_code=404, detail="give one item or one cluster")
    with ctx.read() as conn:
        seeds = [item] if item else cluster_members(conn, cluster)
        if not seeds:
            raise HTTPException(status_code=404, detail="no such cluster")
        hits = more_like(conn, seeds, kinds, LIMIT, ctx.settings)
    target = f"item {item}" if item else f"cluster {cluster}"
    with ctx.write() as conn:
        audit.append(
            conn, session.user.name, "more_like_this", target, {"by": kinds, "hits": len(hits)}
        )
    return render(
        request,
        "like.html",
        session,
        hits=hits,
        kinds=kinds,
        all_kinds=KINDS,
        item=item,
        cluster=cluster,
        target=target,
    )
