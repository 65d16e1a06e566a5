"""Run the review server (uvicorn) for one case."""

from __future__ import annotations

import logging

import uvicorn

from unseen.review.app import create_app
from unseen.review.config import ReviewConfig
from unseen.store.case import Case

log = logging.getLogger(__name__)


def url_for(host: str, port: int) -> str:
    """The address a browser opens for ``host`` and ``port``."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    case: Case, host: str = "127.0.0.1", port: int = 8080, config: ReviewConfig | None = None
) -> None:
    """Serve until interrupted. No access log: URLs are item ids, but a log of what was
    looked at, when, belongs in the audit log and the exposure meter, not in a text file."""
    app = create_app(case, config)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, access_log=False, log_level="warning")
    )
    server.run()
