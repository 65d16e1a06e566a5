"""The leads queue: ranked groups with strips of their pictures, ranked items, and
the reviewer's actions on them (look, categorise a whole group).

Viewing the queue is audited (it says which pictures matter most); so is every mark
and decision. Categorising a group decides its undecided unknown members only, and
only as many as the reviewer saw counted, so pictures that arrived since are never
swept in unseen.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from unseen.core.errors import UserError
from unseen.correlation import feedback
from unseen.review import decisions, explore, leadqueue
from unseen.review.context import app_context, current_session
from unseen.review.ids import MAX_ID, BodyId
from unseen.review.views.common import category_labels, render
from unseen.store import audit


class LookedBody(BaseModel):
    kind: str = Field(pattern="^(item|cluster)$")
    target: BodyId


class GroupBody(BaseModel):
    cluster: BodyId
    code: str = Field(max_length=32)
    expected: int = Field(ge=0, le=MAX_ID)


def leads_page(request: Request) -> Response:
    ctx, session = app_context(request), current_session(request)
    with ctx.read() as conn:
        items = explore.leads(conn, "item")
        groups = explore.leads(conn, "cluster")
        ids = [g["target_id"] for g in groups]
        strip, ranked = leadqueue.strips(conn, ids)
        undecided = leadqueue.undecided_counts(conn, ids)
        for g in groups:
            g["strip"] = strip.get(g["target_id"], [])
            g["undecided"] = undecided.get(g["target_id"], 0)
        leadqueue.looked(conn, session.user.name, "item", items)
        leadqueue.looked(conn, session.user.name, "cluster", groups)
        reranking = feedback.waiting(conn)
    if reranking:  # queued by another process (a correlation run beside the server)
        ctx.rescorer.wake()
    with ctx.write() as conn:  # the ranked list says which pictures matter most: audited
        details = {"items": len(items), "groups": len(groups)}
        audit.append(conn, session.user.name, "view_leads", "leads", details)
    ctx.rescorer.keep_again(ranked)  # their best pictures kept, for the next page
    keys = {c.key: c.code for c in ctx.scheme.categories}
    return render(
        request,
        "leads.html",
        session,
        items=items,
        groups=groups,
        labels=category_labels(ctx),
        keys=keys,
        reranking=reranking,
    )


def looked(request: Request, body: LookedBody) -> dict[str, Any]:
    ctx, session = app_context(request), current_session(request)
    with ctx.write() as conn:
        if not leadqueue.mark_looked(conn, session.user.name, body.kind, body.target):
            raise HTTPException(status_code=404, detail=f"no {body.kind} lead {body.target}")
    return {"ok": True}


def categorise_group(request: Request, body: GroupBody) -> dict[str, Any]:
    ctx, session = app_context(request), current_session(request)
    try:
        with ctx.write() as conn:
            ids = leadqueue.undecided_unknown(conn, body.cluster)
            if len(ids) != body.expected:
                raise HTTPException(
                    status_code=409,
                    detail=f"the group now has {len(ids)} undecided pictures, not {body.expected}",
                )
            outcome = decisions.categorise(conn, ctx.scheme, session.user.name, ids, body.code)
    except UserError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    ctx.rescorer.wake()
    return {"batch": outcome.batch_id, "count": len(outcome.categories)}
