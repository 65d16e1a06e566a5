"""A large message database is read in chunks (each its own task) and stores exactly
what one whole read stores; a kill part-way through a database leaves it to do again,
and the rerun stores it once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.phones import plan, stage, store
from unseen.phones.model import Attachment, Extract, Message
from unseen.phones.parsers.whatsapp_android import WhatsAppAndroid
from unseen.phones.search import search_ids
from unseen.phones.worker import (
    ChunkTask,
    ItemOutcome,
    ParserOutcome,
    crashed,
    pack,
    parse_batch,
    parse_item,
    unpack,
)
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import whatsapp_android
from .test_phone_pipeline import SKIP

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = os.environ.get("UNSEEN_TEST_PG_URL")
# Everything the phones stage writes for a database, in id order (run times left out).
TABLES = (
    s.msg_contacts,
    s.msg_conversations,
    s.msg_participants,
    s.messages,
    s.msg_attachments,
    s.media_provenance,
    s.msg_coverage,
    s.item_errors,
    s.job_done,
)
UNTIMED = {"run_at", "at", "done_at"}


def _case(tmp: Path, evidence: Path, workers: int = 0) -> Case:
    case = Case.create(tmp, name=tmp.name)
    repo.add_source(case, "folder", str(evidence), "ANDROID", "tester")
    process_case(case, workers=workers, settings=Settings(skip=SKIP))
    return case


def _dump(case: Case) -> dict[str, list[tuple[Any, ...]]]:
    with case.engine.connect() as conn:
        out = {}
        for table in TABLES:
            cols = [c for c in table.c if c.name not in UNTIMED]
            order = [table.c.id] if "id" in table.c else list(table.primary_key.columns or cols)
            out[table.name] = [tuple(r) for r in conn.execute(select(*cols).order_by(*order))]
        out["search"] = [(q, *search_ids(conn, q)) for q in ("allotment", "shed", "see you")]
        return out


BY_KEYS = {
    "contacts": "SELECT handle, name, owner FROM msg_contacts",
    "conversations": "SELECT key, title, is_group, record_ref FROM msg_conversations",
    "participants": "SELECT v.key, c.handle FROM msg_participants p"
    " JOIN msg_conversations v ON v.id = p.conversation_id"
    " JOIN msg_contacts c ON c.id = p.contact_id",
    "messages": "SELECT m.record_ref, v.key, c.handle, m.direction, m.ts_utc, m.ts_raw,"
    " m.text, m.status, m.from_wal FROM messages m"
    " LEFT JOIN msg_conversations v ON v.id = m.conversation_id"
    " LEFT JOIN msg_contacts c ON c.id = m.sender_id",
    "attachments": "SELECT m.record_ref, a.ref_path, a.sha256, a.linked_item_id,"
    " a.link_method, a.absent FROM msg_attachments a JOIN messages m ON m.id = a.message_id",
    "coverage": "SELECT item_id, parser, status, records, errors FROM msg_coverage",
    "errors": "SELECT item_id, analyser, message FROM item_errors",
    "ledger": "SELECT item_id, job, version FROM job_done",
}


def _by_keys(case: Case) -> dict[str, list[tuple[Any, ...]]]:
    """The stored rows with their ids replaced by the app's own keys: chunks stored in
    another order number the rows otherwise, and hold the same facts."""
    with case.engine.connect() as conn:
        return {
            name: sorted((_plain(r) for r in conn.execute(text(sql))), key=repr)
            for name, sql in BY_KEYS.items()
        }


def _plain(row: Any) -> tuple[Any, ...]:
    """A row with booleans as SQLite gives them (PostgreSQL returns True, not 1)."""
    return tuple(int(v) if isinstance(v, bool) else v for v in row)


@pytest.fixture(autouse=True)
def _chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about chunks: the SQL carry (tested on its own) would take
    their databases whole, WAL included."""
    monkeypatch.setattr(stage, "SQL_CARRY", False)


@pytest.fixture()
def evidence(tmp_path: Path) -> Path:
    whatsapp_android(tmp_path / "android")
    return tmp_path / "android"


def _small_chunks(monkeypatch: pytest.MonkeyPatch, messages: int) -> list[object]:
    """Chunks of ``messages`` messages for any database; returns the windows read."""
    monkeypatch.setattr(plan, "CHUNK_MESSAGES", messages)
    monkeypatch.setattr(plan, "SURVEY_BYTES", 0)
    windows: list[object] = []
    parse_db = WhatsAppAndroid.parse_db

    def spy(self: WhatsAppAndroid, *args: Any) -> Any:
        windows.append(self.window)
        return parse_db(self, *args)

    monkeypatch.setattr(WhatsAppAndroid, "parse_db", spy)
    return windows


@pytest.mark.parametrize("bulk", ["no", "aside", "cache"])
def test_chunks_store_exactly_what_one_read_stores(
    tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch, bulk: str
) -> None:
    whole = _dump(_case(tmp_path / "whole", evidence))
    windows = _small_chunks(monkeypatch, 2)
    cached: list[int] = []
    aside: list[bool] = []
    if bulk != "no":
        # "aside": the stage sets the indexes aside for all the chunks and builds them
        # once after; "cache" (as when the table held more rows than the chunks
        # bring): the first chunk sets them aside for itself, the others are
        # inserted with them, with a page cache.
        monkeypatch.setattr(store, "BULK_MESSAGES", 1)
        page_cache, set_aside = store._page_cache, store.set_indexes_aside

        def spy(conn: Any, kib: int) -> Any:
            cached.append(kib)
            return page_cache(conn, kib)

        def spy_aside(conn: Any, messages: int) -> bool:
            aside.append(bulk == "aside" and set_aside(conn, messages))
            return aside[-1]

        monkeypatch.setattr(store, "_page_cache", spy)
        monkeypatch.setattr(stage, "set_indexes_aside", spy_aside)
    case = _case(tmp_path / "chunked", evidence)
    chunked = _dump(case)
    assert cached == ([store.BULK_CACHE_KIB] * 2 if bulk == "cache" else [])
    assert aside == {"no": [], "aside": [True], "cache": [False]}[bulk]
    with case.engine.connect() as conn:
        indexes = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index'"
            " AND tbl_name IN ('messages', 'msg_attachments') ORDER BY name"
        ).scalars()
        assert list(indexes) == [
            "ix_messages_conversation",
            "ix_messages_item",
            "ix_msg_attachments_linked",
            "ix_msg_attachments_message",
        ]
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -2000  # put back
    # Six messages (the sixth only in the WAL), two a chunk: keys 1-2, 3-4 and 5-6.
    assert windows == [(None, 3), (3, 5), (5, None)]
    assert chunked == whole
    assert len(whole["messages"]) == 6 and len(whole["msg_attachments"]) == 3
    assert [r[3:6] for r in whole["msg_coverage"] if r[2] == "whatsapp_android"] == [
        ("1", "ok", 6)
    ]


def test_chunks_on_a_pool_in_any_order_hold_the_same_facts(
    tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _by_keys(_case(tmp_path / "whole", evidence))
    monkeypatch.setattr(plan, "CHUNK_MESSAGES", 1)
    monkeypatch.setattr(plan, "SURVEY_BYTES", 0)
    assert _by_keys(_case(tmp_path / "pool", evidence, workers=2)) == whole


def test_a_database_of_one_chunk_is_read_whole(
    tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    windows = _small_chunks(monkeypatch, 6)
    _case(tmp_path / "case", evidence)
    assert windows == [None]


KILL = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.phones import plan, stage, store
from unseen.store.case import Case

plan.CHUNK_MESSAGES, plan.SURVEY_BYTES, store.BULK_MESSAGES = 2, 0, {bulk}
stage.SQL_CARRY = False  # chunks, not the SQL carry
write_chunk, seen = store._write_chunk, []

def dying(conn, item_id, out, state):
    seen.append(item_id)
    if len(seen) == 2:  # the second chunk, mid-transaction: the first is committed
        os.kill(os.getpid(), signal.SIGKILL)
    return write_chunk(conn, item_id, out, state)

store._write_chunk = dying
process_case(Case.open(Path({case!r})), workers=0, settings=Settings(skip={skip!r}))
"""


INDEXES = (
    "SELECT name FROM sqlite_master WHERE type = 'index'"
    " AND tbl_name IN ('messages', 'msg_attachments') ORDER BY name"
)
ALL_INDEXES = [
    "ix_messages_conversation",
    "ix_messages_item",
    "ix_msg_attachments_linked",
    "ix_msg_attachments_message",
]


@pytest.mark.parametrize("bulk", [50_000, 1])
def test_kill_9_mid_database_then_rerun_stores_it_once(
    tmp_path: Path, evidence: Path, bulk: int
) -> None:
    """With ``bulk`` 1 the indexes are set aside for the chunks: the kill leaves them
    out, and the rerun builds them."""
    reference = _by_keys(_case(tmp_path / "reference", evidence))
    Case.create(tmp_path / "killed", name="killed").close()
    case = Case.open(tmp_path / "killed")
    repo.add_source(case, "folder", str(evidence), "ANDROID", "tester")
    case.close()
    script = KILL.format(
        root=str(ROOT / "src"), case=str(tmp_path / "killed"), skip=SKIP, bulk=bulk
    )
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=False)
    assert killed.returncode == -9
    case = Case.open(tmp_path / "killed")
    part = _by_keys(case)
    # The first chunk is stored; the database is neither covered nor in the ledger.
    assert [r[0] for r in part["messages"]] == ["message _id 1", "message _id 2"]
    assert all(r[1] != "whatsapp_android" for r in part["coverage"] + part["ledger"])
    with case.engine.connect() as conn:
        assert list(conn.exec_driver_sql(INDEXES).scalars()) == ([] if bulk == 1 else ALL_INDEXES)
    process_case(case, workers=0, settings=Settings(skip=SKIP))
    assert _by_keys(case) == reference
    with case.engine.connect() as conn:
        assert list(conn.exec_driver_sql(INDEXES).scalars()) == ALL_INDEXES


def test_a_packed_outcome_unpacks_to_itself() -> None:
    extract = Extract("WhatsApp")
    extract.contact("447700900111@s.whatsapp.net", "Sam")
    extract.messages.append(
        Message("message _id 1", "447700900111@s.whatsapp.net", None, "sent", None,
                1_709_290_800_123, "unix_ms", "hello", "read", True,
                (Attachment("Media/a.jpg", "a.jpg", "image/jpeg", 5, "ab" * 32),))
    )  # fmt: skip
    item = ItemOutcome(
        7,
        "msgstore.db",
        (ParserOutcome("whatsapp_android", "1", "ok", extract, ("wa.db not read",)),),
        1,
        3,
    )
    packed = pack(item)
    assert packed.outcomes[0].extract is None and packed.packed
    assert unpack(packed) == item
    assert unpack(item) is item


def test_a_chunk_that_fails_is_recorded_and_the_others_kept(
    tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan, "CHUNK_MESSAGES", 2)
    monkeypatch.setattr(plan, "SURVEY_BYTES", 0)
    parse_db = WhatsAppAndroid.parse_db

    def failing(self: WhatsAppAndroid, *args: Any) -> Any:
        if self.window == (3, 5):
            raise sqlite3.DatabaseError("database disk image is malformed")
        return parse_db(self, *args)

    monkeypatch.setattr(WhatsAppAndroid, "parse_db", failing)
    got = _by_keys(_case(tmp_path / "case", evidence))
    assert [m[0] for m in got["messages"]] == [
        "message _id 1",
        "message _id 2",
        "message _id 5",
        "message _id 6",
    ]
    wa = [r for r in got["coverage"] if r[1] == "whatsapp_android"]
    assert [r[1:] for r in wa] == [
        ("whatsapp_android", "failed", 4, '["DatabaseError: database disk image is malformed"]')
    ]
    assert [r[1:] for r in got["errors"] if r[1] == "phones:whatsapp_android"] == [
        ("phones:whatsapp_android", "DatabaseError: database disk image is malformed")
    ]
    assert ("whatsapp_android", "1") in [r[1:] for r in got["ledger"]]


@pytest.mark.postgres
@pytest.mark.skipif(
    not PG_SERVER,
    reason="UNSEEN_TEST_PG_URL is not set; run under `bash scripts/with-postgres.sh`",
)
def test_chunks_on_postgresql_hold_the_same_facts(
    tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch, pg_database: Callable[[], str]
) -> None:
    whole = _by_keys(_case(tmp_path / "whole", evidence))
    monkeypatch.setattr(plan, "CHUNK_MESSAGES", 2)
    monkeypatch.setattr(plan, "SURVEY_BYTES", 0)
    case = Case.create(tmp_path / "pg", name="pg", database_url=pg_database())
    try:
        repo.add_source(case, "folder", str(evidence), "ANDROID", "tester")
        process_case(case, workers=0, settings=Settings(skip=SKIP))
        assert _by_keys(case) == whole
    finally:
        case.close()


def test_a_chunk_that_killed_its_worker_leaves_the_database_to_do_again(
    tmp_path: Path, evidence: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = _by_keys(_case(tmp_path / "reference", evidence))
    monkeypatch.setattr(plan, "CHUNK_MESSAGES", 2)
    monkeypatch.setattr(plan, "SURVEY_BYTES", 0)

    def first_chunk_crashes(tasks: list[Any]) -> list[ItemOutcome]:
        return [
            crashed(t) if isinstance(t, ChunkTask) and t.part == 0 else parse_item(t)
            for t in tasks
        ]

    monkeypatch.setattr(stage, "parse_batch", first_chunk_crashes)
    case = _case(tmp_path / "case", evidence)
    got = _by_keys(case)
    assert [m[0] for m in got["messages"]] == [f"message _id {n}" for n in (3, 4, 5, 6)]
    assert [r[1:3] for r in got["coverage"] if r[1] == "whatsapp_android"] == [
        ("whatsapp_android", "failed")
    ]
    assert ("whatsapp_android", "?") in [r[1:] for r in got["ledger"]]
    monkeypatch.setattr(stage, "parse_batch", parse_batch)
    process_case(case, workers=0, settings=Settings(skip=SKIP))
    assert _by_keys(case) == reference
