"""What every request handler needs: the case, its engines, settings and the session."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from jinja2 import Environment
from sqlalchemy import Connection, Engine

from unseen.core.schemes import Scheme
from unseen.core.settings import Settings
from unseen.review.auth import Session
from unseen.review.config import ReviewConfig
from unseen.review.data import CaseView
from unseen.review.evidence import Verified
from unseen.review.grid import Totals
from unseen.review.media import MediaTokens
from unseen.review.thumbs import ThumbGrants


@dataclass
class AppContext:
    """Built once by ``create_app``; shared by all requests (read-only after start)."""

    case_name: str
    case_uuid: str
    thumbs_dir: Path
    read_engine: Engine
    write_engine: Engine
    config: ReviewConfig
    scheme: Scheme
    view: CaseView
    templates: Environment
    tokens: MediaTokens
    thumb_grants: ThumbGrants
    verified: Verified
    # The case's own settings (case.toml): its PDQ radius for similar pictures.
    settings: Settings
    # The grid's counts of matching items, kept while the case is unchanged.
    totals: Totals = field(default_factory=Totals)
    write_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cookie(self) -> str:
        """The session cookie's name, per case (two servers on one host stay apart)."""
        return f"unseen_{self.case_uuid[:8]}"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for this request's reads (a consistent WAL snapshot per query)."""
        with self.read_engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction holding the write lock from its start; commits on exit.

        The server's own writers queue on a lock in this process first: a waiter is
        woken the moment the writer before it commits, where SQLite's busy handler
        would sleep in steps of up to 100 ms (only other processes meet that)."""
        with self.write_lock, self.write_engine.begin() as conn:
            yield conn


def app_context(request: Request) -> AppContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, AppContext)
    return ctx


def current_session(request: Request) -> Session:
    """The session the route guard put on the request (guarded routes only)."""
    session = getattr(request.state, "session", None)
    assert isinstance(session, Session), "route is not guarded"
    return session
