"""Device links: camera models named by a phone's own files or by device artefacts."""

from __future__ import annotations

import json
import plistlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from unseen.core.settings import Settings
from unseen.correlation.groupings.devices import build_prop_models, normalise
from unseen.correlation.queries import top_leads
from unseen.correlation.stage import CorrelationStage
from unseen.demo.synth import CAMERAS, exif_for, render_scene, save_camera_jpeg
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case

UDID = "0f1e2d3c4b5a69788796a5b4c3d2e1f001234567"
BUILD_PROP = """# begin build properties
ro.build.id=SP1A.210812.016
ro.product.system.model=SM-G991B
ro.product.model=SM-G991B
ro.product.manufacturer=samsung
"""


def shot(path: Path, camera: str, scene: int, n: int) -> None:
    body = CAMERAS[camera]
    when = datetime(2024, 5, 11, 9, 30) + timedelta(minutes=3 * n)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_camera_jpeg(path, render_scene(scene, (160, 120)), exif_for(body, when), camera=body)


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    root = tmp_path_factory.mktemp("devices")
    ev = root / "ev"
    shot(ev / "Phone backup/DCIM/Camera/20240511_093000.jpg", "galaxy-s21", 401, 0)
    shot(ev / "Phone backup/DCIM/Camera/20240511_093300.jpg", "galaxy-s21", 402, 1)
    shot(ev / "iPhone/DCIM/100APPLE/IMG_4501.JPG", "iphone-12", 403, 2)
    shot(ev / "Pictures/DSC_0001.JPG", "nikon-d3500", 404, 3)
    write(ev / "Phone backup/system/build.prop", BUILD_PROP.encode())
    info = {"Device Name": "Sam's iPhone", "Product Type": "iPhone13,2", "Product Version": "17.1"}
    write(ev / f"MobileSync/Backup/{UDID}/Info.plist", plistlib.dumps(info))
    # An application bundle's Info.plist is not a device's: never read as one.
    app = {"CFBundleName": "Viewer", "Product Type": "iPhone13,3"}
    write(ev / "Applications/Viewer.app/Contents/Info.plist", plistlib.dumps(app))
    write(ev / "Phone backup/system/broken/build.prop", b"\xff\xfe\x00garbage=\n=\n")
    write(ev / "Windows/usb.txt", b"USB devices (test anchor)\n")
    c = Case.create(root / "case")
    repo.add_source(c, "folder", str(ev), "EV1", "tester")
    process_case(c, workers=0)
    return c


def device_clusters(case: Case) -> list[tuple[str, list[tuple[str, str]]]]:
    with case.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.label, i.path, m.reason FROM clusters c JOIN cluster_members m "
            "ON m.cluster_id = c.id JOIN items i ON i.id = m.item_id "
            "WHERE c.kind = 'device' ORDER BY c.label, i.path"
        ).all()
    found: dict[str, list[tuple[str, str]]] = {}
    for label, path, reason in rows:
        found.setdefault(label, []).append((path, reason))
    return sorted(found.items())


def test_phone_files_link_the_camera_models_they_name(case: Case) -> None:
    samsung = "Phone backup/system/build.prop"
    backup = f"MobileSync/Backup/{UDID}/Info.plist"
    assert device_clusters(case) == [
        (
            f"camera model SM-G991B is a device found in the case: {samsung}",
            [
                ("Phone backup/DCIM/Camera/20240511_093000.jpg",
                 f"EXIF camera model SM-G991B is the device named by {samsung}"),
                ("Phone backup/DCIM/Camera/20240511_093300.jpg",
                 f"EXIF camera model SM-G991B is the device named by {samsung}"),
                (samsung, "names the device model SM-G991B (ro.product.model)"),
            ],
        ),
        (
            f"camera model iPhone 12 is a device found in the case: {backup}",
            [
                (backup, "names the device model iPhone 12 (Product Type iPhone13,2)"),
                ("iPhone/DCIM/100APPLE/IMG_4501.JPG",
                 f"EXIF camera model iPhone 12 is the device named by {backup}"),
            ],
        ),
    ]  # fmt: skip


def test_a_device_link_raises_the_lead(case: Case) -> None:
    with case.engine.connect() as conn:
        leads = {lead["item"]: lead for lead in top_leads(conn, "item", 50)}
    reasons = {r["signal"]: r for r in leads["iPhone/DCIM/100APPLE/IMG_4501.JPG"]["reasons"]}
    assert reasons["device"]["weight"] == 2.0
    backup = f"MobileSync/Backup/{UDID}/Info.plist"
    assert reasons["device"]["detail"] == (
        f"camera model iPhone 12 is a device found in the case: {backup}"
    )
    nikon = {r["signal"] for r in leads["Pictures/DSC_0001.JPG"]["reasons"]}
    assert "device" not in nikon


def test_usb_device_artefacts_link_camera_models_too(case: Case) -> None:
    with case.engine.begin() as conn:
        anchor = conn.exec_driver_sql(
            "SELECT id FROM items WHERE path = 'Windows/usb.txt'"
        ).scalar_one()
        data = {
            "vendor": "NIKON",
            "product": "DSC_D3500",
            "friendly_name": "NIKON D3500 USB Device",
        }
        conn.exec_driver_sql(
            "INSERT INTO artefacts (item_id, parser, parser_version, type, record_ref, data) "
            "VALUES (?, 'registry_system', '1', 'device.usb', 'key USBSTOR', ?)",
            (anchor, json.dumps(data)),
        )
        conn.exec_driver_sql(
            "INSERT INTO artefacts (item_id, parser, parser_version, type, record_ref, data) "
            "VALUES (?, 'registry_system', '1', 'device.usb', 'key USBSTOR', 'not json')",
            (anchor,),
        )
    try:
        CorrelationStage().run(case, Settings(), 0)
        found = dict(device_clusters(case))
    finally:
        with case.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM artefacts")
        CorrelationStage().run(case, Settings(), 0)
    where = "device.usb NIKON D3500 recorded in Windows/usb.txt"
    assert found[f"camera model NIKON D3500 is a device found in the case: {where}"] == [
        ("Pictures/DSC_0001.JPG", f"EXIF camera model NIKON D3500 is the device named by {where}"),
        ("Windows/usb.txt", "names the device model NIKON D3500 (device.usb friendly_name)"),
    ]


def test_models_compare_whole_after_normalisation() -> None:
    assert normalise("SM-G991B") == normalise("sm g991b") == "sm g991b"
    assert normalise("iPhone 12") != normalise("iPhone 12 Pro")
    assert build_prop_models(BUILD_PROP) == [
        ("SM-G991B", "ro.product.model"),
        ("SM-G991B", "ro.product.system.model"),
    ]
