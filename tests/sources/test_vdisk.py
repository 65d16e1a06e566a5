"""Virtual disks (VMDK, VHD, VHDX, QCOW2) made by qemu-img from the raw test disks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unseen.sources.base import detect_kind

from . import artefacts as a
from .conftest import Built, Records

pytest.importorskip("pyvmdk")

CaseOf = Callable[..., tuple[Any, Records]]
FORMATS = {"vmdk": "vmdk", "vhd": "vpc", "vhdx": "vhdx", "qcow2": "qcow2"}


def rows(records: Records, source: str) -> list[tuple[Any, ...]]:
    """Everything an examiner compares across containers of one disk, per item."""
    return [
        (r["path"], r["kind"], r["deleted"], r["carved"], r["offset"], r["sha256"], r["errors"])
        for key, r in records.items()
        if key.startswith(f"{source}:")
    ]


@pytest.fixture(scope="session")
def virtual(root: Path, disk_image: Built, ntfs_image: Built) -> dict[str, Path]:
    """The MBR disk (FAT32 + ext4 + empty partition) and the NTFS volume in each format."""
    folder = root / "virtual"
    folder.mkdir()
    made = {}
    for name, fmt in FORMATS.items():
        made[f"disk.{name}"] = a.virtual_disk(disk_image.path, fmt, folder / f"disk.{name}")
        made[f"ntfs.{name}"] = a.virtual_disk(ntfs_image.path, fmt, folder / f"ntfs.{name}")
    return made


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_virtual_disk_yields_exactly_the_raw_disks_records(
    case_of: CaseOf, virtual: dict[str, Path], disk_image: Built, ntfs_image: Built, name: str
) -> None:
    disk, ntfs = virtual[f"disk.{name}"], virtual[f"ntfs.{name}"]
    assert detect_kind(disk) == "vdisk"
    _, got = case_of(disk, ntfs)
    _, raw = case_of(disk_image.path, ntfs_image.path)
    assert rows(got, disk.name) == rows(raw, "disk.raw")
    assert rows(got, ntfs.name) == rows(raw, "ntfs.raw")
    assert len(rows(got, disk.name)) == 14
