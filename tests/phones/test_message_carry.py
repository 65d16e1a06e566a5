"""A large WhatsApp msgstore.db carried in SQL (``phones.carry``) stores exactly what
the parser and the writer store, ids included; anything the two could store
differently (hostile or unusual rows) leaves the database to the parser, with the same
result."""

from __future__ import annotations

import base64
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.internet.base import ParseTask
from unseen.phones import carry, plan, stage
from unseen.phones.carry import scanned, shape
from unseen.phones.search import search_ids
from unseen.store import repo
from unseen.store.case import Case

from .builders import WA_DB, whatsapp_android
from .test_message_chunks import ALL_INDEXES, INDEXES, ROOT, _by_keys, _case, _dump
from .test_phone_pipeline import SKIP

OWNER = "447700900999@s.whatsapp.net"
T0 = 1_709_280_000_000


def _checkpointed(root: Path) -> Path:
    """The builder's extraction with its WAL folded into msgstore.db (no ``-wal``),
    and more of what phones hold: the owner in a group, a group message with no
    sender, a message of a chat that has no row, times of 0 and none, unknown and
    missing statuses, a chat whose JID is empty, a name for the owner in wa.db."""
    whatsapp_android(root)
    db = root / WA_DB / "msgstore.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute(
        "INSERT INTO jid (_id, user, server, agent, device, type, raw_string)"
        " VALUES (4, '447700900999', 's.whatsapp.net', 0, 0, 0, ?), (5, '', '', 0, 0, 0, '')",
        (OWNER,),
    )
    conn.execute("INSERT INTO chat (_id, jid_row_id, subject) VALUES (4, 5, 'no jid')")
    rows = [
        (7, 3, 1, None, 13, T0 + 1000, "from me to the group"),
        (8, 3, 0, 4, 7, T0 + 2000, "owner from another device"),
        (9, 3, 0, None, None, 0, "no sender"),
        (10, 99, 0, None, 0, None, "a chat with no row"),
        (11, 4, 1, None, 5, T0 + 3000, "a chat with an empty JID"),
        (12, 2, 1, None, 4, T0 + 4999, None),
    ]
    conn.executemany(
        "INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status,"
        " timestamp, message_type, text_data, sort_id) VALUES (?, ?, ?, 'k', ?, ?, ?, 0, ?, 0)",
        rows,
    )
    conn.commit()
    conn.close()
    assert not db.with_name("msgstore.db-wal").exists()
    wa = sqlite3.connect(root / WA_DB / "wa.db")
    wa.execute(
        "INSERT INTO wa_contacts (jid, is_whatsapp_user, number, display_name, wa_name)"
        " VALUES (?, 1, '+447700900999', 'Me', NULL)",
        (OWNER,),
    )
    wa.commit()
    wa.close()
    return db


def _with_wal(root: Path) -> Path:
    """``_checkpointed``'s extraction with a WAL that deletes message 9, changes the
    text of message 2 and adds message 13 (the only row found only in the WAL)."""
    db = _checkpointed(root)
    work = root.parent / "wal-work"
    work.mkdir()
    shutil.copyfile(db, work / "msgstore.db")
    conn = sqlite3.connect(work / "msgstore.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("DELETE FROM message WHERE _id = 9")
    conn.execute("UPDATE message SET text_data = 'changed in the WAL' WHERE _id = 2")
    conn.execute(
        "INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, status,"
        " timestamp, message_type, text_data, sort_id) VALUES (13, 1, 0, 'k', NULL, 0, ?, 0,"
        " 'only in the WAL', 0)",
        (T0 + 6000,),
    )
    conn.commit()
    shutil.copyfile(work / "msgstore.db", db)
    shutil.copyfile(work / "msgstore.db-wal", db.with_name("msgstore.db-wal"))
    conn.close()
    shutil.rmtree(work)
    return db


def _texts(case: Case) -> dict[str | None, bool]:
    """Each stored message's text and whether it was found only in the WAL."""
    with case.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT text, from_wal FROM messages").fetchall()
    return {text: bool(wal) for text, wal in rows}


def _carried(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Chunks of two messages for any database (so it is surveyed and may be carried);
    returns what each carry gave (None: left to the parser)."""
    monkeypatch.setattr(plan, "CHUNK_MESSAGES", 2)
    monkeypatch.setattr(plan, "SURVEY_BYTES", 0)
    given: list[object] = []
    real = carry.CARRIERS["whatsapp_android"]

    def spy(engine: Any, task: Any, beside: bool) -> Any:
        given.append(real(engine, task, beside))
        return given[-1]

    monkeypatch.setitem(carry.CARRIERS, "whatsapp_android", spy)
    return given


def _both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, list[tuple[Any, ...]]], list[object], Case]:
    """The evidence stored by the Python path, then by a run that may carry it: asserts
    both stored the same; returns what was stored, what each carry gave and the case."""
    parsed = _dump(_case(tmp_path / "parsed", tmp_path / "android"))
    given = _carried(monkeypatch)
    case = _case(tmp_path / "carried", tmp_path / "android")
    assert _dump(case) == parsed
    return parsed, given, case


@pytest.mark.parametrize("gaps", [False, True])
def test_the_sql_carry_stores_exactly_what_the_parser_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gaps: bool
) -> None:
    """With ``gaps`` the message keys are not consecutive (message 4 deleted), so
    the carry numbers the rows itself."""
    db = _checkpointed(tmp_path / "android")
    if gaps:
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM message WHERE _id = 4")
    parsed = _dump(_case(tmp_path / "parsed", tmp_path / "android"))
    given = _carried(monkeypatch)
    case = _case(tmp_path / "carried", tmp_path / "android")
    assert given == [(11 if gaps else 12, 0)]
    assert _dump(case) == parsed
    assert len(parsed["messages"]) == 11 + (not gaps)
    assert len(parsed["msg_attachments"]) == 3 - gaps
    with case.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    # The owner named in wa.db and met as a sender loses its mark, as in the parser.
    contacts = [r[3:6] for r in parsed["msg_contacts"]]
    assert contacts[0] == (OWNER, "Me", False)
    with case.engine.connect() as conn:
        assert list(conn.exec_driver_sql(INDEXES).scalars()) == ALL_INDEXES


def test_a_file_another_parser_also_reads_is_left_to_the_parsers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A carried task leaves the list: a file a second parser also matched must stay
    in it for that parser, so only a task of the carrier's parser alone is carried."""
    given = _carried(monkeypatch)
    case = Case.create(tmp_path / "case")
    spec: Any = None  # never read: the spy stands for the carrier

    def task(parsers: tuple[str, ...]) -> ParseTask:
        return ParseTask(1, spec, "a/databases/msgstore.db", b"", 1 << 30, parsers)

    monkeypatch.setitem(carry.CARRIERS, "whatsapp_android", lambda _e, t, _b: given.append(t))
    both = task(("whatsapp_android", "another_parser"))
    assert stage._carry(case, [both], 0, [0, 0]) == [both] and given == []
    alone = task(("whatsapp_android",))
    assert stage._carry(case, [alone], 0, [0, 0]) == [alone] and given == [alone]


def test_the_sql_carry_beside_a_pool_of_workers_stores_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The carry runs in the writer's process; the other items go to the pool."""
    _checkpointed(tmp_path / "android")
    parsed = _by_keys(_case(tmp_path / "parsed", tmp_path / "android"))
    given = _carried(monkeypatch)
    monkeypatch.setattr(stage, "INDEX_BESIDE_MESSAGES", 1)  # as for a large phone
    monkeypatch.setattr(stage, "rebuild_index", _no_index)  # not by the writer
    carried = _case(tmp_path / "carried", tmp_path / "android", workers=2)
    assert _by_keys(carried) == parsed
    assert given == [(12, 0)]
    # The text index was rebuilt in a process beside the writer, whole.
    assert _found(carried, "allotment", "shed", "see you") == [
        ["hello, are you at the allotment?"],
        ["meeting at six by the shed"],
        ["see you there"],
    ]


def test_a_text_index_that_fails_beside_is_rebuilt_by_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _checkpointed(tmp_path / "android")
    monkeypatch.setattr(stage, "INDEX_BESIDE_MESSAGES", 1)
    monkeypatch.setattr(stage, "rebuild_index_at", _no_index)
    case = _case(tmp_path / "case", tmp_path / "android", workers=2)
    assert _found(case, "allotment") == [["hello, are you at the allotment?"]]
    assert "text index not rebuilt beside (database is locked)" in caplog.text


def _no_index(_where: object) -> None:
    raise sqlite3.OperationalError("database is locked")


def _found(case: Case, *queries: str) -> list[list[str]]:
    """The texts ``search_ids`` finds for each query."""
    with case.engine.connect() as conn:
        texts = dict(conn.exec_driver_sql("SELECT id, text FROM messages").fetchall())
        return [[texts[i] for i in search_ids(conn, q)] for q in queries]


def test_a_broken_wa_db_is_recorded_once_by_the_carry_as_by_the_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _checkpointed(tmp_path / "android")
    (tmp_path / "android" / WA_DB / "wa.db").write_bytes(b"not a database at all" * 100)
    parsed, given, _ = _both_ways(tmp_path, monkeypatch)
    assert given == [(12, 1)]
    assert [r[3] for r in parsed["item_errors"]] == [
        "wa.db not read: not an SQLite 3 database (bad header)"
    ]


def test_rows_found_only_in_the_wal_are_marked_by_the_carry_as_by_the_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The builder's own database keeps a message only in its WAL."""
    whatsapp_android(tmp_path / "android")
    parsed, given, case = _both_ways(tmp_path, monkeypatch)
    assert given == [(len(parsed["messages"]), 0)]
    assert _texts(case)["see you there"] is True and sum(_texts(case).values()) == 1


def test_a_wal_deleting_changing_and_adding_rows_is_carried_as_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_wal(tmp_path / "android")
    _, given, case = _both_ways(tmp_path, monkeypatch)
    assert given == [(12, 0)]
    texts = _texts(case)
    assert texts["changed in the WAL"] is False and texts["only in the WAL"] is True
    assert "no sender" not in texts and sum(texts.values()) == 1


def test_digests_that_are_not_base64_sha256_are_stored_as_by_the_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not base64, base64 of 31 bytes and NULL: no hex digest, as in the parser."""
    db = _checkpointed(tmp_path / "android")
    odd_digests = ["not base64!", base64.b64encode(bytes(31)).decode(), None]
    with sqlite3.connect(db) as conn:
        rowids = [r[0] for r in conn.execute("SELECT rowid FROM message_media ORDER BY rowid")]
        conn.executemany(
            "UPDATE message_media SET file_hash = ? WHERE rowid = ?",
            zip(odd_digests, rowids, strict=True),
        )
    parsed, given, _ = _both_ways(tmp_path, monkeypatch)
    assert given == [(12, 0)]
    assert len(rowids) == 3 and [r[6] for r in parsed["msg_attachments"]] == [None] * 3


def test_a_rollback_journal_leaves_the_database_to_the_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _checkpointed(tmp_path / "android")
    db.with_name("msgstore.db-journal").write_bytes(b"")
    _, given, _ = _both_ways(tmp_path, monkeypatch)
    assert given == [None]


HOSTILE: dict[str, tuple[str, str | None]] = {
    "text not UTF-8": (
        "UPDATE message SET text_data = CAST(x'6869ff20c3' AS TEXT) WHERE _id = 1",
        "message text not valid UTF-8",
    ),
    "group name not UTF-8": (
        "UPDATE chat SET subject = CAST(x'416cc0' AS TEXT) WHERE _id = 3",
        "chat text not valid UTF-8",
    ),
    "media name not UTF-8": (
        "UPDATE message_media SET media_name = CAST(x'4a50c3' AS TEXT) WHERE message_row_id = 2",
        "message_media text not valid UTF-8",
    ),
    "time a real": (
        "UPDATE message SET timestamp = 1709280000000.5 WHERE _id = 2",
        "column types of message",
    ),
    "time negative": (
        "UPDATE message SET timestamp = -1500 WHERE _id = 2",
        "column types of message",
    ),
    "time before 1980": (
        "UPDATE message SET timestamp = 1000 WHERE _id = 2",
        "column types of message",
    ),
    "direction text": (
        "UPDATE message SET from_me = 'yes' WHERE _id = 1",
        "column types of message",
    ),
    "status text": ("UPDATE message SET status = 'read' WHERE _id = 1", "column types of message"),
    "text a blob": (
        "UPDATE message SET text_data = x'00ff' WHERE _id = 1",
        "column types of message",
    ),
    "sender JID a blob": (
        "UPDATE jid SET raw_string = x'3132' WHERE _id = 2",
        "column types of jid",
    ),
    "media size text": (
        "UPDATE message_media SET file_size = 'big'",
        "column types of message_media",
    ),
    # A JID that spells the key of a chat with no row.
    "two chats one key": (
        "INSERT INTO jid (_id, user, server, agent, device, type, raw_string)"
        " VALUES (6, 'x', 'x', 0, 0, 0, 'chat:99');"
        " INSERT INTO chat (_id, jid_row_id) VALUES (5, 6);"
        " UPDATE message SET chat_row_id = 5 WHERE _id = 12",
        None,  # found while carrying, which is rolled back
    ),
    # The app's schema keeps one media row per message; a hostile one need not.
    "two media rows": (
        "CREATE TABLE media_copy AS SELECT * FROM message_media; DROP TABLE message_media;"
        " ALTER TABLE media_copy RENAME TO message_media;"
        " INSERT INTO message_media (message_row_id, chat_row_id, file_path, mime_type)"
        " VALUES (2, 1, 'Media/x.jpg', 'image/jpeg')",
        "several media rows for one message",
    ),
}


@pytest.mark.parametrize("case_name", sorted(HOSTILE))
def test_hostile_rows_are_left_to_the_parser_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case_name: str
) -> None:
    sql, why = HOSTILE[case_name]
    db = _checkpointed(tmp_path / "android")
    conn = sqlite3.connect(db)
    conn.executescript(sql)
    conn.commit()
    with sqlite3.connect(db) as check:
        assert (shape(check) or scanned(check)) == why
    conn.close()
    _, given, _ = _both_ways(tmp_path, monkeypatch)
    assert given == [None]


def test_rows_the_checks_beside_the_carry_find_roll_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a pool the row scans run in a process beside the carry, which has stored
    everything by the time they report: it is rolled back and the parser reads it."""
    db = _checkpointed(tmp_path / "android")
    with sqlite3.connect(db) as conn:
        conn.executescript(HOSTILE["two media rows"][0])
    parsed = _by_keys(_case(tmp_path / "parsed", tmp_path / "android", workers=2))
    given = _carried(monkeypatch)
    ran: list[int] = []
    real: Callable[..., int] = carry._carry
    monkeypatch.setattr(carry, "_carry", lambda *args: ran.append(real(*args)) or ran[-1])
    assert _by_keys(_case(tmp_path / "carried", tmp_path / "android", workers=2)) == parsed
    assert given == [None] and ran == [12]  # carried whole, then rolled back


def test_a_failing_carry_rolls_back_and_the_parser_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _checkpointed(tmp_path / "android")
    parsed = _dump(_case(tmp_path / "parsed", tmp_path / "android"))
    given = _carried(monkeypatch)
    real: Callable[..., int] = carry._carry

    def failing(*args: Any) -> int:
        real(*args)
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(carry, "_carry", failing)
    assert _dump(_case(tmp_path / "carried", tmp_path / "android")) == parsed
    assert given == [None]


def test_without_the_carry_setting_the_parser_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _checkpointed(tmp_path / "android")
    given = _carried(monkeypatch)
    monkeypatch.setattr(stage, "SQL_CARRY", False)
    _case(tmp_path / "case", tmp_path / "android")
    assert given == []


KILL = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.internet.base import ParseTask
from unseen.phones import carry, plan

plan.CHUNK_MESSAGES, plan.SURVEY_BYTES = 2, 0
write_coverage = carry.write_coverage

def dying(*args, **kwargs):  # every row is written, the transaction not committed
    os.kill(os.getpid(), signal.SIGKILL)

carry.write_coverage = dying
from unseen.store.case import Case
process_case(Case.open(Path({case!r})), workers=0, settings=Settings(skip={skip!r}))
"""


@pytest.mark.parametrize("build", [_checkpointed, _with_wal])
def test_kill_9_mid_carry_then_rerun_stores_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build: Callable[[Path], Path]
) -> None:
    build(tmp_path / "android")
    reference = _by_keys(_case(tmp_path / "reference", tmp_path / "android"))
    Case.create(tmp_path / "killed", name="killed").close()
    case = Case.open(tmp_path / "killed")
    repo.add_source(case, "folder", str(tmp_path / "android"), "ANDROID", "tester")
    case.close()
    script = KILL.format(root=str(ROOT / "src"), case=str(tmp_path / "killed"), skip=SKIP)
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=False)
    assert killed.returncode == -signal.SIGKILL
    case = Case.open(tmp_path / "killed")
    part = _by_keys(case)
    assert part["messages"] == [] and part["contacts"] == []
    assert all(r[1] != "whatsapp_android" for r in part["coverage"] + part["ledger"])
    given = _carried(monkeypatch)
    process_case(case, workers=0, settings=Settings(skip=SKIP))
    assert given == [(12, 0)]
    assert _by_keys(case) == reference
    with case.engine.connect() as conn:
        assert list(conn.exec_driver_sql(INDEXES).scalars()) == ALL_INDEXES
