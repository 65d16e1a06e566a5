"""The internet stage through the real pipeline: a fake user profile processed by
``process_case``, then the JSONL export and the HTML report."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, func, inspect, select, text

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.reports.registry import EXPORTERS, REPORTS
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import (
    bencode,
    chrome_history,
    chrome_history_with_wal,
    firefox_formhistory,
    firefox_places,
    known_met,
    met_entry,
    tag_str,
    tag_u32,
)

ALEX = "Users/alex"
CHROME = f"{ALEX}/AppData/Local/Google/Chrome/User Data/Default"
FIREFOX = f"{ALEX}/AppData/Roaming/Mozilla/Firefox/Profiles/ab12.default-release"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SHARED = b"community allotment newsletter, spring issue\n" * 100  # under one ED2K chunk
TORRENTED = b"open map tiles sample " * 2000  # 44,000 bytes, three 16 KiB pieces


def build_profile(root: Path) -> None:
    """A laptop's user folders: browsers, P2P clients, a wiper, and hostile files."""
    chrome_history_with_wal(root / CHROME)
    firefox_places(root / FIREFOX / "places.sqlite")
    firefox_formhistory(root / FIREFOX / "formhistory.sqlite")
    # Evidence text is hostile: a form field named like markup (shown in the report).
    conn = sqlite3.connect(root / FIREFOX / "formhistory.sqlite")
    conn.execute("UPDATE moz_formhistory SET fieldname = ? WHERE id = 2", (HOSTILE,))
    conn.commit()
    conn.close()
    # eMule: one shared file present on disk (tied by ED2K), one absent.
    config = root / f"{ALEX}/AppData/Local/eMule/config"
    config.mkdir(parents=True)
    present = hashlib.new("md4", SHARED).digest() if _native_md4() else _md4(SHARED)
    entries = [
        met_entry(
            1_709_300_000, present, [tag_str(0x01, "newsletter.txt"), tag_u32(0x02, len(SHARED))]
        ),
        met_entry(
            1_709_300_000, b"\x11" * 16, [tag_str(0x01, "absent.avi"), tag_u32(0x02, 999_999)]
        ),
    ]
    (config / "known.met").write_bytes(known_met(entries))
    _write(root / f"{ALEX}/Downloads/eMule/Incoming/newsletter.txt", SHARED)
    # qBittorrent: a torrent whose file is in Downloads (tied by its first piece).
    pieces = b"".join(
        hashlib.sha1(TORRENTED[i : i + 16384]).digest() for i in range(0, 44_000, 16384)
    )
    info = {"name": "tiles.txt", "length": len(TORRENTED), "piece length": 16384, "pieces": pieces}
    digest = hashlib.sha1(bencode(info)).hexdigest()
    backup = root / f"{ALEX}/AppData/Local/qBittorrent/BT_backup"
    _write(backup / f"{digest}.torrent", bencode({"info": info}))
    _write(
        backup / f"{digest}.fastresume",
        bencode(
            {
                "file-format": "libtorrent resume file",
                "info-hash": bytes.fromhex(digest),
                "name": "tiles.txt",
                "save_path": "C:\\Users\\alex\\Downloads",
                "added_time": 1_709_400_000,
            }
        ),
    )
    _write(root / f"{ALEX}/Downloads/tiles.txt", TORRENTED)
    _write(root / "Program Files/BleachBit/bleachbit.exe", b"MZ stub")
    # Hostile: a corrupt History, a WAL without its database, malformed resume data,
    # a truncated known.met.
    bob = root / "Users/bob/AppData/Local"
    _write(
        bob / "Google/Chrome/User Data/Default/History", b"SQLite format 3\x00" + b"\xff" * 3000
    )
    _write(bob / "Microsoft/Edge/User Data/Default/History-wal", b"\x37\x7f\x06\x82" + b"\0" * 60)
    _write(root / "Users/bob/AppData/Roaming/uTorrent/resume.dat", b"d10:.fileguard3:abc")
    _write(bob / "eMule/config/known.met", known_met(entries)[:70])


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _native_md4() -> bool:
    try:
        hashlib.new("md4")
    except ValueError:
        return False
    return True


def _md4(data: bytes) -> bytes:
    from unseen.internet.ed2k import PureMD4  # RFC 1320-tested in test_inet_foundations

    return PureMD4(data).digest()


@dataclass
class Built:
    case: Case
    evidence: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("internet")
    evidence = root / "evidence"
    build_profile(evidence)
    case = Case.create(root / "case", name="CASE-7")
    repo.add_source(case, "folder", str(evidence), "EV01", "tester")
    process_case(case, workers=0)
    return Built(case, evidence)


def _counts(case: Case) -> Counter[str]:
    with case.engine.connect() as conn:
        rows = conn.execute(select(s.artefacts.c.type, func.count()).group_by(s.artefacts.c.type))
        return Counter(dict(rows.all()))


EXPECTED = {
    "browser.visit": 5 + 3,  # Chrome (one visit only in the WAL) + Firefox
    "search.query": 3 + 1 + 1,  # Chrome: 2 URLs + keyword term; Firefox: URL; formhistory
    "browser.download": 1 + 1,
    "browser.form_entry": 1,
    "p2p.shared_file": 2 + 1,  # + the first entry of the truncated known.met
    "p2p.torrent": 2,
    "tool.presence": 4,  # BleachBit, eMule, qBittorrent, uTorrent (its resume.dat)
}


def test_artefacts_by_type(built: Built) -> None:
    assert _counts(built.case) == EXPECTED


def test_coverage_and_errors(built: Built) -> None:
    with built.case.engine.connect() as conn:
        rows = conn.execute(
            select(s.items.c.path, s.artefact_coverage.c.parser, s.artefact_coverage.c.status)
            .select_from(s.artefact_coverage.outerjoin(s.items))
            .order_by(s.artefact_coverage.c.id)
        ).all()
        errors = dict(
            conn.execute(
                select(s.items.c.path, s.artefact_errors.c.message).select_from(
                    s.artefact_errors.join(s.items)
                )
            ).all()
        )
    status = {(path, parser): st for path, parser, st in rows}
    bob = "Users/bob/AppData/Local"
    assert (
        status[(f"{bob}/Google/Chrome/User Data/Default/History", "chromium_history")] == "failed"
    )
    assert (
        status[(f"{bob}/Microsoft/Edge/User Data/Default/History-wal", "chromium_history")]
        == "failed"
    )
    assert status[("Users/bob/AppData/Roaming/uTorrent/resume.dat", "utorrent_resume")] == "failed"
    assert status[(f"{bob}/eMule/config/known.met", "emule_known_met")] == "ok"  # entry 0 kept
    assert status[(None, "presence_rules")] == "ok"
    assert errors[f"{bob}/Microsoft/Edge/User Data/Default/History-wal"].startswith(
        "SQLite write-ahead log without its database"
    )
    assert errors["Users/bob/AppData/Roaming/uTorrent/resume.dat"] == (
        "malformed bencode at offset 19: dictionary not terminated before the end of data"
    )
    assert errors[f"{bob}/eMule/config/known.met"].startswith("entry 1 at offset ")
    assert len(errors) == 4
    assert sum(1 for st in status.values() if st == "ok") == 8


def test_p2p_records_are_tied_to_case_files(built: Built) -> None:
    with built.case.engine.connect() as conn:
        links = conn.execute(
            select(s.items.c.path, s.artefact_links.c.method).select_from(
                s.artefact_links.join(s.items, s.items.c.id == s.artefact_links.c.item_id)
            )
        ).all()
        ed2k = conn.execute(select(s.item_ed2k.c.ed2k)).scalars().all()
        signals = conn.execute(
            select(s.artefact_signals.c.kind, func.count()).group_by(s.artefact_signals.c.kind)
        ).all()
    # Both known.met files name the newsletter: two records tied to the same file.
    assert sorted(links) == [
        (f"{ALEX}/Downloads/eMule/Incoming/newsletter.txt", "ed2k"),
        (f"{ALEX}/Downloads/eMule/Incoming/newsletter.txt", "ed2k"),
        (f"{ALEX}/Downloads/tiles.txt", "bt_first_piece"),
    ]
    assert ed2k == [_md4(SHARED).hex()]
    # 3 ed2k: two in the good known.met, one in the truncated one; 2 btih.
    assert sorted(signals) == [("btih", 2), ("ed2k", 3)]


def test_rerun_changes_nothing(built: Built) -> None:
    with built.case.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM artefact_coverage")).scalar()
    summary = process_case(built.case, workers=0)
    assert summary.stages["internet"].startswith("10 items matched, 0 parsed")
    assert _counts(built.case) == EXPECTED
    with built.case.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM artefact_coverage")).scalar() == before
        assert conn.execute(text("SELECT count(*) FROM artefact_links")).scalar() == 3


def test_jsonl_export_of_artefacts(built: Built) -> None:
    out = io.StringIO()
    count = EXPORTERS.get("jsonl")().export(built.case, out, "artefacts", {})
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(records) == sum(EXPECTED.values())
    assert set(records[0]) == {
        "id",
        "type",
        "source",
        "item_path",
        "record_ref",
        "parser",
        "parser_version",
        "ts_utc",
        "ts_raw",
        "ts_epoch",
        "data",
        "signals",
        "linked_items",
    }
    wal_visit = next(r for r in records if r["record_ref"] == "visits.id=5 urls.id=4")
    assert wal_visit["item_path"] == f"{CHROME}/History"
    assert wal_visit["source"] == "EV01"
    tied = next(r for r in records if r["type"] == "p2p.shared_file" and r["linked_items"])
    assert tied["linked_items"][0]["method"] == "ed2k"
    assert tied["signals"] == [{"kind": "ed2k", "value": _md4(SHARED).hex()}]


def test_report_renders_with_numbers_and_escapes(built: Built) -> None:
    out = io.StringIO()
    REPORTS.get("internet")().render(built.case, out)
    html = out.getvalue()
    assert HOSTILE not in html  # evidence text is escaped, never markup
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    )
    assert "<script" not in html.lower()
    assert "The records indicate 8 page visits in 2 browser profile(s)" in html
    assert "Absence of records does not show absence of activity" in html
    assert "weather leeds" in html and "for review" in html
    assert "in UTC" in html
    assert "BleachBit" in html and "qBittorrent" in html
    assert "newsletter.txt (ed2k)" in html
    assert "SQLite write-ahead log without its database" in html
    assert 'href="#p1"' in html and 'id="p1"' in html
    assert "http://" not in html.split("<body>")[0]  # no external resources in the head


def test_demo_role_in_a_process_pool(tmp_path: Path) -> None:
    from unseen.demo.builder import DemoBuilder
    from unseen.demo.internet import internet_usage

    laptop = tmp_path / "laptop"
    builder = DemoBuilder(laptop)
    internet_usage(builder)
    builder.pin_times()
    assert len(builder.items) == 10
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(laptop), "EV01-laptop", "tester")
    summary = process_case(case, workers=2)
    assert summary.stages["internet"] == (
        "5 items matched, 5 parsed: 99 records, 0 errors; 3 tools present; "
        "2 P2P records tied to case files"
    )
    out = io.StringIO()
    REPORTS.get("internet")().render(case, out)
    html = out.getvalue()
    for expected in (
        "weekend weather york",
        "bus-timetable.pdf",
        "open-map-tiles-sample.txt",
        "community-garden-plan.pdf",
        "garden planning",
        "BleachBit",
    ):
        assert expected in html
    shutil.rmtree(laptop)


def test_cli_report_and_export(built: Built, unseen_exe: Path, tmp_path: Path) -> None:
    case_dir = str(built.case.root)
    report = tmp_path / "profile.html"
    done = subprocess.run(
        [str(unseen_exe), "report", case_dir, "--kind", "internet", "-o", str(report)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "wrote internet report" in done.stderr
    assert "The records indicate 8 page visits" in report.read_text(encoding="utf-8")
    out = tmp_path / "artefacts.jsonl"
    subprocess.run(
        [str(unseen_exe), "export", case_dir, "--format", "jsonl", "--what", "artefacts",
         "-o", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert len(out.read_text(encoding="utf-8").splitlines()) == sum(EXPECTED.values())


def test_internet_tables_are_added_to_an_older_case(tmp_path: Path) -> None:
    case = Case.create(tmp_path / "case")
    mine = [s.artefact_links, s.artefact_signals, s.artefacts, s.artefact_coverage,
            s.artefact_errors, s.item_ed2k]  # fmt: skip
    with case.engine.begin() as conn:
        for table in mine:
            table.drop(conn)
        conn.execute(delete(s.schema_migrations).where(s.schema_migrations.c.version == 4))
    case.close()
    reopened = Case.open(tmp_path / "case")
    with reopened.engine.connect() as conn:
        assert {t.name for t in mine} <= set(inspect(conn).get_table_names())
        versions = conn.execute(select(s.schema_migrations.c.version)).scalars().all()
    assert 4 in versions
    reopened.close()


PG_SERVER = os.environ.get("UNSEEN_TEST_PG_URL")


@pytest.mark.postgres
@pytest.mark.skipif(
    not PG_SERVER,
    reason="UNSEEN_TEST_PG_URL is not set; run under `bash scripts/with-postgres.sh`",
)
def test_postgres_gives_the_same_artefacts(
    built: Built, tmp_path: Path, pg_database: Callable[[], str]
) -> None:
    case = Case.create(tmp_path / "pg", database_url=pg_database())
    repo.add_source(case, "folder", str(built.evidence), "EV01", "tester")
    # Only the stages this test is about (the others have their own PostgreSQL tests).
    process_case(case, workers=0, settings=Settings(skip=("correlate", "deep")))
    exported = [io.StringIO(), io.StringIO()]
    for target, out in zip((built.case, case), exported, strict=True):
        EXPORTERS.get("jsonl")().export(target, out, "artefacts", {})
    assert exported[0].getvalue() == exported[1].getvalue()
    html = io.StringIO()
    REPORTS.get("internet")().render(case, html)
    assert "The records indicate 8 page visits" in html.getvalue()
    case.close()


def test_history_inside_an_archive_and_an_oversized_file(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    history = chrome_history(tmp_path / "work" / "History")
    evidence.mkdir()
    with zipfile.ZipFile(evidence / "backup.zip", "w") as archive:
        archive.write(history, f"{CHROME}/History")
    huge = evidence / "eMule/config/AC_SearchStrings.dat"
    huge.parent.mkdir(parents=True)
    with huge.open("wb") as out:  # sparse: 17 MiB without using the disk
        out.truncate(17 * 1024 * 1024)
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(evidence), "EV02", "tester")
    process_case(case, workers=0)
    assert _counts(case)["browser.visit"] == 4
    with case.engine.connect() as conn:
        paths = conn.execute(
            select(s.items.c.path).where(s.items.c.id.in_(select(s.artefacts.c.item_id)))
        ).scalars()
        errors = conn.execute(select(s.artefact_errors.c.message)).scalars().all()
    assert set(paths) == {f"backup.zip!{CHROME}/History"}
    size = 17 * 1024 * 1024
    assert errors == [f"{size} bytes, over the 16777216-byte limit for emule_search_strings"]


def test_activity_heatmap(built: Built) -> None:
    from unseen.internet.coverage import build_profile

    with built.case.engine.connect() as conn:
        heat = build_profile(conn, built.case.info).heatmap
    # 2024-03-01 is a Friday (row 4): 9 records at 10h (Chrome 3 visits and a download,
    # Firefox 3 visits and a download, a search-box entry), one each at 11h and 12h;
    # the torrent was added on Saturday 2024-03-02 at 17:20.
    assert heat.total == 12
    assert (heat.counts[4][10], heat.counts[4][11], heat.counts[4][12]) == (9, 1, 1)
    assert heat.counts[5][17] == 1
    assert heat.peak == 9
