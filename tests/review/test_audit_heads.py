"""Signed audit heads outside the database: each attack by the case's owner is caught."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from unseen.cli.main import app as cli
from unseen.core import keys
from unseen.review.auth import create_account
from unseen.store import audit
from unseen.store.audit_heads import HeadRecord
from unseen.store.case import Case, write_engine

from .helpers import PASSWORD, login, make_client

runner = CliRunner()
ENTRIES = 6


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "library"
    monkeypatch.setenv("UNSEEN_HOME", str(home))
    keys.init_keys(home, "Test Unit")
    return home


@pytest.fixture
def case_dir(tmp_path: Path, library: Path) -> Path:
    """A new case whose log holds ENTRIES entries, each head signed and recorded."""
    case = Case.create(tmp_path / "case", name="HEADS")
    for n in range(1, ENTRIES + 1):
        _append(case, f"entry-{n}")
    case.close()
    return tmp_path / "case"


def _append(case: Case, target: str) -> None:
    engine = write_engine(case.engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:
            audit.append(conn, "cli:tests", "login", target, {})
    finally:
        engine.dispose()


def sql(case_dir: Path, statement: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return db.execute(statement, args).fetchall()


def case_heads(case_dir: Path) -> Path:
    return case_dir / "logs" / "audit-heads.log"


def library_heads(case_dir: Path, library: Path) -> Path:
    (uuid,) = sql(case_dir, "SELECT value FROM case_info WHERE key = 'uuid'")[0]
    return library / "audit-heads" / f"{uuid}.log"


def records(path: Path) -> list[HeadRecord]:
    return [HeadRecord.parse(line) for line in path.read_text().splitlines()]


def verify(case_dir: Path, extra: tuple[Path, ...] = ()) -> audit.Verdict:
    case = Case.open(case_dir)
    try:
        with case.engine.connect() as conn:
            pub = keys.load_public(keys.public_path())
            return audit.verify(conn, None, audit.recorded_heads(conn, extra), [pub])
    finally:
        case.close()


def rehash(case_dir: Path, genesis: str | None = None) -> None:
    """What a dishonest owner does after editing: recompute every link and hash."""
    fields = ("id", "at", "user", "action", "target", "details", "prev_hash")
    with sqlite3.connect(case_dir / "case.db") as db:
        if genesis is None:
            genesis = db.execute("SELECT prev_hash FROM audit_log ORDER BY id LIMIT 1").fetchone()[
                0
            ]
        else:
            db.execute("UPDATE case_info SET value = ? WHERE key = 'audit_genesis'", (genesis,))
        prev = genesis
        for row in db.execute(
            f"SELECT {', '.join(fields[:-1])} FROM audit_log ORDER BY id"
        ).fetchall():
            entry = dict(zip(fields, (*row, prev), strict=True))
            digest = audit.entry_hash(entry)
            db.execute(
                "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, row[0])
            )
            prev = digest


def at_of(case_dir: Path, entry: int) -> str:
    return next(r.at for r in records(case_heads(case_dir)) if r.entry == entry)


def test_every_append_records_a_signed_head_in_both_files(case_dir: Path, library: Path) -> None:
    chain = sql(case_dir, "SELECT id, hash FROM audit_log ORDER BY id")
    pub = keys.load_public(keys.public_path(library))
    for path in (case_heads(case_dir), library_heads(case_dir, library)):
        found = records(path)
        assert [(r.entry, r.head) for r in found] == chain
        assert all(r.signature_ok(pub) for r in found)
        assert {r.key for r in found} == {keys.fingerprint(pub)}
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert records(case_heads(case_dir)) == records(library_heads(case_dir, library))


def test_an_untouched_case_verifies(case_dir: Path) -> None:
    assert verify(case_dir) == audit.Verdict(
        True,
        ENTRIES,
        str(sql(case_dir, "SELECT max(hash) FROM audit_log WHERE id = 6")[0][0]),
        None,
        None,
        ENTRIES,
        0,
        ENTRIES,
    )
    done = runner.invoke(cli, ["audit", "verify", str(case_dir)])
    assert done.exit_code == 0, done.output
    assert (
        "audit log intact: 6 entries; 6 signed and 0 unsigned recorded heads match "
        "(newest: entry 6)" in done.output
    )


def test_deleting_a_middle_row_is_found(case_dir: Path) -> None:
    sql(case_dir, "DELETE FROM audit_log WHERE id = 3")
    verdict = verify(case_dir)
    assert (verdict.ok, verdict.bad_entry) == (False, 4)
    assert verdict.problem == (
        "entry 4 does not follow entry 2: an entry between them was removed or changed"
    )


def test_deleting_a_middle_row_and_rehashing_is_found(case_dir: Path) -> None:
    sql(case_dir, "DELETE FROM audit_log WHERE id = 3")
    rehash(case_dir)
    verdict = verify(case_dir)
    assert (verdict.ok, verdict.bad_entry) == (False, 4)
    assert verdict.problem == (
        f"entry 4 differs from its signed head of {at_of(case_dir, 4)}: the log was rewritten"
    )


def test_deleting_the_last_rows_is_found(case_dir: Path) -> None:
    sql(case_dir, "DELETE FROM audit_log WHERE id >= 5")
    verdict = verify(case_dir)
    assert not verdict.ok
    assert verdict.problem == (
        f"the log ends at entry 4 but a signed head of {at_of(case_dir, 6)} records entry 6: "
        "entries were cut off the end"
    )
    done = runner.invoke(cli, ["audit", "verify", str(case_dir)])
    assert done.exit_code == 1
    assert "entries were cut off the end" in done.output


def test_emptying_the_log_is_found(case_dir: Path) -> None:
    sql(case_dir, "DELETE FROM audit_log")
    assert verify(case_dir).problem == (
        f"the log is empty but a signed head of {at_of(case_dir, 6)} records entry 6: "
        "entries were cut off the end"
    )


def test_rewriting_and_rehashing_the_whole_chain_is_found(case_dir: Path) -> None:
    sql(case_dir, "UPDATE audit_log SET target = 'someone-else' WHERE id = 2")
    rehash(case_dir)
    verdict = verify(case_dir)
    assert (verdict.ok, verdict.bad_entry) == (False, 2)
    assert verdict.problem == (
        f"entry 2 differs from its signed head of {at_of(case_dir, 2)}: the log was rewritten"
    )


def test_rebuilding_from_a_new_genesis_is_found(case_dir: Path) -> None:
    rehash(case_dir, genesis="0" * 64)
    assert verify(case_dir).problem == (
        f"the head of entry 1 in {case_heads(case_dir)} starts from another genesis: "
        "the whole log was rebuilt"
    )


def test_cutting_the_end_of_log_and_case_heads_is_found_by_the_library_copy(
    case_dir: Path,
) -> None:
    sql(case_dir, "DELETE FROM audit_log WHERE id >= 5")
    kept = case_heads(case_dir).read_text().splitlines(keepends=True)[:4]
    case_heads(case_dir).write_text("".join(kept))
    assert "entries were cut off the end" in str(verify(case_dir).problem)


def test_removing_both_heads_files_is_found(case_dir: Path, library: Path) -> None:
    case_heads(case_dir).unlink()
    library_heads(case_dir, library).unlink()
    assert verify(case_dir).problem == (
        f"no recorded head for a log of 6 entries ({case_heads(case_dir)} and "
        f"{library_heads(case_dir, library)} missing or emptied)"
    )


def test_a_forged_head_line_is_found(case_dir: Path, library: Path) -> None:
    lines = case_heads(case_dir).read_text().splitlines()
    forged = json.loads(lines[5])
    forged["head"] = "f" * 64
    case_heads(case_dir).write_text("\n".join([*lines[:5], json.dumps(forged)]) + "\n")
    assert verify(case_dir).problem == (
        f"the head of entry 6 in {case_heads(case_dir)} has a bad signature"
    )
    other = keys.load_private(keys.init_keys(library / "other", "Forger").parent.parent)
    resigned = HeadRecord.parse(json.dumps(forged)).signed(other)
    case_heads(case_dir).write_text("\n".join([*lines[:5]]) + "\n" + resigned.line())
    assert verify(case_dir).problem == (
        f"the head of entry 6 in {case_heads(case_dir)} was signed by an unknown key "
        f"{resigned.key}"
    )


def test_a_rolled_back_append_leaves_no_head(case_dir: Path, library: Path) -> None:
    case = Case.open(case_dir)
    engine = write_engine(case.engine.url.render_as_string(hide_password=False))
    with pytest.raises(RuntimeError), engine.begin() as conn:
        audit.append(conn, "cli:tests", "login", "never", {})
        raise RuntimeError("the action failed after its audit entry")
    engine.dispose()
    case.close()
    assert len(records(case_heads(case_dir))) == ENTRIES
    _append(Case.open(case_dir), "after")  # reuses id 7: its head is the real one
    assert [r.entry for r in records(library_heads(case_dir, library))][-1] == 7
    assert verify(case_dir).ok


def test_an_export_carries_its_signed_head(case_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "items.jsonl"
    done = runner.invoke(cli, ["export", str(case_dir), "--format", "jsonl", "-o", str(target)])
    assert done.exit_code == 0, done.output
    sidecar = tmp_path / "items.jsonl.audit-head"
    (record,) = records(sidecar)
    (last_id, last_hash) = sql(case_dir, "SELECT id, hash FROM audit_log ORDER BY id DESC")[0]
    assert (record.entry, record.head) == (last_id, last_hash) == (7, last_hash)
    assert record.signature_ok(keys.load_public(keys.public_path()))
    # The owner cuts the export entry from the log and from both heads files: the
    # export's own copy still proves it.
    sql(case_dir, "DELETE FROM audit_log WHERE id = 7")
    for path in (case_heads(case_dir), library_heads(case_dir, tmp_path / "library")):
        path.write_text("".join(path.read_text().splitlines(keepends=True)[:6]))
    assert verify(case_dir).ok
    assert "entries were cut off the end" in str(verify(case_dir, (sidecar,)).problem)
    done = runner.invoke(cli, ["audit", "verify", str(case_dir), "--head", str(sidecar)])
    assert done.exit_code == 1


def test_the_summary_report_carries_the_signed_head(case_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "summary.html"
    done = runner.invoke(cli, ["report", str(case_dir), "--kind", "summary", "-o", str(out)])
    assert done.exit_code == 0, done.output
    html = out.read_text()
    fp = keys.fingerprint(keys.load_public(keys.public_path()))
    assert f'<span class="mono" id="audit-head-key">{fp}</span>' in html
    # Entry 7 is the report's own audit entry (writing a report is audited first).
    assert "entry 7, signed by the agency key" in html


def test_heads_are_unsigned_without_a_key_and_verify_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path / "keyless"))
    case = Case.create(tmp_path / "case", name="NOKEY")
    _append(case, "x")
    case.close()
    done = runner.invoke(cli, ["audit", "verify", str(tmp_path / "case")])
    assert done.exit_code == 0, done.output
    assert "0 signed and 1 unsigned recorded heads match" in done.output
    assert "warning: unsigned heads prove little" in done.output


def test_a_widened_key_leaves_unsigned_heads_that_verify_flags(
    case_dir: Path, library: Path
) -> None:
    (library / "keys" / "agency.key").chmod(0o644)
    _append(Case.open(case_dir), "after the key was exposed")  # the action still happens
    assert records(case_heads(case_dir))[-1].sig is None
    assert verify(case_dir).problem == (
        f"the head of entry 7 in {case_heads(case_dir)} is unsigned although earlier heads "
        "were signed"
    )


def test_the_web_audit_page_checks_the_signed_heads_too(case_dir: Path) -> None:
    case = Case.open(case_dir)
    create_account(case, "cli:tests", "ada", "admin", PASSWORD, "tests")
    case.close()
    with make_client(case_dir) as client:
        login(client, "ada")
        intact = client.get("/audit").text
        assert 'id="chain-ok"' in intact
        assert "8 signed and 0 unsigned heads recorded outside the database match" in intact
        sql(case_dir, "DELETE FROM audit_log WHERE id >= 5")  # cut off the end
        cut = client.get("/audit").text
    assert 'id="chain-bad"' in cut and 'id="chain-ok"' not in cut
