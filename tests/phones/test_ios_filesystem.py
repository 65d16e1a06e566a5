"""An iOS full-file-system extraction as a ZIP with a leading ``filesystem1/``: app
containers resolved to bundle ids, WhatsApp and Messages read inside the archive."""

from __future__ import annotations

import plistlib
import zipfile
from pathlib import Path

from sqlalchemy import select

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.sources.base import detect_kind
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from .builders import WA_IOS_MEDIA, ios_sms, whatsapp_ios

UUID = "5A1C9E0B-7D44-4F7E-9C1A-2B3C4D5E6F70"
GROUP = f"filesystem1/private/var/mobile/Containers/Shared/AppGroup/{UUID}"
META = ".com.apple.mobile_container_manager.metadata.plist"


def test_ios_filesystem_zip(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    whatsapp_ios(tree / GROUP)
    (tree / GROUP / META).write_bytes(
        plistlib.dumps(
            {
                "MCMMetadataIdentifier": "group.net.whatsapp.WhatsApp.shared",
                "MCMMetadataContentClass": 7,
            },
            fmt=plistlib.FMT_BINARY,
        )
    )
    ios_sms(tree / "filesystem1/private/var/mobile")
    archive = tmp_path / "iphone-ffs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(tree.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(tree).as_posix())
    case = Case.create(tmp_path / "case", name="FFS")
    repo.add_source(case, detect_kind(archive), str(archive), "IPHONE-FFS", "tester")
    process_case(case, workers=0, settings=Settings(skip=("deep", "internet", "correlate")))
    ap, m, a, i = s.phone_apps, s.messages, s.msg_attachments, s.items
    with case.engine.connect() as conn:
        apps = conn.execute(select(ap.c.container, ap.c.kind, ap.c.identifier)).all()
        counts = conn.execute(select(m.c.app, m.c.id)).all()
        tied = (
            conn.execute(select(i.c.path).join(a, a.c.linked_item_id == i.c.id).order_by(i.c.path))
            .scalars()
            .all()
        )
    assert [tuple(r) for r in apps] == [(GROUP, "group", "group.net.whatsapp.WhatsApp.shared")]
    assert sorted(app for app, _ in counts) == ["WhatsApp"] * 3 + ["iMessage/SMS"] * 5
    assert list(tied) == [
        f"{GROUP}/{WA_IOS_MEDIA}",
        "filesystem1/private/var/mobile/Library/SMS/Attachments/0a/10/8C1F-AB/IMG_0005.jpeg",
    ]
