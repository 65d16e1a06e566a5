"""The demo phone: an iPhone backup that shows conversations exchanging benign pictures,
a camera original the owner sent on, an absent attachment and a benign indicator."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from unseen.core.settings import Settings
from unseen.demo.phone import build_demo_phone
from unseen.engine.runner import process_case
from unseen.sources.base import detect_kind
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case


def test_demo_phone(tmp_path: Path) -> None:
    phone = tmp_path / "phone"
    assert build_demo_phone(phone) == f"an iPhone backup with 12 messages in {phone}"
    assert detect_kind(phone) == "apple_backup"
    case = Case.create(tmp_path / "case", name="DEMO-PHONE")
    repo.add_source(case, "apple_backup", str(phone), "EV02-phone", "tester")
    process_case(case, workers=0, settings=Settings(skip=("deep", "internet")))
    m, a, p, ld, i = s.messages, s.msg_attachments, s.media_provenance, s.leads, s.items
    with case.engine.connect() as conn:
        per_app = conn.execute(select(m.c.app, m.c.direction)).all()
        files = conn.execute(select(a.c.link_method, a.c.absent).order_by(a.c.id)).all()
        facts = conn.execute(select(p.c.direction).order_by(p.c.id)).scalars().all()
        reasons = conn.execute(
            select(i.c.path, ld.c.reasons)
            .join(i, i.c.id == ld.c.target_id)
            .where(ld.c.target_kind == "item")
        ).all()
    assert sorted(per_app) == sorted(
        [("WhatsApp", d) for d in ("received", "sent", "received", "sent", "received",
                                   "received", "sent")]
        + [("iMessage/SMS", d) for d in ("received", "sent", "received", "received", "received")]
    )  # fmt: skip
    assert sorted((str(f[0]), f[1]) for f in files) == [
        ("None", True),
        ("path", False),
        ("path", False),
        ("path", False),
        ("path", False),
    ]
    assert sorted(facts) == ["received", "received", "received", "sent"]
    signals = {
        (path, r["signal"]) for path, raw in reasons for r in json.loads(raw)
        if r["signal"] in ("camera_original_sent", "sent_by_owner", "seized_phone_model")
    }  # fmt: skip
    assert ("CameraRollDomain/Media/DCIM/100APPLE/IMG_0101.JPG", "camera_original_sent") in (
        signals
    )
    assert ("CameraRollDomain/Media/DCIM/100APPLE/IMG_0102.JPG", "camera_original_sent") not in (
        signals
    )
    assert {path for path, sig in signals if sig == "seized_phone_model"} == {
        "CameraRollDomain/Media/DCIM/100APPLE/IMG_0101.JPG",
        "CameraRollDomain/Media/DCIM/100APPLE/IMG_0102.JPG",
    }
