"""Run the review server (uvicorn) for one case, in one process or several."""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from unseen.core.errors import UserError
from unseen.review.app import create_app
from unseen.review.config import ReviewConfig
from unseen.store.case import Case

log = logging.getLogger(__name__)

# A process that ends this soon after starting, more times in a row than this, is not
# restarted again: it cannot start (say, the case cannot be opened).
YOUNG_S = 10.0
MAX_QUICK_RESTARTS = 5

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

    With ``processes`` > 1 this spawns that many server processes on one port:
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
    _supervise(_listening_sockets(host, port, processes))


def _listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """One listening socket per server process, all on one port (SO_REUSEPORT).

    Why not uvicorn's ``workers``: its processes share one socket and the first to
    call accept takes the connection, so 20 browsers' keep-alive connections were
    measured landing all on one process while the other idled (half the throughput
    in one run of two). With a socket each, the kernel deals new connections across
    them by a hash of the client's address and port. Bound here, in the parent, so
    a port already in use is an error at once, and a restarted process takes over
    its predecessor's queue.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]  # port 0: the others join the one it got
            sock.listen(2048)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _supervise(sockets: list[socket.socket]) -> None:
    """Run one server process per socket until told to stop; restart any that dies."""
    spawn = multiprocessing.get_context("spawn")
    children = [spawn.Process(target=_serve_socket, args=(sock,)) for sock in sockets]
    for child in children:
        child.start()
    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    started = [time.monotonic()] * len(children)
    quick = 0  # restarts in a row of processes that died young
    try:
        while not stopping.wait(0.5):
            for n, child in enumerate(children):
                if child.exitcode is None:
                    continue
                quick = quick + 1 if time.monotonic() - started[n] < YOUNG_S else 0
                if quick > MAX_QUICK_RESTARTS:
                    raise UserError(
                        f"the server processes keep ending within {YOUNG_S:g} s of "
                        f"starting (last exit {child.exitcode}): see the messages above"
                    )
                log.warning("server process %d ended (%s): restarting it", n, child.exitcode)
                children[n] = spawn.Process(target=_serve_socket, args=(sockets[n],))
                children[n].start()
                started[n] = time.monotonic()
    except KeyboardInterrupt:
        pass  # the terminal sent the interrupt to the whole group: children stop too
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(children)
        for sock in sockets:
            sock.close()


def _stop(children: Sequence[BaseProcess]) -> None:
    """Ask every server process to finish its requests and stop; kill any that hangs."""
    for child in children:
        if child.is_alive():
            child.terminate()
    for child in children:
        child.join(timeout=15)
        if child.is_alive():
            child.kill()
            child.join()


def _serve_socket(sock: socket.socket) -> None:
    """One spawned server process: the case's application on the socket it was given."""
    config = uvicorn.Config(
        f"{__name__}:app_from_environment",
        factory=True,
        access_log=False,
        log_level="warning",
    )
    uvicorn.Server(config).run(sockets=[sock])


def app_from_environment() -> FastAPI:
    """The application of one spawned server process, from what its parent set."""
    config = ReviewConfig(**json.loads(os.environ[CONFIG_ENV]))
    return create_app(Case.open(Path(os.environ[CASE_ENV])), config)
