"""Virtual disks (VMDK, VHD, VHDX, QCOW2) made by qemu-img from the raw test disks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from unseen.core.settings import Settings
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


# ------------------------------------------------------------- nesting and hostile input

NO_CARVE = Settings(carve_unallocated=False)


@pytest.fixture(scope="session")
def nested(root: Path, fat_image: Built) -> Path:
    """A folder of virtual disks: one sparse VMDK, a QCOW2 inside a zip, and the ones
    that cannot be examined (a descriptor whose extent is a separate file, a damaged
    descriptor, a QCOW2 overlay, a file named .vhd that is none)."""
    work = root / "nested-work"
    work.mkdir()
    folder = root / "nested"
    folder.mkdir()
    a.virtual_disk(fat_image.path, "vmdk", folder / "camera.vmdk")
    qcow = a.virtual_disk(fat_image.path, "qcow2", work / "disk.qcow2")
    (folder / "pack.zip").write_bytes(a.zip_bytes({"vm/disk.qcow2": qcow.read_bytes()}))
    a.virtual_disk(fat_image.path, "vmdk", folder / "flat.vmdk", "subformat=monolithicFlat")
    (folder / "cut.vmdk").write_bytes((folder / "flat.vmdk").read_bytes()[:100])
    a.run("qemu-img", "create", "-q", "-u", "-f", "qcow2", "-b", "base.raw", "-F", "raw",
          folder / "overlay.qcow2", "8M")  # fmt: skip
    (folder / "fake.vhd").write_bytes(b"not a disk at all\n" * 10)
    a.virtual_disk(fat_image.path, "vmdk", folder / "split.vmdk", "subformat=twoGbMaxExtentSparse")
    return folder


def test_virtual_disks_inside_a_folder_and_an_archive_are_examined(
    case_of: CaseOf, nested: Path, fat_image: Built
) -> None:
    _, records = case_of(nested, settings=NO_CARVE)
    got = {r["path"]: r for k, r in records.items() if k.startswith("nested:")}
    files = fat_image.photos
    # A descriptor and its extent files in the same folder are read together.
    examined = ("camera.vmdk!", "pack.zip!vm/disk.qcow2!", "flat.vmdk!", "split.vmdk!")
    for outer in (*examined, "flat-flat.vmdk!"):
        for name, data in files.items():
            item = got[outer + name]
            assert (item["sha256"], item["deleted"]) == (a.sha256(data), name == "deleted_me.jpg")
    chain = got["pack.zip!vm/disk.qcow2!tree.jpg"]["container"]
    assert chain == ["pack.zip", "pack.zip!vm/disk.qcow2"]


def test_virtual_disks_that_cannot_be_examined_say_so(case_of: CaseOf, nested: Path) -> None:
    case, records = case_of(nested, settings=NO_CARVE)
    got = {r["path"]: r for k, r in records.items() if k.startswith("nested:")}
    expected = {
        "cut.vmdk": "VMDK descriptor damaged or unreadable (libvmdk_descriptor_file_read_extents:"
        " invalid line index value out of bounds)",
        "fake.vhd": "named .vhd but its content is no format unseen reads",
        "overlay.qcow2": "QCOW overlay whose backing file 'base.raw' is never opened (it lies "
        "outside this evidence); add the complete chain as evidence",
        "split-s001.vmdk": "one extent of a split VMDK, without a descriptor of its own: it is "
        "read through the descriptor .vmdk that names it; add that descriptor with its "
        "extent files as a source",
    }
    for name, reason in expected.items():
        assert got[name]["errors"] == [f"containers: not examined: {reason}"], name
        assert not any(p.startswith(f"{name}!") for p in got)
    status = case_status_of(case)["not_examined"]
    assert status["items"] == 4
    order = list(got)  # listing order, as status shows them
    assert [(r["path"], r["reason"]) for r in status["shown"]] == sorted(
        expected.items(), key=lambda kv: order.index(kv[0])
    )


def case_status_of(case: Any) -> dict[str, Any]:
    from unseen.reports.status import case_status

    with case.engine.connect() as conn:
        return case_status(conn, case.info)


def test_vmdk_extent_outside_the_evidence_folder_is_never_followed(
    case_of: CaseOf, tmp_path: Path, fat_image: Built
) -> None:
    secret = tmp_path / "secret.raw"
    secret.write_bytes(fat_image.path.read_bytes())
    folder = tmp_path / "evidence"
    folder.mkdir()
    a.virtual_disk(fat_image.path, "vmdk", folder / "ok.vmdk", "subformat=monolithicFlat")
    descriptor = (folder / "ok.vmdk").read_text()
    (folder / "up.vmdk").write_text(descriptor.replace('"ok-flat.vmdk"', '"../secret.raw"'))
    (folder / "abs.vmdk").write_text(descriptor.replace('"ok-flat.vmdk"', f'"{secret}"'))
    (folder / "link-flat.vmdk").symlink_to(secret)
    (folder / "link.vmdk").write_text(descriptor.replace('"ok-flat.vmdk"', '"link-flat.vmdk"'))
    reasons = {
        "up.vmdk": "VMDK extent file '../secret.raw' not opened: it names a file outside the "
        "evidence folder (never followed)",
        "abs.vmdk": f"VMDK extent file '{secret}' not opened: it names a file outside the "
        "evidence folder (never followed)",
        "link.vmdk": "VMDK extent file 'link-flat.vmdk' not opened: not a regular file (a link "
        "or device is never followed)",
    }
    for name, reason in reasons.items():
        assert detect_kind(folder / name) == "vdisk"
        _, records = case_of(folder / name, settings=NO_CARVE)
        assert [(r["path"], r["kind"], r["errors"]) for r in records.values()] == [
            (".", "other", [f"listing: not examined: {reason}"])
        ], name
    _, records = case_of(folder / "ok.vmdk", settings=NO_CARVE)
    assert len(records) == 4


def test_review_grid_filters_not_examined_items(case_of: CaseOf, nested: Path) -> None:
    from unseen.core.schemes import load_scheme
    from unseen.review.data import CaseView
    from unseen.review.grid import GridFilter, GridQuery

    case, _ = case_of(nested, settings=NO_CARVE)
    view = CaseView(load_scheme("uk"))
    with case.engine.connect() as conn:
        flt = GridFilter.from_params({"unexamined": "yes"})
        page = GridQuery(view, conn, flt).page(50)
    assert sorted(r["path"] for r in page.rows) == [
        "cut.vmdk",
        "fake.vhd",
        "overlay.qcow2",
        "split-s001.vmdk",
    ]


def test_truncated_sparse_vmdk_records_what_it_lost(case_of: CaseOf, tmp_path: Path) -> None:
    a.need("mkfs.vfat", "mcopy")
    rng = np.random.default_rng(7)
    first, second = rng.bytes(300_000), rng.bytes(300_000)
    fs = tmp_path / "fs.raw"
    a.run("mkfs.vfat", "-C", fs, "8192")
    for name, data in (("a.bin", first), ("b.bin", second)):
        (tmp_path / name).write_bytes(data)
        a.run("mcopy", "-i", fs, tmp_path / name, f"::/{name}")
    whole = a.virtual_disk(fs, "vmdk", tmp_path / "whole.vmdk").read_bytes()
    cut = tmp_path / "cut" / "cut.vmdk"
    cut.parent.mkdir()
    cut.write_bytes(whole[: len(whole) - 200_000])  # the last grains are gone
    _, records = case_of(cut, settings=NO_CARVE)
    got = {r["path"]: r for r in records.values()}
    assert (got["a.bin"]["sha256"], got["a.bin"]["errors"]) == (a.sha256(first), [])
    assert got["b.bin"]["sha256"] is None
    assert got["b.bin"]["errors"] == [
        "read: cannot read: content not recoverable: the VMDK image is damaged under it "
        "(reading at byte 0 of the file)"
    ]


def test_extent_beside_a_descriptor_in_a_folder_is_never_a_link(
    case_of: CaseOf, tmp_path: Path, fat_image: Built
) -> None:
    outside = tmp_path / "outside.raw"
    outside.write_bytes(fat_image.path.read_bytes())
    folder = tmp_path / "evidence"
    folder.mkdir()
    a.virtual_disk(fat_image.path, "vmdk", tmp_path / "d.vmdk", "subformat=monolithicFlat")
    descriptor = (tmp_path / "d.vmdk").read_text()
    (folder / "up.vmdk").write_text(descriptor.replace('"d-flat.vmdk"', '"../outside.raw"'))
    (folder / "link.vmdk").write_text(descriptor.replace('"d-flat.vmdk"', '"link-flat.vmdk"'))
    (folder / "link-flat.vmdk").symlink_to(outside)
    _, records = case_of(folder, settings=NO_CARVE)
    got = {r["path"]: r["errors"] for r in records.values()}
    assert got == {
        "link-flat.vmdk": [
            "listing: symbolic link not followed (points to '" + str(outside) + "')"
        ],
        "link.vmdk": [
            "containers: not examined: VMDK extent file 'link-flat.vmdk' not opened: not a "
            "regular file (a link or device is never followed)"
        ],
        "up.vmdk": [
            "containers: not examined: VMDK extent file '../outside.raw' not opened: it names "
            "a file outside the evidence folder (never followed)"
        ],
    }


def test_status_lists_not_examined_items_with_hostile_names_as_text(
    case_of: CaseOf, tmp_path: Path, unseen_exe: Path
) -> None:
    import os
    import subprocess

    folder = tmp_path / "ev"
    folder.mkdir()
    (folder / "a[red]b.vhd").write_bytes(b"not a disk\n")
    case, _ = case_of(folder, fresh=True)
    shown = subprocess.run(
        [str(unseen_exe), "status", str(case.root)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )
    assert shown.returncode == 0, shown.stderr
    assert "not examined" in shown.stdout
    assert "ev:a[red]b.vhd" in shown.stdout
    assert "named .vhd but its content is no format unseen reads" in shown.stdout
