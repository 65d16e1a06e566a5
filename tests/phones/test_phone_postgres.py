"""The phones stage on a case kept in PostgreSQL (UNSEEN_TEST_PG_URL; ``bash
scripts/with-postgres.sh`` starts a throwaway server): the same messages, links and
provenance as on SQLite, and text search without FTS5."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.phones.people import rank_people
from unseen.phones.search import PG_INDEX, PG_VECTOR, search_ids
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import ios_sms, whatsapp_android
from .test_phone_pipeline import SKIP, _attachments, _messages

SERVER = os.environ.get("UNSEEN_TEST_PG_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not SERVER,
        reason="UNSEEN_TEST_PG_URL is not set; run under `bash scripts/with-postgres.sh`",
    ),
]


@pytest.fixture
def cases(tmp_path: Path, pg_database: Callable[[], str]) -> Iterator[tuple[Case, Case]]:
    url = pg_database()
    whatsapp_android(tmp_path / "android")
    ios_sms(tmp_path / "iphone/private/var/mobile")
    built = []
    for label, db in (("pg", url), ("lite", None)):
        case = Case.create(tmp_path / label, name=label, database_url=db)
        repo.add_source(case, "folder", str(tmp_path / "android"), "ANDROID", "tester")
        repo.add_source(case, "folder", str(tmp_path / "iphone"), "IPHONE", "tester")
        process_case(case, workers=0, settings=Settings(skip=SKIP))
        built.append(case)
    yield built[0], built[1]
    for case in built:
        case.close()


def test_same_results_on_postgresql(cases: tuple[Case, Case]) -> None:
    pg, lite = cases
    for app in ("WhatsApp", "iMessage/SMS"):
        assert _messages(pg, app) == _messages(lite, app)
    assert _attachments(pg) == _attachments(lite)
    with pg.engine.connect() as a, lite.engine.connect() as b:
        assert [p.label for p in rank_people(a)] == [p.label for p in rank_people(b)]
        assert len(search_ids(a, "SHED meeting")) == len(search_ids(b, "SHED meeting")) == 1


# (query, the messages it finds, as (app, record_ref), oldest first)
SEARCHES: tuple[tuple[str, list[tuple[str, str]]], ...] = (
    ("SHED meeting", [("WhatsApp", "message _id 5")]),
    ("allotment?", [("WhatsApp", "message _id 1")]),
    ("see you THERE", [("iMessage/SMS", "message ROWID 3"), ("WhatsApp", "message _id 6")]),
    ("library", [("iMessage/SMS", "message ROWID 1")]),
    ("tod", []),  # words, not substrings: "today" is not found by its start
    ("Allotment club", []),  # a group's title is not message text
    ("shed & !meeting | (", [("WhatsApp", "message _id 5")]),  # operators are text
    ("garden", []),
)


def _found(case: Case, query: str) -> list[tuple[str, str]]:
    m = s.messages
    with case.engine.connect() as conn:
        ids = search_ids(conn, query)
        refs = dict(
            (r.id, (r.app, r.record_ref))
            for r in conn.execute(select(m.c.id, m.c.app, m.c.record_ref).where(m.c.id.in_(ids)))
        )
    return [refs[i] for i in ids]


def test_full_text_search_on_postgresql(cases: tuple[Case, Case]) -> None:
    """PostgreSQL full-text search finds exactly what FTS5 finds on the same phones,
    through the GIN index the stage made (not a scan with ILIKE)."""
    pg, lite = cases
    for query, expected in SEARCHES:
        assert _found(pg, query) == _found(lite, query) == expected, query
    with pg.engine.connect() as conn:
        made = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": PG_INDEX}
        ).scalar_one()
        assert "gin" in made and "to_tsvector('simple'::regconfig" in made
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(
            conn.execute(
                text(
                    f"EXPLAIN SELECT id FROM messages WHERE {PG_VECTOR} @@ "
                    "plainto_tsquery('simple', 'shed')"
                )
            ).scalars()
        )
        assert PG_INDEX in plan
