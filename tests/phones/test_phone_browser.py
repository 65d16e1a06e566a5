"""The conversation view in a real headless Chromium: attachment tiles are blurred and
greyscale, and the grid's keyboard categorising works on them."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright import sync_api

from review.helpers import PASSWORD, make_users
from review.test_e2e import ARGS, BLURRED, CHROMIUM, free_port
from unseen.review.app import create_app
from unseen.store.case import Case

from .builders import SAM
from .test_phone_pipeline import Built, built  # noqa: F401  (the module's case fixture)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")


@pytest.fixture(scope="module")
def served(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:  # noqa: F811
    root = tmp_path_factory.mktemp("phones-e2e") / "case"
    shutil.copytree(built.case.root, root)
    case = Case.open(root)
    make_users(case)
    case.close()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(Case.open(root)), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    (root / "url").write_text(f"http://127.0.0.1:{port}")
    yield root
    server.should_exit = True
    thread.join(timeout=10)


def test_keyboard_categorising_in_a_conversation(served: Path) -> None:
    base = (served / "url").read_text()
    with sqlite3.connect(served / "case.db") as db:
        chat = db.execute("SELECT id FROM msg_conversations WHERE key = ?", (SAM,)).fetchone()[0]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page: Any = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{base}/login")
        page.fill("#name", "rob")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/conversations/{chat}")
        sync_api.expect(page.locator(".thread .tile img")).to_have_count(2)
        first = page.get_attribute(".thread .tile", "data-id")
        blurred = page.eval_on_selector(".thread .tile img", "el => getComputedStyle(el).filter")
        keys = json.loads(page.get_attribute("#grid", "data-keys"))
        with page.expect_response(lambda r: "/api/categorise" in r.url) as response:
            page.keyboard.press("1")
        assert response.value.ok
        sync_api.expect(page.locator(f'.tile[data-id="{first}"] .badge.rev')).to_have_text(
            keys["1"]
        )
        browser.close()
    assert blurred == BLURRED
    with sqlite3.connect(served / "case.db") as db:
        decided = dict(db.execute("SELECT item_id, category FROM review_state"))
    assert decided == {int(first): keys["1"]}
