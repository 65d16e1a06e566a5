"""Authentication, authorisation, CSRF and security headers for every request.

Each route in the table gets a guard (a FastAPI dependency) that, before the
handler runs: finds the session from its cookie, ends it if it was idle too long,
checks the user's role against the route's roles, and for every POST compares the
CSRF token (``X-CSRF-Token`` header or ``csrf`` form field) with the session's.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unseen.review import auth
from unseen.review.context import AppContext, app_context

CSRF_HEADER = "x-csrf-token"
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """ASGI middleware: CSP (self only, no inline script or style) and friends on every
    response; nothing but static files may be cached (media never touch the disk cache)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"cache-control"]
                headers += HEADERS
                cache = b"private, max-age=3600" if static else b"no-store"
                headers.append((b"cache-control", cache))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LoginRequired(Exception):
    """No (live) session; pages redirect to the login form, everything else gets 401."""

    def __init__(self, redirect: bool, timed_out: bool = False) -> None:
        super().__init__("login required")
        self.redirect = redirect
        self.timed_out = timed_out


async def login_required_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    if exc.redirect:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        flag = "&timeout=1" if exc.timed_out else ""
        return RedirectResponse(f"/login?next={quote(target, safe='')}{flag}", status_code=303)
    return JSONResponse({"detail": "login required"}, status_code=401)


BUSY = (
    "The case database is busy: processing is writing its results (a correlation run "
    "writes for minutes on a big case). Nothing was recorded; try again in a minute."
)


async def database_busy_handler(request: Request, exc: Exception) -> Response:
    """A write that waited out SQLite's busy timeout behind another process's long
    transaction: answered as busy (503, nothing recorded), not as a server fault.
    Any other database error is one, and is raised on."""
    assert isinstance(exc, OperationalError)
    if "database is locked" not in str(exc.orig):
        raise exc
    headers = {"Retry-After": "60"}
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": BUSY}, status_code=503, headers=headers)
    return HTMLResponse(f"<!doctype html><title>Busy</title><p>{BUSY}</p>", 503, headers)


def load_session(ctx: AppContext, token: str | None) -> tuple[auth.Session | None, bool]:
    """The live session for a cookie token, and whether one just timed out."""
    if not token:
        return None, False
    with ctx.read() as conn:
        session = auth.find_session(conn, token)
    if session is None:
        return None, False
    idle = time.time() - session.last_seen
    if idle > ctx.config.idle_timeout_s:
        with ctx.write() as conn:
            auth.end_session(conn, session.id)
        return None, True
    if idle > ctx.config.touch_interval_s:
        with ctx.write() as conn:
            auth.touch_session(conn, session.id)
    return session, False


def make_guard(
    roles: frozenset[str], method: str, kind: str
) -> Callable[[Request], Awaitable[None]]:
    """The dependency that authorises one route before its handler runs."""

    async def guard(request: Request) -> None:
        ctx = app_context(request)
        token = request.cookies.get(ctx.cookie)
        session, timed_out = await run_in_threadpool(load_session, ctx, token)
        if session is None:
            raise LoginRequired(redirect=kind == "page" and method == "GET", timed_out=timed_out)
        if session.user.role not in roles:
            raise HTTPException(status_code=403, detail="your role may not do this")
        if method != "GET":
            check_origin(request)
            sent = request.headers.get(CSRF_HEADER) or await _form_token(request)
            if not sent or not secrets.compare_digest(sent, session.csrf_token):
                raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
        request.state.session = session

    return guard


async def _form_token(request: Request) -> str:
    if not request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        return ""
    form = await request.form()
    value = form.get("csrf")
    return value if isinstance(value, str) else ""


def check_origin(request: Request) -> None:
    """Refuse state changes a browser says came from another site (beside the token)."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
        if origin != expected:
            raise HTTPException(status_code=403, detail="cross-site request refused")


def set_cookie(response: Response, name: str, value: str, secure: bool, **extra: Any) -> None:
    """An HttpOnly, SameSite=Strict cookie (Secure when served over HTTPS)."""
    response.set_cookie(
        name, value, httponly=True, samesite="strict", secure=secure, path="/", **extra
    )


def safe_next(target: str | None) -> str:
    """A post-login redirect target that stays on this server."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
