"""Build the review server's FastAPI application for one case."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined

from unseen.core.schemes import load_scheme
from unseen.review.config import ReviewConfig
from unseen.review.context import AppContext
from unseen.review.data import CaseView
from unseen.review.evidence import Verified
from unseen.review.media import MediaTokens
from unseen.review.routes import ROUTES, allowed, navigation
from unseen.review.security import (
    LoginRequired,
    SecurityHeaders,
    login_required_handler,
    make_guard,
)
from unseen.review.thumbs import ThumbGrants
from unseen.store.case import Case, write_engine

STATIC_DIR = Path(__file__).with_name("static")


def templates() -> Environment:
    """Jinja2 with autoescaping always on: every value is escaped unless marked safe."""
    env = Environment(
        loader=PackageLoader("unseen.review", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["basename"] = lambda path: str(path).rsplit("/", 1)[-1]
    env.filters["urlencode_dict"] = lambda params, **extra: urlencode({**params, **extra})
    return env


def create_app(case: Case, config: ReviewConfig | None = None) -> FastAPI:
    """The application: the routes of ``routes.ROUTES``, each guarded, plus static files.

    Interactive API docs are off: they would be unauthenticated routes that load
    scripts from a CDN.
    """
    config = config or ReviewConfig()
    scheme = load_scheme(case.info.get("scheme", "uk"))
    ctx = AppContext(
        case_name=case.info.get("name", case.root.name),
        case_uuid=case.info.get("uuid", ""),
        thumbs_dir=case.thumbs_dir,
        read_engine=case.engine,
        write_engine=write_engine(str(case.engine.url.render_as_string(hide_password=False))),
        config=config,
        scheme=scheme,
        view=CaseView(case.engine, scheme),
        templates=templates(),
        tokens=MediaTokens(config.media_token_s),
        thumb_grants=ThumbGrants(config.thumb_token_s, config.thumb_reveals_per_minute),
        verified=Verified(),
        allowed=allowed,
        navigation=navigation,
    )
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, title="unseen review")
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
    app.add_middleware(SecurityHeaders)
    return app
