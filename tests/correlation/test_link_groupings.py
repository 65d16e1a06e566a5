"""The groupings that tie pictures to where they came from and to each other's time:
camera model and JPEG tables, folders, time windows across cameras, downloads.

Built on case rows written directly (the facts each grouping reads), so each grouping
is checked alone with exact clusters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, update

from unseen.correlation.base import Cluster
from unseen.correlation.facts import (
    HeldFacts,
    ItemFacts,
    StoredFacts,
    dihedral,
    dihedral_lists,
    load_facts,
)
from unseen.correlation.groupings.camera import CameraTablesGrouping
from unseen.correlation.groupings.downloads import DownloadGrouping
from unseen.correlation.groupings.folders import FolderGrouping
from unseen.correlation.groupings.sessions import SessionGrouping
from unseen.correlation.groupings.windows import WindowGrouping
from unseen.store import schema as s
from unseen.store.case import Case

TABLES_A = "a" * 64
TABLES_B = "b" * 64
PICTURES = {
    # id: (path, make, model, serial, taken, qtables)
    1: ("DCIM/IMG_1.JPG", "Apple", "iPhone 12", None, "2024-05-01T20:00:00", TABLES_A),
    2: ("DCIM/IMG_2.JPG", "Apple", "iPhone 12", None, "2024-05-01T20:04:00", TABLES_A),
    3: ("DCIM/IMG_3.JPG", "Apple", "iPhone 12", None, "2024-05-03T09:00:00", TABLES_B),
    4: ("cam/DSC_4.JPG", "NIKON", "D3500", "6012345", "2024-05-01T20:09:00", TABLES_B),
    5: ("Downloads/beach.jpg", None, None, None, None, None),
    6: ("Downloads/park.jpg", None, None, None, None, None),
    7: ("Downloads/film.mp4.part", None, None, None, None, None),
}


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[Connection]:
    case = Case.create(tmp_path / "case")
    with case.engine.begin() as c:
        c.execute(
            insert(s.sources).values(
                id=1,
                label="EV",
                kind="folder",
                path="/ev",
                added_by="t",
                added_at="t",
                enumerated=True,
            )
        )
        for i, (path, make, model, serial, taken, tables) in PICTURES.items():
            c.execute(
                insert(s.items).values(
                    id=i,
                    source_id=1,
                    path=path,
                    locator=str(i).encode(),
                    kind="file",
                    status="done",
                    sha256=f"{i:064x}",
                    mime="image/jpeg",
                )
            )
            c.execute(insert(s.images).values(item_id=i, jpeg_qtables=tables))
            if make:
                c.execute(
                    insert(s.exif).values(
                        item_id=i, make=make, model=model, serial=serial, datetime_original=taken
                    )
                )
        torrent = c.execute(
            insert(s.artefacts).values(
                item_id=7,
                parser="bittorrent",
                parser_version="1",
                type="p2p.torrent",
                record_ref="resume.dat",
                data=json.dumps({"name": "holiday pack"}),
            )
        ).inserted_primary_key[0]
        for i in (5, 6):
            c.execute(
                insert(s.artefact_links).values(
                    artefact_id=torrent, item_id=i, method="btih piece", detail="piece 0"
                )
            )
        for n, (name, ts) in enumerate(
            (("beach.jpg", "2024-05-02T10:00:00"), ("park.jpg", "2024-05-02T10:07:00"))
        ):
            data = {
                "browser": "Chrome",
                "profile": "Default",
                "url": f"https://x/{n}",
                "target_path": f"C:\\Users\\sam\\Downloads\\{name}",
            }
            c.execute(
                insert(s.artefacts).values(
                    item_id=7,
                    parser="chromium_history",
                    parser_version="2",
                    type="browser.download",
                    ts_utc=ts,
                    record_ref=f"downloads id {n}",
                    data=json.dumps(data),
                )
            )
    with case.engine.connect() as c:
        yield c
    case.close()


def summary(clusters: list[Cluster]) -> list[tuple[str, str, float, list[int]]]:
    return [(c.key, c.label, c.confidence, [m.item_id for m in c.members]) for c in clusters]


def test_camera_model_and_tables_tie_pictures_without_a_serial(conn: Connection) -> None:
    digest = hashlib.sha256(TABLES_A.encode()).hexdigest()[:12]  # not the tables themselves
    found = summary(list(CameraTablesGrouping().group(StoredFacts(conn), conn)))
    assert found == [
        (f"Apple iPhone 12|{digest}", f"Apple iPhone 12, JPEG tables {digest}", 1.0, [1, 2])
    ]


def test_folders_group_what_was_stored_together(conn: Connection) -> None:
    found = summary(list(FolderGrouping().group(StoredFacts(conn), conn)))
    assert found == [
        ("1|DCIM", "DCIM", 1.0, [1, 2, 3]),
        ("1|Downloads", "Downloads", 1.0, [5, 6, 7]),
    ]


def test_time_windows_join_different_cameras_minutes_apart(conn: Connection) -> None:
    found = summary(list(WindowGrouping().group(StoredFacts(conn), conn)))
    assert found == [
        ("2024-05-01T20:00:00", "2024-05-01 20:00-20:09, 2 cameras", 0.5, [1, 2, 4]),
    ]


def test_downloads_group_a_torrent_and_a_browser_batch(conn: Connection) -> None:
    found = summary(list(DownloadGrouping().group(StoredFacts(conn), conn)))
    assert found == [
        ("artefact:1", "p2p.torrent holiday pack", 1.0, [5, 6]),
        (
            "browser:Chrome Default|2024-05-02T10:00:00",
            "Chrome Default downloads 2024-05-02 10:00-10:07 UTC",
            1.0,
            [5, 6],
        ),
    ]


def test_facts_keep_repeated_values_once_and_read_dihedral_hashes_from_the_store(
    conn: Connection,
) -> None:
    own, turned = "1" * 64, "2" * 64
    conn.execute(
        update(s.images)
        .where(s.images.c.item_id == 1)
        .values(pdq=own, pdq_dihedral=f"{own},{turned}")
    )
    conn.execute(update(s.images).where(s.images.c.item_id == 2).values(pdq=own))
    damaged = f"{'zz' * 32},{turned}"  # not hex, though of a hash's length
    conn.execute(
        update(s.images).where(s.images.c.item_id == 3).values(pdq=own, pdq_dihedral=damaged)
    )
    facts = load_facts(conn)
    assert facts[0].make is facts[1].make and facts[0].jpeg_qtables is facts[1].jpeg_qtables
    assert facts[0].path is not facts[1].path
    assert list(dihedral_lists(conn, [(f.id, f.pdq) for f in facts])) == [
        f"{own},{turned}",
        own,
        damaged,
        "",
        "",
        "",
        "",
    ]
    assert dihedral(conn, facts[:4]) == {1: [own, turned], 2: [own], 3: [turned], 4: []}
    with pytest.raises(ValueError, match="ascending"):
        list(dihedral_lists(conn, [(f.id, f.pdq) for f in facts[::-1]]))


def test_a_capture_time_with_an_offset_is_read_as_the_cameras_clock() -> None:
    # Stored by an older reader or another tool: "10:00+01" parses as an aware time,
    # which cannot be compared with (or counted from) the naive ones beside it.
    def shot(item_id: int, taken: str, model: str) -> ItemFacts:
        return ItemFacts(
            item_id, 1, f"{item_id}.jpg", f"{item_id:064x}", "image/jpeg",
            make="Canon", model=model, datetime_original=taken,
        )  # fmt: skip

    facts = HeldFacts(
        [
            shot(1, "2024-06-02T20:00+01", "EOS 80D"),
            shot(2, "2024-06-02T20:05:00", "EOS 80D"),
            shot(3, "2024-06-02T20:07:00Z", "EOS 5D"),
        ]
    )
    sessions = list(SessionGrouping().group(facts, None))  # type: ignore[arg-type]
    assert [(c.label, [m.reason for m in c.members]) for c in sessions] == [
        (
            "Canon EOS 80D, 2024-06-02 20:00-20:05, 2 pictures",
            [
                "taken 20:00:00 in session Canon EOS 80D, 2024-06-02 20:00-20:05, 2 pictures",
                "taken 20:05:00 in session Canon EOS 80D, 2024-06-02 20:00-20:05, 2 pictures",
            ],
        )
    ]
    windows = list(WindowGrouping().group(facts, None))  # type: ignore[arg-type]
    assert [[m.item_id for m in c.members] for c in windows] == [[1, 2, 3]]
