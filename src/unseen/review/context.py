"""What every request handler needs: the case, its engines, settings and the session."""

from __future__ import annotations

import fcntl
import os
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
from unseen.review.grants import Grants
from unseen.review.grid import Totals
from unseen.review.rescoring import Rescorer
from unseen.store.privacy import FILE_MODE


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
    tokens: Grants  # full-size media
    thumb_grants: Grants  # clear thumbnails
    verified: Verified
    # The case's own settings (case.toml): its PDQ radius for similar pictures.
    settings: Settings
    # The grid's counts of matching items, kept while the case is unchanged.
    totals: Totals = field(default_factory=Totals)
    write_lock: WriteLock = field(default_factory=lambda: WriteLock(None))
    rescorer: Rescorer = field(init=False)

    def __post_init__(self) -> None:
        self.rescorer = Rescorer(self.write, self.read)

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
        """A write transaction holding the write lock from its start; commits on exit."""
        with self.write_lock.held(), self.write_engine.begin() as conn:
            yield conn


WRITE_LOCK = "review.lock"  # in the case folder, beside the database


class WriteLock:
    """The server's writers in turn, woken the moment the writer before them is done.

    SQLite's busy handler makes a waiting writer sleep in steps of up to 100 ms, so
    the server's own writers queue on locks instead: one in this process, and for an
    SQLite case a lock file beside the database that every server process of the case
    shares (``unseen serve --processes``). Other writers (a fast pass running beside
    the server) still meet SQLite's own lock.
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._fd: int | None = None
        self._lock = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._path is None:
                yield
                return
            if self._fd is None:  # opened in the process that uses it
                flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
                self._fd = os.open(self._path, flags, FILE_MODE)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


def app_context(request: Request) -> AppContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, AppContext)
    return ctx


def current_session(request: Request) -> Session:
    """The session the route guard put on the request (guarded routes only)."""
    session = getattr(request.state, "session", None)
    assert isinstance(session, Session), "route is not guarded"
    return session
