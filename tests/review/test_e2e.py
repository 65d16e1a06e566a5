"""End to end in a real headless Chromium (Debian's /usr/bin/chromium via Playwright).

A real uvicorn server on a free localhost port serves a copy of the processed test
case. A reviewer logs in, sees the thumbnails blurred and greyscale, reveals one by
holding "r" and another by holding the mouse, categorises with the keyboard,
bulk-categorises a selection and a whole cluster, undoes, and an admin reads the
audit page.
"""

from __future__ import annotations

import re
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright import sync_api

from unseen.review.app import create_app
from unseen.store.case import Case

from .helpers import PASSWORD, copy_case, item_ids

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BLURRED = "blur(16px) grayscale(1)"
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(pristine_case: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A case copy with one cluster, served by uvicorn in a background thread."""
    case_dir = copy_case(pristine_case, tmp_path_factory.mktemp("e2e") / "case")
    ids = item_ids(case_dir)
    with sqlite3.connect(case_dir / "case.db") as db:
        cluster = db.execute(
            "INSERT INTO clusters (kind, key, label, confidence, size, details) "
            "VALUES ('scene', 'e2e', 'e2e scene', 0.9, 2, '{}')"
        ).lastrowid
        for path in ("downloads/pic_10.png", "downloads/pic_11.png"):
            db.execute(
                "INSERT INTO cluster_members VALUES (?, ?, 'same scene', 1.0)",
                (cluster, ids[path]),
            )
    port = free_port()
    config = uvicorn.Config(
        create_app(Case.open(case_dir)), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    (case_dir / "url").write_text(f"http://127.0.0.1:{port}")
    (case_dir / "cluster").write_text(str(cluster))
    yield case_dir
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


def log_in(browser: Any, base: str, name: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def image_filter(page: Any, item_id: int) -> str:
    return str(
        page.eval_on_selector(
            f'.tile[data-id="{item_id}"] img', "el => getComputedStyle(el).filter"
        )
    )


def shows_badges(page: Any, item_ids: list[int], codes: list[str]) -> None:
    """The page updates a badge after the server answers, so each is awaited (with
    Playwright's retrying check) rather than read once."""
    for item_id, code in zip(item_ids, codes, strict=True):
        sync_api.expect(page.locator(f'.tile[data-id="{item_id}"] .badge.rev')).to_have_text(code)


def focused_on(page: Any, item_id: int) -> None:
    sync_api.expect(page.locator(f'.tile[data-id="{item_id}"]')).to_be_focused()


def press(page: Any, key: str, api: str) -> Any:
    with page.expect_response(lambda r: api in r.url) as response:
        page.keyboard.press(key)
    return response.value


def state(case_dir: Path) -> dict[int, str]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return dict(db.execute("SELECT item_id, category FROM review_state"))


def test_review_in_a_real_browser(served: Path, browser: Any) -> None:
    base, ids = (served / "url").read_text(), item_ids(served)
    tiles = [ids[f"DCIM/100TEST/IMG_000{n}.JPG"] for n in range(1, 7)]
    page = log_in(browser, base, "rob")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/grid")
    # Waits use locators, never a JavaScript string: the page's CSP forbids eval, and
    # Playwright's string predicates are eval'd in the page.
    page.locator(".tile img").nth(13).wait_for()
    focused_on(page, tiles[0])

    # Blurred and greyscale by default; "r" reveals only the focused tile, while held.
    assert all(image_filter(page, i) == BLURRED for i in tiles)
    # The server sends them blurred too: holding fetches an audited grant, then the
    # clear thumbnail; releasing goes back to the server-blurred one.
    with page.expect_response(lambda r: "/api/reveal-thumbs" in r.url):
        page.keyboard.down("r")
    assert image_filter(page, tiles[0]) == "none"
    assert image_filter(page, tiles[1]) == BLURRED
    clear_src = f'.tile[data-id="{tiles[0]}"] img'
    sync_api.expect(page.locator(clear_src)).to_have_attribute("src", re.compile(r"\?t="))
    with page.expect_response(lambda r: "/api/exposure" in r.url):
        page.keyboard.up("r")
    assert image_filter(page, tiles[0]) == BLURRED
    assert page.get_attribute(clear_src, "src") == f"/thumb/{tiles[0]}"

    # Holding the mouse on a tile reveals it; releasing hides it again.
    page.hover(f'.tile[data-id="{tiles[5]}"] img')
    page.mouse.down()
    page.wait_for_timeout(500)
    assert image_filter(page, tiles[5]) == "none"
    with page.expect_response(lambda r: "/api/exposure" in r.url):
        page.mouse.up()
    assert image_filter(page, tiles[5]) == BLURRED

    # Keyboard: "1" grades the focused tile A and moves on.
    page.click(f'.tile[data-id="{tiles[0]}"]')
    assert press(page, "1", "/api/categorise").ok
    shows_badges(page, tiles[:1], ["A"])
    focused_on(page, tiles[1])

    # Space selects, shift+arrows extend: three tiles, then "2" grades all three B.
    page.keyboard.press(" ")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    sync_api.expect(page.locator("#selection-count")).to_have_text("3 selected")
    assert press(page, "2", "/api/categorise").ok
    shows_badges(page, tiles[:4], ["A", "B", "B", "B"])
    assert state(served) == {tiles[0]: "A", tiles[1]: "B", tiles[2]: "B", tiles[3]: "B"}

    # "u" undoes the last action (the bulk one) only.
    assert press(page, "u", "/api/undo").ok
    shows_badges(page, tiles[:4], ["A", "", "", ""])
    assert state(served) == {tiles[0]: "A"}

    # A whole cluster at once, from its grid view (after a confirmation).
    cluster = (served / "cluster").read_text()
    page.goto(f"{base}/grid?cluster={cluster}")
    page.select_option("#bulk-code", "C")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#bulk-filter")
    members = [ids["downloads/pic_10.png"], ids["downloads/pic_11.png"]]
    shows_badges(page, members, ["C", "C"])
    assert not problems, problems

    # The examiner's view of the audit log.
    audit = log_in(browser, base, "eve")
    audit.goto(f"{base}/audit")
    assert audit.text_content("#chain-ok") is not None
    rows = audit.eval_on_selector_all(
        "#audit-list tr",
        "rows => rows.slice(1).map(r => [r.cells[2].innerText, r.cells[3].innerText])",
    )
    assert rows[:8] == [
        ["eve", "login"],
        ["rob", "categorise"],
        ["rob", "undo"],
        ["rob", "categorise"],
        ["rob", "categorise"],
        ["rob", "reveal_thumbs"],
        ["rob", "reveal_thumbs"],
        ["rob", "login"],
    ]
    with sqlite3.connect(served / "case.db") as db:
        reveals = db.execute("SELECT user, item_id, kind FROM exposure ORDER BY id").fetchall()
    assert reveals == [("rob", tiles[0], "thumb"), ("rob", tiles[5], "thumb")]


def test_full_size_reveal_in_the_browser(served: Path, browser: Any) -> None:
    base, ids = (served / "url").read_text(), item_ids(served)
    item = ids["DCIM/100TEST/IMG_0003.JPG"]
    page = log_in(browser, base, "rob")
    page.goto(f"{base}/item/{item}")
    with page.expect_response(lambda r: f"/media/{item}" in r.url) as media:
        page.click("#reveal-full")
    assert media.value.status == 200
    page.locator("#media-frame img").evaluate("img => img.decode()")
    frame_filter = "el => getComputedStyle(el).filter"
    assert page.eval_on_selector("#media-frame img", frame_filter) == BLURRED
    page.keyboard.down("r")
    assert page.eval_on_selector("#media-frame img", frame_filter) == "none"
    with page.expect_response(lambda r: "/api/exposure" in r.url):
        page.keyboard.up("r")
    assert press(page, "3", "/api/categorise").ok
    sync_api.expect(page.locator("#rev-code")).to_have_text("C (just now)")
    with sqlite3.connect(served / "case.db") as db:
        last = db.execute(
            "SELECT user, action, target FROM audit_log WHERE action = 'reveal'"
        ).fetchall()
        full = db.execute("SELECT kind FROM exposure WHERE item_id = ?", (item,)).fetchall()
    assert last == [("rob", "reveal", f"item {item}")]
    assert full == [("full",)]


def test_a_new_filter_and_the_map_area_in_a_real_browser(served: Path, browser: Any) -> None:
    """The place filter typed into the grid's form shows exactly the pictures taken near
    Leeds; the map's "show in the grid" (no box drawn: the whole view) lists every
    picture with GPS."""
    base, ids = (served / "url").read_text(), item_ids(served)
    leeds = {ids["DCIM/100TEST/IMG_0001.JPG"], ids["DCIM/100TEST/IMG_0002.JPG"]}
    page = log_in(browser, base, "rob")
    page.goto(f"{base}/grid")
    page.fill('input[name="place"]', "leeds")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    shown = {
        int(x) for x in page.eval_on_selector_all(".tile", "els => els.map(e => e.dataset.id)")
    }
    assert "place=leeds" in page.url and shown == leeds
    page.goto(f"{base}/map")
    sync_api.expect(page.locator("#map-count")).not_to_have_text("")
    with page.expect_navigation():
        page.click("#map-to-grid")
    shown = {
        int(x) for x in page.eval_on_selector_all(".tile", "els => els.map(e => e.dataset.id)")
    }
    assert "area=" in page.url
    assert shown == leeds | {ids["DCIM/100TEST/IMG_0003.JPG"]}
