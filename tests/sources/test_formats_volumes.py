"""Formats no tool here can produce: volume shadow copies, BitLocker, FileVault 2,
encrypted APFS. A shadow copy is laid out by code (``vss_image``) over an NTFS volume
made by mkntfs and changed as Windows deletes, and read through libvshadow. For the
encrypted volumes what can be tested without a real one is: each is recognised, one
without its key is an item "not examined: give --key", a damaged one is a recorded
error with the rest of the disk still listed. Unlocking real BitLocker, FileVault and
APFS volumes is left to libbde, libfvde and libfsapfs and is untested here."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from unseen.core.models import Entry
from unseen.sources.base import detect_kind
from unseen.sources.containers import Limits
from unseen.sources.crypt import key_digest
from unseen.sources.disk import DiskReader
from unseen.sources.ewf import MAGIC2
from unseen.sources.vss import GUID, HEADER_AT

from . import artefacts as a
from . import vss_image

NO_CARVE = Limits(carve=False)


def listing(path: Path, keys: dict[str, str] | None = None) -> tuple[list[Entry], list[str]]:
    with path.open("rb") as f:
        reader = DiskReader(f, keys)
        entries = [m.entry for m in reader.members(NO_CARVE)]
        return entries, reader.errors


# ------------------------------------------------------------ volume shadow copies


@pytest.fixture(scope="session")
def ntfs_volume(root: Path) -> Path:
    path = root / "vss-ntfs.raw"
    a.ntfs(path, {"kept.txt": b"on the live volume\n"}, {})
    return path


@pytest.fixture(scope="session")
def shadowed(root: Path) -> dict[str, Path]:
    """An NTFS volume whose shadow copy still holds gone.txt, deleted since (as Windows
    deletes), and the same volume as the second partition of an MBR disk."""
    old, live = root / "vss-old.raw", root / "vss-live.raw"
    a.ntfs(old, {"kept.txt": b"on the live volume\n", "gone.txt": GONE}, {})
    live.write_bytes(old.read_bytes())
    a.ntfs_delete(live, "gone.txt")
    data = live.read_bytes()
    free = vss_image.free_region(data, 16)
    volume = root / "vss.raw"
    volume.write_bytes(vss_image.with_snapshot(old.read_bytes(), data, free))
    disk = root / "vss-disk.raw"
    a.mbr_disk(disk, 40, [(2048, root / "vss-old.raw", "7"), (2048 + 32768, volume, "7")])
    return {"volume": volume, "disk": disk}


GONE = b"deleted after the snapshot was taken\n" * 40


def test_a_file_deleted_since_the_snapshot_is_an_item_of_snapshot_1(
    shadowed: dict[str, Path],
) -> None:
    pytest.importorskip("pyvshadow")
    entries, errors = listing(shadowed["volume"])
    assert [(e.path, e.kind, e.deleted, e.snapshot, e.locator) for e in entries] == [
        ("gone.txt", "file", True, None, b"f0:i65"),
        ("kept.txt", "file", False, None, b"f0:i64"),
        ("$VSS1/gone.txt", "file", False, 1, b"s0:1/f0:i65"),
    ]
    assert errors == [
        "volume shadow copy 1 of the volume (created 2023-11-14 00:00:00): 1 files "
        "identical to the live volume, not listed again"
    ]
    with shadowed["volume"].open("rb") as f:
        reader = DiskReader(f)
        list(reader.members(NO_CARVE))
        from unseen.core.locator import DiskAddress

        content = reader.open_member(DiskAddress.decode(b"s0:1/f0:i65")).read()
    assert content == GONE


def test_the_export_names_the_snapshot(case_of: Any, shadowed: dict[str, Path]) -> None:
    pytest.importorskip("pyvshadow")
    from unseen.core.settings import Settings

    volume = shadowed["volume"]
    _, records = case_of(volume, settings=Settings(carve_unallocated=False))
    got = {
        r["path"]: (r["deleted"], r["snapshot"], r["sha256"])
        for key, r in records.items()
        if key.startswith(f"{volume.name}:")
    }
    # The note on the identical copies is the source's own (its "." item).
    assert records[f"{volume.name}:."]["errors"] == [
        "listing: volume shadow copy 1 of the volume (created 2023-11-14 00:00:00): 1 files "
        "identical to the live volume, not listed again"
    ]
    assert got == {
        ".": (False, None, None),
        "gone.txt": (True, None, a.sha256(GONE)),
        "kept.txt": (False, None, a.sha256(b"on the live volume\n")),
        "$VSS1/gone.txt": (False, 1, a.sha256(GONE)),
    }


def test_shadow_copies_of_a_partition_keep_its_name(shadowed: dict[str, Path]) -> None:
    pytest.importorskip("pyvshadow")
    entries, _ = listing(shadowed["disk"])
    at = (2048 + 32768) * 512
    assert [(e.path, e.deleted, e.snapshot, e.volume, e.locator) for e in entries] == [
        ("p1/gone.txt", False, None, "p1", b"f1048576:i65"),
        ("p1/kept.txt", False, None, "p1", b"f1048576:i64"),
        ("p2/gone.txt", True, None, "p2", b"f%d:i65" % at),
        ("p2/kept.txt", False, None, "p2", b"f%d:i64" % at),
        ("p2/$VSS1/gone.txt", False, 1, "p2", b"s%d:1/f0:i65" % at),
    ]


def with_vss_header(source: Path, target: Path, header: bytes) -> Path:
    data = bytearray(source.read_bytes())
    data[HEADER_AT : HEADER_AT + len(header)] = header
    target.write_bytes(bytes(data))
    return target


def test_damaged_shadow_copy_catalog_is_recorded_and_the_live_volume_listed(
    root: Path, ntfs_volume: Path
) -> None:
    pytest.importorskip("pyvshadow")
    # A volume header as Windows writes it (version 1, record type 1) whose catalog
    # offset points at bytes that are no catalog.
    header = GUID + struct.pack("<IIQQQQQ", 1, 1, HEADER_AT, 0, 0, 0x4000, 2**20)
    path = with_vss_header(ntfs_volume, root / "vss-damaged.raw", header)
    entries, _ = listing(path)
    assert [(e.path, e.kind, e.snapshot) for e in entries] == [
        ("kept.txt", "file", None),
        ("$VSS", "other", None),
    ]
    assert entries[1].errors == (
        "not examined: volume shadow copies damaged (libvshadow_io_handle_read_catalog_header"
        "_data: invalid catalog header identifier)",
    )
    assert entries[1].locator == b"s0:0/v0"


def test_shadow_copy_header_without_catalog_lists_the_live_volume_only(
    root: Path, ntfs_volume: Path
) -> None:
    pytest.importorskip("pyvshadow")
    header = GUID + struct.pack("<IIQQQQQ", 1, 1, HEADER_AT, 0, 0, 0, 0)
    path = with_vss_header(ntfs_volume, root / "vss-empty.raw", header)
    entries, errors = listing(path)
    assert [(e.path, e.kind) for e in entries] == [("kept.txt", "file")]
    assert errors == []


# ------------------------------------------------------------- encrypted volumes


def header_only(path: Path, head: bytes, size: int = 2**20) -> Path:
    path.write_bytes(head + bytes(size - len(head)))
    return path


BITLOCKER = b"\xeb\x58\x90-FVE-FS-" + struct.pack("<HB", 512, 8)
# A Core Storage volume header: "CS", version 1, at byte 88.
FILEVAULT = bytes(88) + b"CS\x01\x00" + struct.pack("<I", 4096)


@pytest.mark.parametrize(
    ("label", "head", "module"),
    [("BitLocker", BITLOCKER, "pybde"), ("FileVault", FILEVAULT, "pyfvde")],
)
def test_encrypted_volume_without_key_is_not_examined(
    root: Path, label: str, head: bytes, module: str
) -> None:
    pytest.importorskip(module)
    path = header_only(root / f"{label}.raw", head)
    assert detect_kind(path) == "raw"
    entries, _ = listing(path)
    assert [(e.path, e.kind, e.errors) for e in entries] == [
        (
            ".",
            "other",
            (f"not examined: encrypted {label} volume; give --key whole=KEY to examine it",),
        )
    ]


@pytest.mark.parametrize(
    ("label", "head", "module"),
    [("BitLocker", BITLOCKER, "pybde"), ("FileVault", FILEVAULT, "pyfvde")],
)
def test_damaged_encrypted_volume_with_a_key_is_recorded_by_digest(
    root: Path, label: str, head: bytes, module: str
) -> None:
    pytest.importorskip(module)
    path = header_only(root / f"{label}-keyed.raw", head)
    entries, _ = listing(path, {"whole": "s3cret key"})
    ((entry),) = entries
    assert entry.path == "." and entry.kind == "other"
    assert entry.errors[0].startswith(
        f"not examined: encrypted {label} volume not unlocked with the key given for whole "
        f"(sha256 {key_digest('s3cret key')[:16]}...): "
    )
    assert "s3cret" not in entry.errors[0]


def test_encrypted_partition_is_named_by_its_partition(root: Path) -> None:
    pytest.importorskip("pybde")
    volume = header_only(root / "bde-part.raw", BITLOCKER, 2**20)
    disk = root / "bde-disk.raw"
    a.mbr_disk(disk, 3, [(2048, volume, "7")])
    entries, _ = listing(disk)
    assert [(e.path, e.errors) for e in entries] == [
        ("p1", ("not examined: encrypted BitLocker volume; give --key p1=KEY to examine it",))
    ]


# ------------------------------------------------------------------- Ex01, APFS


def test_ex01_segment_is_recognised_and_a_damaged_one_recorded(root: Path) -> None:
    pytest.importorskip("pyewf")
    from unseen.sources.ewf import EwfReader

    path = root / "broken.Ex01"
    path.write_bytes(MAGIC2 + bytes(2000))
    assert detect_kind(path) == "ewf"
    with path.open("rb") as f, pytest.raises(Exception, match="E01 not readable"):
        EwfReader(f)


def test_damaged_apfs_container_is_an_item_not_examined(root: Path) -> None:
    pytest.importorskip("pyfsapfs")
    # The signature and object type, nothing valid behind them.
    head = bytes(24) + b"\x01\x00\x00\x80" + bytes(4) + b"NXSB" + bytes(4096 - 36)
    path = header_only(root / "apfs-damaged.raw", head)
    entries, _ = listing(path)
    assert [(e.path, e.kind) for e in entries] == [(".", "other")]
    assert entries[0].errors[0].startswith("not examined: APFS container damaged (")
