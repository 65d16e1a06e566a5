"""The demo's USB stick image and clip read back as planted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unseen.demo.builder import DemoBuilder
from unseen.demo.disk import (
    DATA_SECTOR,
    PART_START,
    SECTOR,
    laptop_vmdk,
    picture,
    stick_image,
    usb_stick,
)
from unseen.sources.streams import binary
from unseen.sources.vdisk import VirtualDiskReader

from .artefacts import sha256
from .conftest import Records

pytest.importorskip("pytsk3")


def test_stick_image_holds_live_deleted_zipped_and_lost_photos(
    case_of: Callable[..., tuple[Any, Records]], tmp_path: Path
) -> None:
    shots = [picture(i) for i in range(8)]
    image = tmp_path / "usb-stick.dd"
    image.write_bytes(stick_image(shots[:3], shots[3:5], shots[5:7], shots[7]))
    _, records = case_of(image)
    got = {r["path"]: r for r in records.values()}
    media = "p1/DCIM/100MEDIA/"
    lost = (PART_START + DATA_SECTOR + 3000 - 2) * SECTOR
    expected = {
        "p1/HOLIDAY.ZIP": (False, False, None),
        f"{media}IMG_0001.JPG": (False, False, None),
        f"{media}IMG_0002.JPG": (False, False, None),
        f"{media}IMG_0003.JPG": (False, False, None),
        f"{media}_MG_0004.JPG": (True, False, None),  # FAT keeps no first letter
        f"{media}_MG_0005.JPG": (True, False, None),
        "p1/HOLIDAY.ZIP!holiday/beach1.jpg": (False, False, None),
        "p1/HOLIDAY.ZIP!holiday/beach2.jpg": (False, False, None),
    }
    carved = {p: r for p, r in got.items() if r["carved"]}
    assert {
        p: (r["deleted"], r["carved"], r["offset"]) for p, r in got.items() if p not in carved
    } == expected
    assert [got[f"{media}IMG_000{i}.JPG"]["sha256"] for i in (1, 2, 3)] == [
        sha256(s) for s in shots[:3]
    ]
    assert got[f"{media}_MG_0005.JPG"]["sha256"] == sha256(shots[4])
    assert got["p1/HOLIDAY.ZIP!holiday/beach2.jpg"]["sha256"] == sha256(shots[6])
    # The deleted photos' clusters are free, so carving finds them again, plus the lost one.
    assert sorted(r["sha256"] for r in carved.values()) == sorted(
        sha256(s) for s in (*shots[3:5], shots[7])
    )
    assert got[f"p1/$Unallocated/carved-{lost}.jpg"]["sha256"] == sha256(shots[7])


def test_usb_stick_role_writes_one_manifest_item(tmp_path: Path) -> None:
    builder = DemoBuilder(tmp_path)
    usb_stick(builder)
    (item,) = builder.items
    assert (item.path, item.role) == ("Evidence/usb-stick.dd", "disk_image")
    data = (tmp_path / item.path).read_bytes()
    assert (item.size, item.sha256) == (len(data), sha256(data))
    assert len(data) == (PART_START + 4096) * SECTOR


def test_laptop_vmdk_role_is_a_sparse_vmdk_of_a_stick_like_disk(
    case_of: Callable[..., tuple[Any, Records]], tmp_path: Path
) -> None:
    pytest.importorskip("pyvmdk")
    builder = DemoBuilder(tmp_path / "demo")
    laptop_vmdk(builder)
    (item,) = builder.items
    assert (item.path, item.role) == ("Evidence/vm/laptop.vmdk", "disk_image")
    shots = [picture(i) for i in range(30, 38)]
    raw = tmp_path / "laptop.raw"
    raw.write_bytes(stick_image(shots[:3], shots[3:5], shots[5:7], shots[7]))
    with (tmp_path / "demo" / item.path).open("rb") as f:
        media = VirtualDiskReader(binary(f)).media
        media.seek(0)
        assert media.read() == raw.read_bytes()
    _, from_raw = case_of(raw)
    _, from_folder = case_of(tmp_path / "demo" / "Evidence")
    nested = {
        r["path"].removeprefix("vm/laptop.vmdk!"): (r["deleted"], r["carved"], r["sha256"])
        for r in from_folder.values()
        if r["path"].startswith("vm/laptop.vmdk!")
    }
    assert nested == {
        r["path"]: (r["deleted"], r["carved"], r["sha256"]) for r in from_raw.values()
    }
    assert len(nested) == 11
