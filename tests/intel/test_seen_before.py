"""Seen before: what case A promoted is found in case B, with case A named."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from unseen.correlation.queries import top_leads
from unseen.intel.promote import promote_cluster
from unseen.intel.store import IntelEntry, IntelLibrary, retention_date
from unseen.store.case import Case

from .cases import case_a, case_b, cluster_id

pytest.importorskip("onnxruntime", reason="needs the scene extra (make test installs it)")
pytest.importorskip("cv2", reason="needs the scene extra (make test installs it)")
pytest.importorskip("pywt", reason="needs the prnu extra (make test installs it)")


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Case, Case, list[IntelEntry]]]:
    root = tmp_path_factory.mktemp("seen")
    home = root / "library"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UNSEEN_HOME", str(home))
        a = case_a(root)
        with IntelLibrary.open() as library:
            until = retention_date(None)
            series = promote_cluster(
                a, library, cluster_id(a, "scene"), "bedroom series", until, "VID-0042"
            )
            device = promote_cluster(
                a, library, cluster_id(a, "camera", "Canon"), "canon 80d", until
            )
        b = case_b(root)
        yield a, b, [series, device]


def leads_by_path(case: Case) -> dict[str, dict[str, dict[str, object]]]:
    with case.engine.connect() as conn:
        leads = top_leads(conn, "item", 100)
    return {lead["item"]: {r["signal"]: r for r in lead["reasons"]} for lead in leads}


def test_promotions_hold_what_the_matchers_need(
    world: tuple[Case, Case, list[IntelEntry]],
) -> None:
    _, _, (series, device) = world
    assert (series.kind, series.case_ref, series.victim_ref) == ("series", "2025/117", "VID-0042")
    assert series.details["scenes"] == 3 and series.details["hashes"] == 3
    assert (device.kind, device.details["devices"], device.details["hashes"]) == ("device", 1, 0)
    with IntelLibrary.open(series_home(world)) as library, library.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT camera, serial, width, height, side, originals, length(fingerprint) "
            "FROM intel_devices"
        ).one()
    assert tuple(row) == ("Canon EOS 80D", "183012345678", 384, 288, 288, 5, 288 * 288 * 2)


def series_home(world: tuple[Case, Case, list[IntelEntry]]) -> Path:
    return world[0].root.parent / "library"


def test_the_series_is_found_under_a_new_viewpoint_and_recompression(
    world: tuple[Case, Case, list[IntelEntry]],
) -> None:
    leads = leads_by_path(world[1])
    reason = leads["chat/same_room.jpg"]["seen_series"]
    assert reason["weight"] == 5.0
    detail = str(reason["detail"])
    assert detail.startswith(
        "same room as series 'bedroom series' from case 2025/117; identified victim, "
        "record VID-0042: "
    ), detail
    assert re.fullmatch(
        r".*: \d+ features agree in one geometry over \d+% of the picture with its item [1-3] "
        r"\(embedding cosine 0\.\d\d\)",
        detail,
    ), detail
    # Not merely a near-duplicate: the new viewpoint is too far for PDQ.
    assert "seen_near" not in leads["chat/same_room.jpg"]
    assert str(reason["provenance"]).startswith(
        "intelligence library entry 'bedroom series' (series) from case 2025/117, promoted by "
    )
    assert "seen_series" not in leads["chat/other_room.jpg"]


def test_the_camera_serial_and_the_sensor_are_found(
    world: tuple[Case, Case, list[IntelEntry]],
) -> None:
    leads = leads_by_path(world[1])
    camera = leads["DCIM/100CANON/IMG_0042.JPG"]["seen_camera"]
    assert camera["detail"] == (
        "camera Canon EOS 80D serial 183012345678 seen before: device 'canon 80d' "
        "from case 2025/117"
    )
    sensor = str(leads["chat/same_sensor.jpg"]["seen_sensor"]["detail"])
    assert sensor.startswith("sensor noise matches Canon EOS 80D serial 183012345678 (PCE ")
    assert sensor.endswith("> 60): device 'canon 80d' from case 2025/117")
    for stranger in ("chat/other_sensor.jpg", "DCIM/100D3500/DSC_0001.JPG", "chat/other_room.jpg"):
        assert not {s for s in leads[stranger] if s.startswith("seen_")}, stranger


def test_each_entry_met_is_a_cluster_naming_the_earlier_case(
    world: tuple[Case, Case, list[IntelEntry]],
) -> None:
    with world[1].engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.label, i.path FROM clusters c JOIN cluster_members m "
            "ON m.cluster_id = c.id JOIN items i ON i.id = m.item_id "
            "WHERE c.kind = 'seen_before' ORDER BY c.label, i.path"
        ).all()
    assert [tuple(r) for r in rows] == [
        ("seen before: device 'canon 80d' from case 2025/117", "DCIM/100CANON/IMG_0042.JPG"),
        ("seen before: device 'canon 80d' from case 2025/117", "chat/same_sensor.jpg"),
        ("seen before: series 'bedroom series' from case 2025/117", "chat/same_room.jpg"),
    ]


def test_promotion_is_in_the_case_audit_log(world: tuple[Case, Case, list[IntelEntry]]) -> None:
    with world[0].engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT action, target FROM audit_log WHERE action = 'intel_promote' ORDER BY id"
        ).all()
    assert [r[0] for r in rows] == ["intel_promote", "intel_promote"]
    assert rows[0][1].startswith("cluster ")


def test_the_review_ui_shows_seen_before_on_the_item_and_cluster_pages(
    world: tuple[Case, Case, list[IntelEntry]],
) -> None:
    from fastapi.testclient import TestClient

    from unseen.review import auth
    from unseen.review.app import create_app
    from unseen.store.case import write_engine

    b = world[1]
    engine = write_engine(b.engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        auth.add_user(conn, "rob", "reviewer", "correct horse battery", created_by="tests")
    engine.dispose()
    with b.engine.connect() as conn:
        item, cluster = conn.exec_driver_sql(
            "SELECT m.item_id, c.id FROM clusters c JOIN cluster_members m "
            "ON m.cluster_id = c.id JOIN items i ON i.id = m.item_id "
            "WHERE c.kind = 'seen_before' AND i.path = 'chat/same_room.jpg'"
        ).one()
    client = TestClient(create_app(Case.open(b.root)), follow_redirects=False)
    form = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert form is not None
    done = client.post(
        "/login",
        data={"name": "rob", "password": "correct horse battery", "csrf": form.group(1)},
    )
    assert done.status_code == 303, done.text
    page = client.get(f"/item/{item}").text
    section = page.split('<ul id="seen-before">', 1)[1].split("</ul>", 1)[0]
    assert f'<a href="/grid?cluster={cluster}">seen before: series &#39;bedroom series&#39; ' in (
        section
    )
    assert "same room as series &#39;bedroom series&#39; from case 2025/117" in section
    grid = client.get(f"/grid?cluster={cluster}").text
    assert 'id="seen-before"' in grid and "agency intelligence library" in grid
