"""The Communications section of ``unseen report --kind internet`` on the phone case,
and the agency-editable indicator terms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unseen.internet.coverage import build_profile
from unseen.phones.report import add_communications, indicator_terms
from unseen.reports.registry import REPORTS

from .test_phone_pipeline import Built, built  # noqa: F401  (the module's case fixture)


def _section(built: Built) -> dict[str, list[list[str]]]:  # noqa: F811
    with built.case.engine.connect() as conn:
        profile = build_profile(conn, built.case.info)
        add_communications(conn, profile)
    keys = [x.key for x in profile.sections]
    assert keys.index("communications") == keys.index("contact") + 1
    section = profile.sections[keys.index("communications")]
    return {t.title: [line.cells for line in t.lines] for t in section.tables}


def test_communications_tables(built: Built) -> None:  # noqa: F811
    tables = _section(built)
    assert tables["Messaging applications"] == [
        ["WhatsApp", "6", "2", "4", "2024-03-01 11:00:00Z", "2024-03-01 11:05:00Z"],
        ["iMessage/SMS", "5", "2", "3", "2024-03-01 01:00:00Z", "2024-03-01 05:00:00Z"],
    ]
    contacts = tables[
        "Contacts who exchanged pictures or videos (ranked as unseen people ranks them)"
    ]
    assert [row[:4] for row in contacts] == [
        ["WhatsApp", "Sam Carter (447700900111@s.whatsapp.net)", "1", "1"],
        ["iMessage/SMS", "+447700900333", "0", "1"],
    ]
    chats = tables["Conversations that exchanged pictures or videos"]
    assert [row[:6] for row in chats] == [
        [
            "WhatsApp",
            "chat with Sam Carter",
            "1",
            "1",
            "2024-03-01 11:01:00Z",
            "2024-03-01 11:02:00Z",
        ],
        [
            "iMessage/SMS",
            "chat with +447700900333",
            "0",
            "1",
            "2024-03-01 04:00:00Z",
            "2024-03-01 04:00:00Z",
        ],
    ]
    hours = {row[0]: row[1] for row in tables["Messages by hour of day (UTC)"]}
    assert [hours[h] for h in ("01", "02", "03", "04", "05", "11")] == [
        "1",
        "1",
        "1",
        "1",
        "1",
        "6",
    ]
    assert sum(int(v) for v in hours.values()) == 11


def test_indicator_terms_are_counted_with_their_messages(built: Built) -> None:  # noqa: F811
    indicators = _section(built)["Indicator terms, for a trained assessor to read in context"]
    counts = {row[0]: row[1] for row in indicators}
    assert counts == {
        "requests for pictures": "0",
        "questions about age": "0",
        "secrecy": "0",
        "arranging to meet": "0",
    }


def test_agency_terms_file_replaces_the_default(
    built: Built,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path))
    terms = {"groups": {"garden words": ["raised beds", "ALLOTMENT"]}}
    (tmp_path / "indicator_terms.json").write_text(json.dumps(terms))
    assert indicator_terms() == {"garden words": ["raised beds", "allotment"]}
    (row,) = _section(built)["Indicator terms, for a trained assessor to read in context"]
    assert row[:2] == ["garden words", "2"]
    assert row[2].startswith(
        "message 1 (data/data/com.whatsapp/databases/msgstore.db: message _id 1); "
    )


def test_report_html_has_the_section(built: Built, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "internet.html"
    with out.open("w") as f:
        REPORTS.get("internet")().render(built.case, f)
    page = out.read_text()
    assert '<h2 id="communications">Communications (messages on phones)</h2>' in page
    assert "A match is not a finding" in page
