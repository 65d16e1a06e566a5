"""The fast paths of reading and storing millions of messages give exactly what the
plain paths give: times, text that is not UTF-8, a large batch stored with its indexes
built after the rows."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.phones import search, store
from unseen.phones.appschemas import MSGSTORE_DDL
from unseen.phones.search import FTS_DDL, rebuild_index, search_ids
from unseen.phones.store import fast_utc
from unseen.phones.times import utc_of
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import T0_MS, whatsapp_android
from .test_phone_pipeline import SKIP, _attachments, _messages


def test_fast_utc_is_utc_of() -> None:
    edges = [1, -1, 999, -999, 1000, -86_400_001, T0_MS, 253_402_300_799_999,
             253_402_300_800_000, -62_135_596_800_000, -62_135_596_800_001, 10**17,
             -(10**17)]  # fmt: skip
    rng = random.Random(7)
    values = edges + [rng.randint(-(10**14), 10**14) for _ in range(20_000)]
    assert [fast_utc(v, "unix_ms") for v in values] == [utc_of(v, "unix_ms") for v in values]
    for odd in (0, None, 1.5, True, "x", float(T0_MS)):
        assert fast_utc(odd, "unix_ms") == utc_of(odd, "unix_ms")
    assert fast_utc(730_944_000, "mac_absolute_s") == "2024-03-01T00:00:00.000000Z"


def _case(tmp: Path, evidence: Path) -> Case:
    case = Case.create(tmp, name=tmp.name)
    repo.add_source(case, "folder", str(evidence), "ANDROID", "tester")
    process_case(case, workers=0, settings=Settings(skip=SKIP))
    return case


def test_text_that_is_not_utf8_is_kept_visible(tmp_path: Path) -> None:
    db = tmp_path / "android/data/data/com.whatsapp/databases/msgstore.db"
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.executescript(MSGSTORE_DDL)
    conn.execute(
        "INSERT INTO jid (_id, user, server, agent, device, type, raw_string)"
        " VALUES (1, '447700900111', 's.whatsapp.net', 0, 0, 0, '447700900111@s.whatsapp.net')"
    )
    conn.execute("INSERT INTO chat (_id, jid_row_id) VALUES (1, 1)")
    for mid, body in ((1, "x'6869207468657265'"), (2, "x'636166e920ff21'")):
        conn.execute(
            "INSERT INTO message (_id, chat_row_id, from_me, key_id, status, timestamp,"
            f" message_type, text_data, sort_id) VALUES ({mid}, 1, 0, 'K{mid}', 0,"
            f" {T0_MS + mid}, 0, CAST({body} AS TEXT), {mid})"
        )
    conn.commit()
    conn.close()
    case = _case(tmp_path / "case", tmp_path / "android")
    with case.engine.connect() as c:
        texts = c.execute(select(s.messages.c.text).order_by(s.messages.c.id)).scalars().all()
    assert texts == ["hi there", "caf\\xe9 \\xff!"]


def test_a_large_batch_stores_the_same_rows_and_keeps_its_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whatsapp_android(tmp_path / "android")
    plain = _case(tmp_path / "plain", tmp_path / "android")
    monkeypatch.setattr(store, "BULK_MESSAGES", 1)
    bulk = _case(tmp_path / "bulk", tmp_path / "android")
    assert _messages(bulk, "WhatsApp") == _messages(plain, "WhatsApp")
    assert _attachments(bulk) == _attachments(plain)
    with bulk.engine.connect() as c:
        names = c.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name IN ('messages', 'msg_attachments') ORDER BY name"
            )
        ).scalars()
        assert list(names) == [
            "ix_messages_conversation",
            "ix_messages_item",
            "ix_msg_attachments_linked",
            "ix_msg_attachments_message",
        ]


def _found(case: Case) -> list[list[str]]:
    with case.engine.connect() as c:
        texts = dict(c.execute(select(s.messages.c.id, s.messages.c.text)).all())
        queries = ("SHED meeting", "allotment", "see you", '"; DROP')
        return [[texts[i] for i in search_ids(c, q)] for q in queries]


def test_an_older_text_index_is_made_again_without_token_counts(tmp_path: Path) -> None:
    whatsapp_android(tmp_path / "android")
    case = _case(tmp_path / "case", tmp_path / "android")
    found = [
        ["meeting at six by the shed"],
        ["hello, are you at the allotment?"],
        ["see you there"],
        [],
    ]
    ddl = text("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'")
    with case.engine.begin() as c:
        assert c.execute(ddl).scalar() == FTS_DDL
        c.execute(text("DROP TABLE messages_fts"))
        c.execute(
            text(
                "CREATE VIRTUAL TABLE messages_fts USING fts5("
                "text, content='messages', content_rowid='id')"
            )
        )
        c.execute(text("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')"))
    assert _found(case) == found
    with case.engine.begin() as c:
        rebuild_index(c)
        assert c.execute(ddl).scalar() == FTS_DDL
        tables = text("SELECT name FROM sqlite_master WHERE name LIKE 'messages_fts%'")
        assert sorted(c.execute(tables).scalars()) == [
            "messages_fts", "messages_fts_config", "messages_fts_data", "messages_fts_idx",
        ]  # fmt: skip
    assert _found(case) == found


def test_the_text_index_keeps_its_settings_and_skips_one_sqlite_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The rebuild's tuning is kept in the index's config; a setting this SQLite's
    FTS5 does not know (as an older one lacks ``hashsize``) is skipped, not fatal."""
    whatsapp_android(tmp_path / "android")
    case = _case(tmp_path / "case", tmp_path / "android")
    config = text("SELECT k, v FROM messages_fts_config WHERE k <> 'version' ORDER BY k")
    with case.engine.connect() as c:
        assert c.execute(config).all() == [("automerge", 0), ("hashsize", 8 * 1024 * 1024)]
    monkeypatch.setattr(search, "FTS_CONFIG", (("no-such-setting", 1), *search.FTS_CONFIG))
    with caplog.at_level("INFO", "unseen.phones.search"), case.engine.begin() as c:
        rebuild_index(c)
    assert "FTS5 has no 'no-such-setting' setting" in caplog.text
    assert _found(case) == [
        ["meeting at six by the shed"],
        ["hello, are you at the allotment?"],
        ["see you there"],
        [],
    ]
