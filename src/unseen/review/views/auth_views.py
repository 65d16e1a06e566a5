"""Log in and out. Both outcomes of a login are written to the audit log.

The login form is protected against cross-site submission by a double-submit token:
a random value in a SameSite=Strict cookie that the form must echo.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from unseen.review import auth, throttle
from unseen.review.config import ReviewConfig
from unseen.review.context import app_context, current_session
from unseen.review.security import check_origin, load_session, safe_next, set_cookie
from unseen.review.views.common import render
from unseen.store import audit

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
    address = request.client.host if request.client else "unknown"
    keys = [throttle.user_key(name), throttle.addr_key(address)]
    with ctx.read() as conn:
        block = throttle.blocked(conn, keys, ctx.config)
        if block is None:
            user = auth.authenticate(conn, name, password)
            known = user is not None or auth.user_exists(conn, name)
    if block is not None:  # refused unchecked, so a guesser learns nothing more
        return _form(request, next, _blocked_message(block), 429)
    with ctx.write() as conn:
        if user is not None:
            token = auth.start_session(conn, user)
            audit.append(conn, user.name, "login", "review server", {"role": user.role})
            throttle.clear(conn, *keys)
        else:
            _failed(conn, ctx.config, name, address, known)
    if user is None:
        return _form(request, next, "wrong name or password", 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, ctx.cookie, token, ctx.config.secure_cookies)
    response.delete_cookie(ctx.cookie + LOGIN_COOKIE_SUFFIX, path="/")
    return response


def _failed(conn: Connection, config: ReviewConfig, name: str, address: str, known: bool) -> None:
    """Audit and count a failed login; unknown names are counted, not audited each."""
    if known:
        audit.append(conn, name, "login_failed", "review server", {"address": address})
        if throttle.record_failure(conn, throttle.user_key(name), config.login_lockout_after):
            details = {"failures": config.login_lockout_after, "address": address}
            audit.append(conn, name, "login_locked", "review server", details)
    else:
        window = throttle.record_unknown(conn, name)
        if window is not None:
            details = {"window": window, "see": "users page, failed logins for unknown names"}
            audit.append(conn, "(unknown names)", "login_failed_unknown", window, details)
    throttle.record_failure(conn, throttle.addr_key(address))


def _blocked_message(block: throttle.Block) -> str:
    if block.locked:
        return (
            "this account is locked after too many failed logins; an administrator can unlock it"
        )
    return f"too many failed logins; try again in {block.wait_s} s"


def logout(request: Request) -> Response:
    ctx, session = app_context(request), current_session(request)
    with ctx.write() as conn:
        auth.end_session(conn, session.id)
        audit.append(conn, session.user.name, "logout", "review server", {})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(ctx.cookie, path="/")
    return response
