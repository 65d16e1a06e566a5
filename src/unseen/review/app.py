"""Build the review server's FastAPI application for one case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment
from sqlalchemy.exc import OperationalError

from unseen import plugins
from unseen.core.schemes import load_scheme
from unseen.core.settings import Settings
from unseen.core.templates import environment
from unseen.review.config import ReviewConfig
from unseen.review.context import WRITE_LOCK, AppContext, WriteLock
from unseen.review.data import CaseView
from unseen.review.evidence import Verified
from unseen.review.grants import Grants, review_key
from unseen.review.itemview import warm
from unseen.review.routes import ROUTES, allowed, navigation
from unseen.review.security import (
    LoginRequired,
    SecurityHeaders,
    database_busy_handler,
    login_required_handler,
    make_guard,
)
from unseen.store.case import Case, write_engine

STATIC_DIR = Path(__file__).with_name("static")


def templates() -> Environment:
    """The pages' templates (autoescaping: file names and paths are hostile text), with
    the route table's ``navigation(role)`` and ``allowed(role, name)`` as globals: they
    never change while the server runs, and the views need not import the table that
    imports them."""
    return environment("unseen.review", names={"navigation": navigation, "allowed": allowed})


def create_app(case: Case, config: ReviewConfig | None = None) -> FastAPI:
    """The application: the routes of ``routes.ROUTES``, each guarded, plus static files.

    Interactive API docs are off: they would be unauthenticated routes that load
    scripts from a CDN.
    """
    config = config or ReviewConfig()
    scheme = load_scheme(case.info.get("scheme", "uk"))
    key = review_key(case.root)
    ctx = AppContext(
        case_name=case.info.get("name", case.root.name),
        case_uuid=case.info.get("uuid", ""),
        thumbs_dir=case.thumbs_dir,
        read_engine=case.engine,
        write_engine=write_engine(str(case.engine.url.render_as_string(hide_password=False))),
        config=config,
        scheme=scheme,
        view=CaseView(scheme),
        templates=templates(),
        tokens=Grants(key, "full", config.media_token_s),
        thumb_grants=Grants(key, "thumb", config.thumb_token_s),
        verified=Verified(),
        settings=Settings.from_case(case.root),
        write_lock=WriteLock(case.root / WRITE_LOCK if case.db_path else None),
    )
    app = FastAPI(
        docs_url=None, redoc_url=None, openapi_url=None, title="unseen review", lifespan=_ready
    )
    app.state.ctx = ctx
    for route in ROUTES:
        dependencies = (
            [] if route.public else [Depends(make_guard(route.roles, route.method, route.kind))]
        )
        app.add_api_route(
            route.path,
            route.endpoint,
            methods=[route.method],
            name=route.name,
            dependencies=dependencies,
            include_in_schema=False,
        )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(LoginRequired, login_required_handler)
    app.add_exception_handler(OperationalError, database_busy_handler)
    app.add_middleware(SecurityHeaders)
    return app


@asynccontextmanager
async def _ready(app: FastAPI) -> AsyncIterator[None]:
    """Load what the first requests would otherwise each load at once (the plugins'
    hooks, the case's picture hashes) before the server takes its first request."""
    ctx = app.state.ctx
    assert isinstance(ctx, AppContext)
    plugins.load()
    with ctx.read() as conn:
        warm(conn)
    ctx.rescorer.wake()  # decisions a stopped server left queued
    yield
