"""Disk images through The Sleuth Kit: file systems, deleted files, streams, carving."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unseen.core.settings import Settings
from unseen.sources.base import detect_kind

from .artefacts import sha256
from .conftest import Built, Records

pytest.importorskip("pytsk3")

CaseOf = Callable[..., tuple[Any, Records]]


def rows(records: Records, source: str) -> list[tuple[Any, ...]]:
    """(path, kind, deleted, carved, offset, sha256) of each item of one source, in order."""
    return [
        (r["path"], r["kind"], r["deleted"], r["carved"], r["offset"], r["sha256"])
        for key, r in records.items()
        if key.startswith(f"{source}:")
    ]


def carved(offset: int, blob: bytes, ext: str, prefix: str = "") -> tuple[Any, ...]:
    path = f"{prefix}$Unallocated/carved-{offset}.{ext}"
    return (path, "file", False, True, offset, sha256(blob))


def test_fat32_lists_allocated_and_deleted_and_carves_free_clusters(
    case_of: CaseOf, fat_image: Built, photos: dict[str, bytes]
) -> None:
    assert detect_kind(fat_image.path) == "raw"
    _, records = case_of(fat_image.path)
    off = fat_image.offsets
    assert rows(records, "fat32.raw") == [
        ("deleted_me.jpg", "file", True, False, None, sha256(photos["deleted_me.jpg"])),
        ("tree.jpg", "file", False, False, None, sha256(photos["tree.jpg"])),
        ("DCIM/beach.jpg", "file", False, False, None, sha256(photos["beach.jpg"])),
        ("DCIM/car.jpg", "file", False, False, None, sha256(photos["car.jpg"])),
        # The deleted file's clusters are free: carving finds it there too.
        carved(off["deleted_me.jpg"], photos["deleted_me.jpg"], "jpg"),
        carved(off["planted.jpg"], photos["planted.jpg"], "jpg"),
        carved(off["planted.png"], photos["planted.png"], "png"),
        carved(off["planted.gif"], photos["planted.gif"], "gif"),
    ]
    assert all(r["errors"] == [] for r in records.values())
    planted = records[f"fat32.raw:$Unallocated/carved-{off['planted.jpg']}.jpg"]
    assert (planted["mime"], planted["width"], planted["height"]) == ("image/jpeg", 320, 240)
    assert planted["container"] == []


def test_ext4_deleted_file_is_recovered(
    case_of: CaseOf, ext_image: Built, photos: dict[str, bytes]
) -> None:
    _, records = case_of(ext_image.path)
    assert rows(records, "ext4.raw") == [
        ("deleted_me.jpg", "file", True, False, None, sha256(photos["deleted_me.jpg"])),
        ("tree.jpg", "file", False, False, None, sha256(photos["tree.jpg"])),
        ("photos/beach.jpg", "file", False, False, None, sha256(photos["beach.jpg"])),
        ("photos/car.jpg", "file", False, False, None, sha256(photos["car.jpg"])),
        carved(ext_image.offsets["deleted_me.jpg"], photos["deleted_me.jpg"], "jpg"),
    ]
    assert records["ext4.raw:tree.jpg"]["mtime"] is not None


def test_ntfs_alternate_data_stream_and_deleted_file(
    case_of: CaseOf, ntfs_image: Built, photos: dict[str, bytes]
) -> None:
    _, records = case_of(ntfs_image.path)
    assert rows(records, "ntfs.raw") == [
        ("beach.jpg", "file", False, False, None, sha256(photos["beach.jpg"])),
        ("beach.jpg:secret", "file", False, False, None, sha256(b"hidden stream text\n")),
        ("deleted_me.jpg", "file", True, False, None, sha256(photos["deleted_me.jpg"])),
        ("notes.txt", "file", False, False, None, sha256(b"meeting at noon\n")),
        carved(ntfs_image.offsets["deleted_me.jpg"], photos["deleted_me.jpg"], "jpg"),
    ]


def test_partitioned_disk_names_partitions_and_reports_unreadable_ones(
    case_of: CaseOf, disk_image: Built, photos: dict[str, bytes]
) -> None:
    _, records = case_of(disk_image.path)
    got = rows(records, "disk.raw")
    off = disk_image.offsets
    assert [g[0] for g in got] == [
        "p1/deleted_me.jpg",
        "p1/tree.jpg",
        "p1/DCIM/beach.jpg",
        "p1/DCIM/car.jpg",
        f"p1/$Unallocated/carved-{off['p1/deleted_me.jpg']}.jpg",
        f"p1/$Unallocated/carved-{off['p1/planted.jpg']}.jpg",
        f"p1/$Unallocated/carved-{off['p1/planted.png']}.png",
        f"p1/$Unallocated/carved-{off['p1/planted.gif']}.gif",
        "p2/deleted_me.jpg",
        "p2/tree.jpg",
        "p2/photos/beach.jpg",
        "p2/photos/car.jpg",
        f"p2/$Unallocated/carved-{off['p2/deleted_me.jpg']}.jpg",
        "p3",
    ]
    assert got[0][2:] == (True, False, None, sha256(photos["deleted_me.jpg"]))
    assert records["disk.raw:p3"]["kind"] == "other"
    assert records["disk.raw:p3"]["errors"] == [
        "listing: no file system The Sleuth Kit can read "
        f"(Linux (0x83), 1048576 bytes at offset {(2048 + 131072 + 32768) * 512})"
    ]


def test_split_raw_image_reads_as_one_disk(
    case_of: CaseOf, split_image: Path, disk_image: Built
) -> None:
    assert detect_kind(split_image) == "raw"
    _, split = case_of(split_image)
    _, whole = case_of(disk_image.path)
    assert [r[1:] for r in rows(split, "disk.001")] == [r[1:] for r in rows(whole, "disk.raw")]


def test_carving_can_be_switched_off(case_of: CaseOf, fat_image: Built) -> None:
    _, records = case_of(fat_image.path, settings=Settings(carve_unallocated=False))
    assert not any(r["carved"] for r in records.values())
    assert len(records) == 4


def test_corrupt_partition_table_is_recorded_on_the_source(
    case_of: CaseOf, tmp_path: Path, fat_image: Built
) -> None:
    broken = tmp_path / "broken.dd"
    data = bytearray(fat_image.path.read_bytes()[: 4 * 1024 * 1024])
    data[:512] = bytes(446) + bytes([0x80, 0, 0, 0, 0x0C, 0, 0, 0]) + b"\xff" * 8 + bytes(48)
    data[510:512] = b"\x55\xaa"  # an MBR whose one entry starts past the end of the disk
    broken.write_bytes(bytes(data))
    _, records = case_of(broken)
    (item,) = (r for k, r in records.items() if k.startswith("broken.dd:"))
    assert item["kind"] == "other"
    assert item["errors"] and "The Sleuth Kit" in item["errors"][0]


def test_evidence_is_not_modified(case_of: CaseOf, disk_image: Built) -> None:
    before = _state(disk_image.path)
    case_of(disk_image.path, fresh=True)
    assert _state(disk_image.path) == before


def _state(path: Path) -> tuple[int, int, str]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


def test_overlapping_gpt_partitions_are_recorded_and_read(case_of: CaseOf, tmp_path: Path) -> None:
    from . import artefacts as a

    path = tmp_path / "overlap.raw"
    a.overlapping_gpt(path, {"a.txt": b"still here\n"})
    _, records = case_of(path)
    got = {r["path"]: r for r in records.values()}
    assert got["p1/a.txt"]["sha256"] == sha256(b"still here\n")
    assert got["."]["errors"] == [
        f"listing: partition table damaged: p2 (bytes {10000 * 512}-{(22528 + 40000) * 512 - 1}) "
        f"overlaps p1 (bytes {2048 * 512}-{(2048 + 20480) * 512 - 1})"
    ]
    assert sorted(got) == [".", "p1/a.txt", "p2"]
