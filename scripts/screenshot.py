"""Screenshot a review page in headless Chromium, as the default (blurred) view shows it.

Used for the README picture of the grid::

    unseen demo --dir /tmp/demo --no-serve
    python scripts/screenshot.py /tmp/demo/case docs/screenshot-grid.png

It adds a reviewer account (``reviewer``) to the case (recorded in the audit
log like any account), serves the case on a free localhost port, logs in and takes
the picture. Needs Playwright (the ``test`` extra) and Debian's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import uvicorn
from PIL import Image

from unseen.core.errors import UserError
from unseen.review.app import create_app
from unseen.review.auth import create_account, generate_password
from unseen.store.case import Case, current_user

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def screenshot(case_dir: Path, output: Path, path: str = "/grid", width: int = 1400) -> None:
    """Log in as a fresh reviewer and save a picture of ``path`` to ``output``."""
    from playwright.sync_api import sync_playwright

    case = Case.open(case_dir)
    password = generate_password()
    actor, name = f"cli:{current_user()}", "reviewer"  # the log names whoever ran it
    try:
        create_account(case, actor, name, "reviewer", password, current_user())
    except UserError:  # taken: a unique name instead
        name = f"reviewer-{int(time.time())}"
        create_account(case, actor, name, "reviewer", password, current_user())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(case), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"{base}/login")
            page.fill("#name", name)
            page.fill("#password", password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(output))
            browser.close()
        # 256 colours are plenty for blurred greyscale tiles and keep the file small.
        with Image.open(output) as shot:
            shot.convert("RGB").quantize(256).save(output, optimize=True)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        case.close()


def main(argv: list[str]) -> int:
    """``screenshot CASE_DIR OUTPUT.png [PATH]``."""
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    screenshot(Path(argv[0]), Path(argv[1]), argv[2] if len(argv) == 3 else "/grid")
    print(f"wrote {argv[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
