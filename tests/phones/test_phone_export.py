"""``unseen export CASE --what messages`` in JSON Lines and CSV, on the phone case."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from typer.testing import CliRunner

from unseen.cli.main import app

from .builders import SAM, WA_MEDIA
from .test_phone_pipeline import Built, built  # noqa: F401  (the module's case fixture)

runner = CliRunner()


def _export(case_root: Path, fmt: str, out: Path) -> str:
    result = runner.invoke(
        app, ["export", str(case_root), "--what", "messages", "--format", fmt, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_messages_jsonl(built: Built, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "messages.jsonl"
    assert "exported 11 records" in _export(built.case.root, "jsonl", out)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    sent = f"{WA_MEDIA}/Media/WhatsApp Images/Sent/IMG-20240301-WA0002.jpg"
    digest = hashlib.sha256(built.pics[sent]).hexdigest()
    second = records[1]
    item_id = second["attachments"][0]["item_id"]
    assert isinstance(item_id, int)
    assert second == {
        "id": 2,
        "app": "WhatsApp",
        "source": "ANDROID",
        "database_path": "data/data/com.whatsapp/databases/msgstore.db",
        "record_ref": "message _id 2",
        "conversation": {"key": SAM, "title": "Sam Carter", "is_group": False},
        "direction": "sent",
        "sender": None,
        "ts_utc": "2024-03-01T11:01:00.000000Z",
        "ts_raw": "1709290860000",
        "ts_epoch": "unix_ms",
        "text": "the new raised beds",
        "status": "read",
        "from_wal": False,
        "attachments": [
            {
                "ref_path": "Media/WhatsApp Images/Sent/IMG-20240301-WA0002.jpg",
                "name": "IMG-20240301-WA0002.jpg",
                "mime": "image/jpeg",
                "size": len(built.pics[sent]),
                "sha256_recorded": digest,
                "item_id": item_id,
                "item_path": sent,
                "md5": hashlib.md5(built.pics[sent]).hexdigest(),
                "sha1": hashlib.sha1(built.pics[sent]).hexdigest(),
                "sha256": digest,
                "link_method": "sha256",
                "absent": False,
            }
        ],
    }
    assert [r["from_wal"] for r in records].count(True) == 1
    assert [r["attachments"][0]["absent"] for r in records if r["attachments"]] == [
        False,
        False,
        True,
        False,
        True,
    ]


def test_messages_csv(built: Built, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "messages.csv"
    assert "exported 11 records" in _export(built.case.root, "csv", out)
    rows = list(csv.DictReader(out.open(newline="")))
    assert len(rows) == 11
    first, second = rows[0], rows[1]
    assert (first["conversation.key"], first["sender.handle"], first["direction"]) == (
        SAM,
        SAM,
        "received",
    )
    assert first["attachment_item_ids"] == "" and first["from_wal"] == "false"
    assert second["attachment_item_ids"] == str(json.loads(second["attachments"])[0]["item_id"])
    assert second["attachment_sha256"] == json.loads(second["attachments"])[0]["sha256"]


def test_messages_refuses_other_formats(built: Built, tmp_path: Path) -> None:  # noqa: F811
    result = runner.invoke(
        app, ["export", str(built.case.root), "--what", "messages", "--format", "vics"]
    )
    assert result.exit_code != 0
    assert "messages export as 'vics' is not available (jsonl or csv)" in result.output
