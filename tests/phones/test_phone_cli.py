"""``unseen people`` and ``unseen messages`` on the phone case: exact ranking and
reasons, text search through FTS5, conversation threads, and the audit entries."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from unseen.cli.main import app
from unseen.store import schema as s

from .builders import JO, SAM
from .test_phone_pipeline import Built, built  # noqa: F401  (the module's case fixture)

runner = CliRunner()


def _json(*args: str) -> object:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_people_ranked_with_reasons(built: Built) -> None:  # noqa: F811
    ranked = _json("people", str(built.case.root))
    assert [(p["rank"], p["contact"], len(p["unknown_items"])) for p in ranked] == [
        (1, f"Sam Carter ({SAM})", 2),
        (2, "+447700900333", 1),
    ]
    sam = ranked[0]
    assert sam["reasons"][0] == "2 unknown picture(s) exchanged: 1 received, 1 sent"
    assert sam["conversations"] == ["chat with Sam Carter"]
    assert sam["score"] >= 2


def test_message_search_uses_the_text_index(built: Built) -> None:  # noqa: F811
    rows = _json("messages", str(built.case.root), "--search", "SHED meeting")
    assert [(r["sender"], r["text"], r["time_utc"]) for r in rows] == [
        (f"Jo ({JO})", "meeting at six by the shed", "2024-03-01T11:04:00.000000Z")
    ]
    assert _json("messages", str(built.case.root), "--search", '"; DROP') == []


def _reads(built: Built) -> int:  # noqa: F811
    log = s.audit_log
    with built.case.engine.connect() as conn:
        actions = conn.execute(select(log.c.action)).scalars().all()
    return actions.count("messages.read")


def test_conversation_thread_and_audit(built: Built) -> None:  # noqa: F811
    before = _reads(built)
    chats = _json("messages", str(built.case.root))
    sam = next(c for c in chats if c["conversation"] == "chat with Sam Carter")
    assert (sam["app"], sam["messages"], sam["attachments"]) == ("WhatsApp", 4, 2)
    thread = _json("messages", str(built.case.root), "--conversation", str(sam["id"]))
    assert [(r["direction"], r["text"], r["from_wal"]) for r in thread] == [
        ("received", "hello, are you at the allotment?", False),
        ("sent", "the new raised beds", False),
        ("received", None, False),
        ("sent", "see you there", True),
    ]
    # Listing conversations is not reading them; the thread is.
    assert _reads(built) == before + 1
