"""Log in and out. Both outcomes of a login are written to the audit log.

The login form is protected against cross-site submission by a double-submit token:
a random value in a SameSite=Strict cookie that the form must echo.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from unseen.review import audit, auth
from unseen.review.context import app_context, current_session
from unseen.review.security import check_origin, load_session, safe_next, set_cookie
from unseen.review.views.common import render

LOGIN_COOKIE_SUFFIX = "_login"


def login_page(request: Request, next: str = "/", timeout: str = "") -> Response:
    """The login form (or straight on, when the session is still live)."""
    ctx = app_context(request)
    session, _ = load_session(ctx, request.cookies.get(ctx.cookie))
    if session is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(
        request, next, "your session ended after a period of inactivity" if timeout else ""
    )


def _form(request: Request, next: str, error: str, status_code: int = 200) -> Response:
    ctx = app_context(request)
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        None,
        status_code=status_code,
        login_token=token,
        next=safe_next(next),
        error=error,
    )
    set_cookie(response, ctx.cookie + LOGIN_COOKIE_SUFFIX, token, ctx.config.secure_cookies)
    return response


def login_submit(
    request: Request,
    name: Annotated[str, Form(max_length=256)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    """Check the password; start a session; audit the attempt either way."""
    ctx = app_context(request)
    check_origin(request)
    expected = request.cookies.get(ctx.cookie + LOGIN_COOKIE_SUFFIX, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        return _form(request, next, "the login form expired; please try again", 403)
    with ctx.read() as conn:
        user = auth.authenticate(conn, name, password)
    with ctx.write() as conn:
        if user is None:
            audit.append(conn, name[:128], "login_failed", "review server", {})
        else:
            token = auth.start_session(conn, user)
            audit.append(conn, user.name, "login", "review server", {"role": user.role})
    if user is None:
        return _form(request, next, "wrong name or password", 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, ctx.cookie, token, ctx.config.secure_cookies)
    response.delete_cookie(ctx.cookie + LOGIN_COOKIE_SUFFIX, path="/")
    return response


def logout(request: Request) -> Response:
    ctx, session = app_context(request), current_session(request)
    with ctx.write() as conn:
        auth.end_session(conn, session.id)
        audit.append(conn, session.user.name, "logout", "review server", {})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(ctx.cookie, path="/")
    return response
