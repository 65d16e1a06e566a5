"""The review workbench on the phone case: conversations, a thread with its attachments
as blurred tiles (absent ones named), people and contact pages; every read audited,
evidence text escaped."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

from review.helpers import login, make_client, make_users
from unseen.store.case import Case

from .builders import SAM
from .test_phone_pipeline import Built, built  # noqa: F401  (the module's case fixture)

HOSTILE = '<script>alert("x")</script>'


def _copy(built: Built, tmp_path: Path) -> Path:  # noqa: F811
    target = tmp_path / "case"
    shutil.copytree(built.case.root, target)
    with sqlite3.connect(target / "case.db") as db:
        db.execute("UPDATE messages SET text = ? WHERE record_ref = 'message _id 1'", (HOSTILE,))
    case = Case.open(target)
    make_users(case)
    case.close()
    return target


def _chat_id(root: Path, key: str) -> int:
    with sqlite3.connect(root / "case.db") as db:
        return int(
            db.execute("SELECT id FROM msg_conversations WHERE key = ?", (key,)).fetchone()[0]
        )


def _actions(root: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(root / "case.db") as db:
        return [(a, t) for a, t in db.execute("SELECT action, target FROM audit_log ORDER BY id")]


def test_conversation_thread(built: Built, tmp_path: Path) -> None:  # noqa: F811
    root = _copy(built, tmp_path)
    chat = _chat_id(root, SAM)
    with make_client(root) as client:
        login(client, "rob")
        listing = client.get("/conversations")
        assert listing.status_code == 200
        assert f'<a href="/conversations/{chat}">chat with Sam Carter</a>' in listing.text
        assert "<td>Google Pixel 7</td><td>14</td>" in listing.text  # the device, from build.prop
        page = client.get(f"/conversations/{chat}")
    assert page.status_code == 200
    text = page.text
    assert HOSTILE not in text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    assert "the new raised beds" in text and "see you there" in text
    # Two attachments present as blurred tiles, in message order; the WAL-only message badged.
    tiles = re.findall(r'<figure class="tile" tabindex="-1" data-id="(\d+)"', text)
    assert len(tiles) == 2
    assert all(f'src="/thumb/{t}"' in text for t in tiles)
    assert text.count('class="badge wal"') == 1
    assert 'src="/static/js/grid.js"' in text and 'data-can-decide="yes"' in text
    assert ("read_conversation", f"conversation {chat}") in _actions(root)


def test_absent_attachment_is_named(built: Built, tmp_path: Path) -> None:  # noqa: F811
    root = _copy(built, tmp_path)
    with make_client(root) as client:
        login(client, "ron")
        page = client.get(f"/conversations/{_chat_id(root, '447700900222@s.whatsapp.net')}")
    assert "attachment not in the extraction" in page.text
    assert "IMG-20240301-WA0004.jpg" in page.text
    assert 'data-can-decide="no"' in page.text  # read-only reads, never decides


def test_people_and_contact_pages(built: Built, tmp_path: Path) -> None:  # noqa: F811
    root = _copy(built, tmp_path)
    with make_client(root) as client:
        login(client, "eve")
        people = client.get("/people")
        found = re.search(
            r'<a href="/contacts/(\d+)">Sam Carter \(447700900111@s.whatsapp.net\)</a>',
            people.text,
        )
        assert found, people.text
        assert "2 unknown picture(s) exchanged: 1 received, 1 sent" in people.text
        contact = client.get(f"/contacts/{found.group(1)}")
        missing = client.get("/conversations/999999")
    assert contact.status_code == 200
    assert len(re.findall(r'<figure class="tile"', contact.text)) == 2
    assert "chat with Sam Carter" in contact.text
    assert missing.status_code == 404
    actions = [a for a, _ in _actions(root)]
    assert actions.count("view_people") == 1 and actions.count("read_contact") == 1


def test_anonymous_is_sent_to_login(built: Built, tmp_path: Path) -> None:  # noqa: F811
    root = _copy(built, tmp_path)
    with make_client(root) as client:
        for path in ("/conversations", "/people", f"/conversations/{_chat_id(root, SAM)}"):
            assert client.get(path).status_code in (302, 303, 307)


def test_an_item_page_says_in_which_conversation_it_was_exchanged(
    built: Built,  # noqa: F811
    tmp_path: Path,
) -> None:
    root = _copy(built, tmp_path)
    chat = _chat_id(root, SAM)
    with sqlite3.connect(root / "case.db") as db:
        item = db.execute(
            "SELECT item_id FROM media_provenance WHERE conversation_id = ? ORDER BY id",
            (chat,),
        ).fetchone()[0]
    with make_client(root) as client:
        login(client, "rob")
        page = client.get(f"/item/{item}").text
    section = page[page.index('id="phone-provenance"') :]
    assert f'<a href="/conversations/{chat}' in section
    assert "chat with Sam Carter" in section
