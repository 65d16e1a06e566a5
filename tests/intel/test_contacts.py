"""A contact promoted from case A: pictures exchanged with it in case B are seen before.

The messaging rows are written directly (the phone parsers have their own tests);
what is tested here is the path contact cluster -> library -> seen-before reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert

from unseen.core.settings import Settings
from unseen.correlation.queries import top_leads
from unseen.correlation.stage import CorrelationStage
from unseen.intel.promote import promote_cluster
from unseen.intel.store import IntelLibrary, retention_date
from unseen.store import schema as s
from unseen.store.case import Case

from .cases import cluster_id
from .test_library import ids, make_case

HANDLE = "+447700900123@s.whatsapp.net"


def exchanged(case: Case, pictures: list[str], database: str) -> None:
    """Record ``pictures`` as received from HANDLE in a WhatsApp chat of ``database``."""
    found = ids(case)
    db = found[database]
    with case.engine.begin() as conn:
        contact = conn.execute(
            insert(s.msg_contacts).values(item_id=db, app="whatsapp", handle=HANDLE, owner=False)
        ).inserted_primary_key[0]  # type: ignore[index]
        chat = conn.execute(
            insert(s.msg_conversations).values(
                item_id=db,
                app="whatsapp",
                key=HANDLE,
                title="Sam",
                is_group=False,
                record_ref="chat 1",
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        for n, picture in enumerate(pictures):
            message = conn.execute(
                insert(s.messages).values(
                    item_id=db,
                    app="whatsapp",
                    conversation_id=chat,
                    sender_id=contact,
                    direction="received",
                    ts_utc=f"2025-01-0{n + 1}T10:00:00Z",
                    from_wal=False,
                    record_ref=f"message {n}",
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                insert(s.media_provenance).values(
                    item_id=found[picture],
                    db_item_id=db,
                    app="whatsapp",
                    direction="received",
                    contact_id=contact,
                    conversation_id=chat,
                    message_id=message,
                    ts_utc=f"2025-01-0{n + 1}T10:00:00Z",
                    source_of_record="test",
                )
            )
    CorrelationStage().run(case, Settings(), 0)


def test_pictures_from_a_promoted_contact_are_seen_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "library"
    monkeypatch.setenv("UNSEEN_HOME", str(home))
    a = make_case(tmp_path, "2025/117", {f"a/{n}.jpg": (900 + n, 90) for n in range(3)})
    exchanged(a, ["a/0.jpg", "a/1.jpg"], "a/2.jpg")
    with IntelLibrary.open(home) as library:
        entry = promote_cluster(a, library, cluster_id(a, "contact"), "sam", retention_date(None))
    assert (entry.kind, entry.details["contacts"]) == ("contact", 1)
    b = make_case(tmp_path, "2026/004", {f"b/{n}.jpg": (910 + n, 90) for n in range(4)})
    exchanged(b, ["b/0.jpg", "b/1.jpg"], "b/3.jpg")
    with b.engine.connect() as conn:
        leads = {x["item"]: {r["signal"]: r for r in x["reasons"]} for x in top_leads(conn)}
    assert leads["b/0.jpg"]["seen_contact"]["detail"] == (
        f"received from contact {HANDLE} (whatsapp), seen before: contact 'sam' from case 2025/117"
    )
    assert "seen_contact" not in leads["b/2.jpg"]
