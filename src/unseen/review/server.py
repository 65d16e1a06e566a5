"""Run the review server (uvicorn) for one case, in one process or several."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from unseen.review.app import create_app
from unseen.review.config import ReviewConfig
from unseen.store.case import Case

log = logging.getLogger(__name__)

# What the parent tells each server process it spawns (``--processes``).
CASE_ENV = "UNSEEN_SERVE_CASE"
CONFIG_ENV = "UNSEEN_SERVE_CONFIG"


def url_for(host: str, port: int) -> str:
    """The address a browser opens for ``host`` and ``port``."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    case: Case,
    host: str = "127.0.0.1",
    port: int = 8080,
    config: ReviewConfig | None = None,
    processes: int = 1,
) -> None:
    """Serve until interrupted. No access log: URLs are item ids, but a log of what was
    looked at, when, belongs in the audit log and the exposure meter, not in a text file.

    With ``processes`` > 1 uvicorn spawns that many server processes on one socket:
    Python runs one request's work at a time per process, so a busy team server uses
    more than one core this way. Nothing a request needs lives only in one process's
    memory (sessions, grants, the reveal meter and the write lock are in the case).
    """
    if processes <= 1:
        app = create_app(case, config)
        uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, access_log=False, log_level="warning")
        ).run()
        return
    os.environ[CASE_ENV] = str(case.root)
    os.environ[CONFIG_ENV] = json.dumps(dataclasses.asdict(config or ReviewConfig()))
    case.close()
    target = f"{__name__}:app_from_environment"
    uvicorn.run(
        target,
        host=host,
        port=port,
        factory=True,
        workers=processes,
        access_log=False,
        log_level="warning",
    )


def app_from_environment() -> FastAPI:
    """The application of one spawned server process, from what its parent set."""
    config = ReviewConfig(**json.loads(os.environ[CONFIG_ENV]))
    return create_app(Case.open(Path(os.environ[CASE_ENV])), config)
