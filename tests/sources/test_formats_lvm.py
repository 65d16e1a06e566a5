"""LVM2: a physical volume laid out by code (``lvm``) around FAT32 and ext4 images
made by their real tools, read through libvslvm, each logical volume examined as a
partition is: the same records as the file-system images alone, under its name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unseen.core.settings import Settings
from unseen.sources.base import detect_kind

from . import artefacts as a
from . import lvm
from .conftest import Records

pytest.importorskip("pyvslvm")

CaseOf = Callable[..., tuple[Any, Records]]
NO_CARVE = Settings(carve_unallocated=False)


def rows(records: Records, source: str) -> list[tuple[Any, ...]]:
    return [
        (r["path"], r["kind"], r["deleted"], r["sha256"], r["volume"], r["errors"])
        for key, r in sorted(records.items())
        if key.startswith(f"{source}:")
    ]


def under(records: Records, source: str, volume: str) -> list[tuple[Any, ...]]:
    """The records of a file-system image as they show inside logical volume ``volume``."""
    return [(f"{volume}/{p}", k, d, h, volume, e) for p, k, d, h, _, e in rows(records, source)]


@pytest.fixture(scope="session")
def lvm_images(root: Path) -> dict[str, Path]:
    folder = root / "lvm"
    folder.mkdir()
    fat, ext = folder / "fat.raw", folder / "ext.raw"
    a.fat32(fat, {"DCIM/one.txt": b"first volume\n", "gone.txt": b"deleted\n"}, ["gone.txt"])
    files = {"home/notes.txt": b"second volume\n", "old.txt": b"deleted too\n"}
    a.ext4(ext, files, ["old.txt"], size="8M")
    pv = lvm.physical_volume(folder / "pv.raw", "vg_case", [("lv_fat", fat), ("lv_home", ext)])
    disk = folder / "disk.raw"
    a.mbr_disk(disk, pv.stat().st_size // 2**20 + 2, [(2048, pv, "8e")])
    return {
        "fat": fat,
        "ext": ext,
        "pv": pv,
        "disk": disk,
        "vmdk": a.virtual_disk(disk, "vmdk", folder / "disk.vmdk"),
    }


def test_lvm2s_own_checker_accepts_the_built_physical_volume(lvm_images: dict[str, Path]) -> None:
    """pvck (lvm2) checks the label and metadata-area CRCs and reads the text back."""
    a.need("pvck")
    import subprocess

    def pvck(*args: str) -> str:
        done = subprocess.run(
            ["pvck", *args, str(lvm_images["pv"])], capture_output=True, text=True, timeout=60
        )
        return done.stdout + done.stderr

    headers = pvck("--dump", "headers")
    assert "label_header.id LABELONE" in headers and "CHECK:" not in headers
    text = pvck("--dump", "metadata")
    assert "lv_fat {" in text and "lv_home {" in text and "vg_case {" in text


def test_each_logical_volume_yields_its_file_systems_records(
    case_of: CaseOf, lvm_images: dict[str, Path]
) -> None:
    fat, ext, pv = lvm_images["fat"], lvm_images["ext"], lvm_images["pv"]
    assert detect_kind(pv) == "raw"
    _, alone = case_of(fat, ext, settings=NO_CARVE)
    _, got = case_of(pv, settings=NO_CARVE)
    expected = under(alone, fat.name, "lv_fat") + under(alone, ext.name, "lv_home")
    assert rows(got, pv.name) == sorted(expected)
    # FAT keeps a deleted name without its first letter.
    assert ("lv_fat/_one.txt", "file", True, a.sha256(b"deleted\n"), "lv_fat", []) in expected
    assert [r[0] for r in expected if not r[2]] == [
        "lv_fat/DCIM/one.txt", "lv_home/home/notes.txt"
    ]  # fmt: skip


def test_a_physical_volume_in_a_partition_and_in_a_vmdk(
    case_of: CaseOf, lvm_images: dict[str, Path]
) -> None:
    pv, disk, vmdk = lvm_images["pv"], lvm_images["disk"], lvm_images["vmdk"]
    _, got = case_of(pv, disk, vmdk, settings=NO_CARVE)
    inside = [(f"p1/{p}", k, d, h, f"p1/{v}", e) for p, k, d, h, v, e in rows(got, pv.name)]
    assert rows(got, disk.name) == inside
    assert rows(got, vmdk.name) == inside


def test_damaged_lvm_metadata_is_an_item_not_examined(
    root: Path, lvm_images: dict[str, Path]
) -> None:
    from unseen.sources.containers import Limits
    from unseen.sources.disk import DiskReader

    data = bytearray(lvm_images["pv"].read_bytes()[: 2 * 2**20])
    data[lvm.MDA_START + 4 : lvm.MDA_START + 20] = b"not the lvm magic"[:16]
    path = root / "pv-damaged.raw"
    path.write_bytes(bytes(data))
    with path.open("rb") as f:
        entries = [m.entry for m in DiskReader(f).members(Limits(carve=False))]
    assert [(e.path, e.kind) for e in entries] == [(".", "other")]
    assert entries[0].errors[0].startswith("not examined: LVM2 metadata damaged (")
