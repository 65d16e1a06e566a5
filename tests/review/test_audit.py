"""The hash-chained audit log: verification, and detection of edits and deletions."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unseen.cli.main import app as cli
from unseen.store import audit
from unseen.store.case import Case

from .helpers import item_ids, login, make_client

runner = CliRunner()


@pytest.fixture(autouse=True)
def own_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A library home per test: copies of one case share a UUID, hence a library heads file."""
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path / "library"))


def verify(case_dir: Path, expect_head: str | None = None) -> audit.Verdict:
    case = Case.open(case_dir)
    try:
        with case.engine.connect() as conn:
            return audit.verify(conn, expect_head)
    finally:
        case.close()


def head(case_dir: Path) -> str:
    case = Case.open(case_dir)
    try:
        with case.engine.connect() as conn:
            return audit.audit_head(conn)
    finally:
        case.close()


def sql(case_dir: Path, statement: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return db.execute(statement, args).fetchall()


def test_the_fixture_log_is_a_valid_chain(case_dir: Path) -> None:
    # make_users logged one user_add per account.
    rows = sql(case_dir, "SELECT id, user, action, target, prev_hash, hash FROM audit_log")
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("cli:tests", "user_add", name) for name in ("ada", "eve", "rob", "ron")
    ]
    # The genesis is secret (a random nonce), not derivable from the case UUID.
    (uuid,) = sql(case_dir, "SELECT value FROM case_info WHERE key = 'uuid'")[0]
    (genesis,) = sql(case_dir, "SELECT value FROM case_info WHERE key = 'audit_genesis'")[0]
    assert rows[0][4] == genesis
    assert genesis != hashlib.sha256(f"unseen-audit-genesis:{uuid}".encode()).hexdigest()
    assert [r[4] for r in rows[1:]] == [r[5] for r in rows[:-1]]
    verdict = verify(case_dir)
    assert verdict == audit.Verdict(True, 4, str(rows[-1][5]))
    assert head(case_dir) == rows[-1][5]


def test_the_hash_covers_every_field(case_dir: Path) -> None:
    row = sql(
        case_dir,
        "SELECT id, at, user, action, target, details, prev_hash, hash "
        "FROM audit_log WHERE id = 1",
    )[0]
    canonical = json.dumps(
        {
            "id": row[0],
            "at": row[1],
            "user": row[2],
            "action": row[3],
            "target": row[4],
            "details": row[5],
            "prev_hash": row[6],
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == row[7]


def test_an_edited_entry_is_found(case_dir: Path) -> None:
    sql(case_dir, 'UPDATE audit_log SET details = \'{"role":"read-only"}\' WHERE id = 2')
    verdict = verify(case_dir)
    assert (verdict.ok, verdict.bad_entry) == (False, 2)
    assert verdict.problem == "entry 2 was changed after it was written"


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(case_dir: Path) -> None:
    entry = dict(
        zip(
            ("id", "at", "user", "action", "target", "details", "prev_hash"),
            sql(
                case_dir,
                "SELECT id, at, user, action, target, details, prev_hash "
                "FROM audit_log WHERE id = 2",
            )[0],
            strict=True,
        )
    )
    entry["target"] = "someone-else"
    sql(
        case_dir,
        "UPDATE audit_log SET target = ?, hash = ? WHERE id = 2",
        entry["target"],
        audit.entry_hash(entry),
    )
    verdict = verify(case_dir)
    assert (verdict.ok, verdict.bad_entry) == (False, 3)
    assert verdict.problem == (
        "entry 3 does not follow entry 2: an entry between them was removed or changed"
    )


def test_a_deleted_entry_is_found(case_dir: Path) -> None:
    sql(case_dir, "DELETE FROM audit_log WHERE id = 3")
    verdict = verify(case_dir)
    assert (verdict.ok, verdict.bad_entry) == (False, 4)
    assert "entry 4 does not follow entry 2" in str(verdict.problem)
    sql(case_dir, "DELETE FROM audit_log WHERE id = 1")
    assert verify(case_dir).bad_entry == 2  # the first entry left no longer starts the chain


def test_cutting_entries_off_the_end_is_found_against_a_recorded_head(case_dir: Path) -> None:
    recorded = head(case_dir)
    with make_client(case_dir) as client:
        login(client, "eve")
    assert verify(case_dir, recorded).ok  # later entries extend the chain
    sql(case_dir, "DELETE FROM audit_log WHERE id >= 4")
    verdict = verify(case_dir, recorded)
    assert not verdict.ok
    assert verdict.problem == f"head {recorded} is not in the chain"


def test_reviews_must_match_the_log(case_dir: Path) -> None:
    image = item_ids(case_dir)["DCIM/100TEST/IMG_0001.JPG"]
    with make_client(case_dir) as client:
        csrf = login(client, "rob")
        client.post(
            "/api/categorise", json={"items": [image], "code": "B"}, headers={"X-CSRF-Token": csrf}
        )
    assert verify(case_dir).ok
    (review_id,) = sql(case_dir, "SELECT id FROM reviews")[0]
    sql(
        case_dir,
        "INSERT INTO reviews (item_id, scheme, category, user, at, batch_id) "
        "VALUES (?, 'uk', 'C', 'rob', 'now', 'forged')",
        image,
    )
    assert verify(case_dir).problem == f"review {int(str(review_id)) + 1} has no audit entry"
    sql(case_dir, "DELETE FROM reviews")
    assert verify(case_dir).problem == f"review {review_id} was deleted"


def test_cli_verify_exit_codes(case_dir: Path) -> None:
    good = runner.invoke(cli, ["audit", "verify", str(case_dir)])
    assert good.exit_code == 0, good.output
    assert f"head {head(case_dir)}" in good.output
    sql(case_dir, "UPDATE audit_log SET user = 'nobody' WHERE id = 3")
    bad = runner.invoke(cli, ["audit", "verify", str(case_dir)])
    assert bad.exit_code == 1
    assert "first bad entry: 3" in bad.output
    assert "entry 3 was changed after it was written" in bad.output


def test_empty_log_head_is_the_genesis_hash(case_dir: Path) -> None:
    sql(case_dir, "DELETE FROM audit_log")
    (genesis,) = sql(case_dir, "SELECT value FROM case_info WHERE key = 'audit_genesis'")[0]
    assert head(case_dir) == genesis
    assert verify(case_dir).ok


def test_user_add_cli(case_dir: Path) -> None:
    done = runner.invoke(
        cli,
        ["user", "add", str(case_dir), "bob", "--role", "reviewer", "--password-stdin"],
        input="a long enough password\n",
    )
    assert done.exit_code == 0, done.output
    generated = runner.invoke(
        cli, ["user", "add", str(case_dir), "al", "--role", "admin", "--generate"]
    )
    assert generated.exit_code == 0, generated.output
    password = generated.output.strip().splitlines()[-1]
    assert len(password) == 20
    bad = runner.invoke(cli, ["user", "add", str(case_dir), "x", "--role", "boss", "--generate"])
    assert bad.exit_code == 2
    again = runner.invoke(
        cli, ["user", "add", str(case_dir), "bob", "--role", "reviewer", "--generate"]
    )
    assert again.exit_code == 2
    assert sql(
        case_dir, "SELECT name, role FROM users WHERE name IN ('bob', 'al') ORDER BY id"
    ) == [
        ("bob", "reviewer"),
        ("al", "admin"),
    ]
    assert [r[1:] for r in sql(case_dir, "SELECT id, action, target FROM audit_log")[-2:]] == [
        ("user_add", "bob"),
        ("user_add", "al"),
    ]
    assert verify(case_dir).ok
    with make_client(case_dir) as client:
        login(client, "al", password)
        assert client.get("/users").status_code == 200


def test_exports_are_audited(case_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "items.jsonl"
    done = runner.invoke(cli, ["export", str(case_dir), "--format", "jsonl", "-o", str(target)])
    assert done.exit_code == 0, done.output
    records = len(target.read_text().splitlines())
    user, action, target_text, details = sql(
        case_dir, "SELECT user, action, target, details FROM audit_log ORDER BY id DESC LIMIT 1"
    )[0]
    assert str(user).startswith("cli:") and action == "export"
    assert target_text == f"{records} records"
    assert json.loads(str(details)) == {
        "format": "jsonl",
        "output": str(target),
        "records": records,
        "what": "items",
    }
    assert verify(case_dir).ok
