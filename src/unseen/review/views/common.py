"""Rendering helpers shared by the page handlers."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from unseen.review.auth import Session
from unseen.review.context import AppContext, app_context


def render(
    request: Request,
    template: str,
    session: Session | None,
    status_code: int = 200,
    **data: Any,
) -> HTMLResponse:
    """A page from ``templates/`` with the context every page uses.

    Jinja2 escapes every value (autoescape): file names and paths are hostile text.
    """
    ctx = app_context(request)
    page = {
        "request_path": request.url.path,
        "case_name": ctx.case_name,
        "user": session.user if session else None,
        "csrf": session.csrf_token if session else "",
        "blur": session.user.blur_px if session else ctx.config.default_blur_px,
        "scheme": ctx.scheme,
        "config": ctx.config,
    }
    html = ctx.templates.get_template(template).render(**page, **data)
    return HTMLResponse(html, status_code=status_code)


def category_labels(ctx: AppContext) -> dict[str, str]:
    return {c.code: c.label for c in ctx.scheme.categories}
