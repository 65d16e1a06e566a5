"""The leads queue in a real headless Chromium: a group's strip is blurred until held,
a whole group is categorised with one key and the queue re-ranks, and a "looked at"
mark survives a reload."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright import sync_api

from unseen.core.settings import Settings
from unseen.demo import scenarios
from unseen.engine.runner import process_case
from unseen.review.app import create_app
from unseen.store import repo
from unseen.store.case import Case

from .helpers import make_users
from .test_e2e import BLURRED, CHROMIUM, browser, free_port, image_filter, log_in

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
ROOM_CAMERA = "NIKON CORPORATION NIKON D5600 serial 999"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("leads-e2e")
    scenarios.build_with_library(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UNSEEN_HOME", str(root / "home"))
        case = Case.create(root / "case")
        repo.add_source(case, "folder", str(root / "ev"), "EV1", "test")
        process_case(case, workers=0, settings=Settings(skip=("deep", "internet")))
    make_users(case)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(case), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", root / "case"
    server.should_exit = True
    thread.join(timeout=10)


def decided(case_dir: Path) -> dict[str, str]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return dict(
            db.execute(
                "SELECT i.path, r.category FROM review_state r JOIN items i ON i.id = r.item_id"
            )
        )


def test_work_the_leads_queue_from_the_keyboard(served: tuple[str, Path], browser: Any) -> None:
    base, case_dir = served
    page = log_in(browser, base, "rob")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/leads")
    first = page.locator(".lead-group").first
    assert first.locator(".label").inner_text() == ROOM_CAMERA
    strip = first.locator(".lead-strip .tile")
    assert strip.count() == 6
    tile = strip.first
    item = int(tile.get_attribute("data-id") or 0)
    assert image_filter(page, item) == BLURRED
    assert tile.locator("img").get_attribute("src") == f"/thumb/{item}"

    # Holding the mouse on a strip picture reveals it (an audited grant), then hides it.
    tile.locator("img").hover()
    page.mouse.down()
    sync_api.expect(tile.locator("img")).to_have_attribute("src", re.compile(r"\?t="))
    assert image_filter(page, item) == "none"
    with page.expect_response(lambda r: "/api/exposure" in r.url):
        page.mouse.up()
    assert image_filter(page, item) == BLURRED

    # "l" marks the focused group looked at; the mark survives a reload.
    first.focus()
    second = page.locator(".lead-group").nth(1)
    page.keyboard.press("j")
    label = second.locator(".label").inner_text()
    with page.expect_response(lambda r: "/api/leads/looked" in r.url):
        page.keyboard.press("l")
    page.reload()
    again = page.locator(".lead-group", has_text=label).first
    assert "looked" in (again.get_attribute("class") or "")
    assert again.locator(".chip.seen").count() == 1

    # "1" categorises the first group's 16 undecided pictures A and re-ranks the queue.
    page.keyboard.press("j")
    focused = page.evaluate("() => document.activeElement.querySelector('.label').innerText")
    assert focused == ROOM_CAMERA
    with page.expect_navigation():
        page.keyboard.press("1")
    grades = decided(case_dir)
    room = {p for p in scenarios.build(case_dir.parent / "again").of_role("associated")}
    assert {p: grades.get(p) for p in room} == dict.fromkeys(room, "A")
    assert page.locator(".lead-group .label", has_text=ROOM_CAMERA).count() == 0
    assert not problems, problems
