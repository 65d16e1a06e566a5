"""File systems beyond TSK's: XFS (mkfs.xfs), HFS+ (xorriso), APFS (mkapfs).

XFS and the HFS+ volume are filled by their real tools, without mounting: mkfs.xfs
takes a prototype file, xorriso writes an ISO 9660 / HFS+ hybrid behind an Apple
partition map. mkapfs makes an empty container with one volume; no tool here puts
files into it, so the APFS test checks what can be: the container and its volume
are recognised and opened, and its root lists nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unseen.core.settings import Settings
from unseen.sources.base import detect_kind

from . import artefacts as a
from .conftest import Records

pytest.importorskip("pyfsxfs")

CaseOf = Callable[..., tuple[Any, Records]]
NO_CARVE = Settings(carve_unallocated=False)
FILES = {
    "a.txt": b"hello xfs\n",
    "docs/b.txt": b"a longer text, several blocks long\n" * 1200,
    "docs/deep/c.txt": b"deep down\n",
}
XFS_NOTE = (
    "listing: unallocated space not carved and deleted files not listed: XFS is read through "
    "libfsxfs, which lists live files only and gives no allocation map"
)


def rows(records: Records, source: str) -> list[tuple[Any, ...]]:
    return [
        (r["path"], r["kind"], r["deleted"], r["sha256"], r["volume"], r["errors"])
        for key, r in sorted(records.items())
        if key.startswith(f"{source}:")
    ]


def xfs(root: Path, target: Path) -> Path:
    """An XFS image holding ``FILES``, an empty file and a symbolic link (mkfs.xfs -p).

    mkfs.xfs refuses file systems under 300 MB unless run as by the xfstests suite
    (its three variables), which is what lets a test image stay 32 MiB.
    """
    a.need("mkfs.xfs")
    src = root / "xfs-src"
    for name, data in FILES.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    (src / "empty").write_bytes(b"")
    proto = (
        "boot\n0 0\nd--755 0 0\n"
        f"a.txt ---644 0 0 {src / 'a.txt'}\n"
        "ln l--777 0 0 a.txt\n"
        f"empty ---600 0 0 {src / 'empty'}\n"
        "docs d--755 0 0\n"
        f"b.txt ---644 0 0 {src / 'docs/b.txt'}\n"
        "deep d--700 0 0\n"
        f"c.txt ---644 0 0 {src / 'docs/deep/c.txt'}\n"
        "$\n$\n$\n"
    )
    (root / "xfs.proto").write_text(proto)
    target.write_bytes(b"")
    os.truncate(target, 32 * 1024 * 1024)
    env = {**os.environ, "TEST_DIR": "1", "TEST_DEV": "1", "QA_CHECK_FS": "1"}
    import subprocess

    subprocess.run(
        ["mkfs.xfs", "-q", "-p", str(root / "xfs.proto"), str(target)], check=True, env=env
    )
    return target


def gpt_disk(path: Path, volume: Path) -> Path:
    """A GPT disk with ``volume`` as its one (Linux) partition at sector 2048."""
    a.need("sfdisk")
    path.write_bytes(b"")
    os.truncate(path, volume.stat().st_size + 4 * 1024 * 1024)
    table = f"label: gpt\nstart=2048, size={volume.stat().st_size // 512}, type=L\n"
    a.run("sfdisk", "-q", path, stdin=table.encode())
    with path.open("r+b") as disk:
        disk.seek(2048 * 512)
        disk.write(volume.read_bytes())
    return path


@pytest.fixture(scope="session")
def xfs_images(root: Path) -> dict[str, Path]:
    folder = root / "xfs"
    folder.mkdir()
    raw = xfs(folder, folder / "xfs.raw")
    disk = gpt_disk(folder / "xfs-gpt.raw", raw)
    return {
        "raw": raw,
        "gpt": disk,
        "vmdk": a.virtual_disk(disk, "vmdk", folder / "xfs-gpt.vmdk"),
    }


def expected_xfs(prefix: str) -> list[tuple[Any, ...]]:
    volume = prefix.rstrip("/") or None
    link = "listing: symbolic link not followed (points to 'a.txt')"
    found: list[tuple[Any, ...]] = [
        (f"{prefix}{name}", "file", False, a.sha256(data), volume, [])
        for name, data in FILES.items()
    ]
    found += [
        (f"{prefix}$Unallocated", "other", False, None, volume, [XFS_NOTE]),
        (f"{prefix}empty", "file", False, a.sha256(b""), volume, []),
        (f"{prefix}ln", "symlink", False, None, volume, [link]),
    ]
    return sorted(found)


def test_xfs_file_system_lists_its_files_with_their_hashes(
    case_of: CaseOf, xfs_images: dict[str, Path]
) -> None:
    raw = xfs_images["raw"]
    assert detect_kind(raw) == "raw"
    _, got = case_of(raw, settings=NO_CARVE)
    assert rows(got, raw.name) == expected_xfs("")


def test_xfs_in_a_gpt_disk_and_in_a_vmdk_yields_the_same_records(
    case_of: CaseOf, xfs_images: dict[str, Path]
) -> None:
    disk, vmdk = xfs_images["gpt"], xfs_images["vmdk"]
    assert detect_kind(vmdk) == "vdisk"
    _, got = case_of(disk, vmdk, settings=NO_CARVE)
    assert rows(got, disk.name) == expected_xfs("p1/")
    assert rows(got, vmdk.name) == rows(got, disk.name)


def test_damaged_xfs_is_an_item_not_examined(root: Path, xfs_images: dict[str, Path]) -> None:
    from unseen.sources.containers import Limits
    from unseen.sources.disk import DiskReader

    data = bytearray(xfs_images["raw"].read_bytes()[: 1024 * 1024])
    data[8:512] = bytes(504)  # superblock geometry gone; signature and block size kept
    path = root / "xfs-damaged.raw"
    path.write_bytes(bytes(data))
    with path.open("rb") as f:
        entries = [m.entry for m in DiskReader(f).members(Limits(carve=False))]
    assert [(e.path, e.kind) for e in entries] == [(".", "other")]
    assert entries[0].errors[0].startswith("not examined: XFS damaged or unreadable (")


# ---------------------------------------------------------------------------- HFS+


@pytest.fixture(scope="session")
def hfs_image(root: Path) -> Path:
    """An ISO 9660 / HFS+ hybrid made by xorriso: Apple partition map, the HFS+ volume
    as its third partition."""
    a.need("xorriso")
    src = root / "hfs-src"
    for name, data in FILES.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    target = root / "hfs.iso"
    a.run("xorriso", "-as", "mkisofs", "-quiet", "-hfsplus", "-o", target, src)
    return target


def test_hfs_plus_volume_lists_its_files_without_its_own_structures(
    case_of: CaseOf, hfs_image: Path
) -> None:
    assert detect_kind(hfs_image) == "raw"
    _, got = case_of(hfs_image, settings=NO_CARVE)
    files = [r for r in rows(got, hfs_image.name) if r[0].startswith("p3/")]
    assert files == [
        (f"p3/{name}", "file", False, a.sha256(data), "p3", []) for name, data in FILES.items()
    ]
    # The partition map itself and the ISO 9660 parts of the hybrid: shown, not read.
    others = [r for r in rows(got, hfs_image.name) if not r[0].startswith("p3")]
    unread = "listing: no file system The Sleuth Kit can read ("
    assert [(r[0], r[1], r[5][0].split(",")[0]) for r in others] == [
        ("p1", "other", f"{unread}Apple_partition_map"),
        ("p2", "other", f"{unread}ISO9660_data"),
        ("p4", "other", f"{unread}ISO9660_data"),
    ]


# ---------------------------------------------------------------------------- APFS


@pytest.fixture(scope="session")
def apfs_image(root: Path) -> Path:
    """An empty APFS container (one volume, "Evidence") made by mkapfs on a plain file."""
    a.need("mkapfs")
    target = root / "apfs.raw"
    target.write_bytes(b"")
    os.truncate(target, 128 * 1024 * 1024)
    a.run("mkapfs", "-L", "Evidence", target)
    return target


def test_apfs_container_and_its_volume_are_opened(case_of: CaseOf, apfs_image: Path) -> None:
    pytest.importorskip("pyfsapfs")
    assert detect_kind(apfs_image) == "raw"
    _, got = case_of(apfs_image, settings=NO_CARVE)
    note = XFS_NOTE.replace("XFS", "APFS").replace("libfsxfs", "libfsapfs")
    assert rows(got, apfs_image.name) == [("$Unallocated", "other", False, None, None, [note])]


def test_apfs_volumes_are_walked_under_their_folder(apfs_image: Path) -> None:
    from unseen.sources.libyalfs import Apfs

    with apfs_image.open("rb") as f:
        volumes = Apfs.open(f, "", {})
        assert [(v.folder, v.problem, v.handle.name) for v in volumes] == [
            ("apfs1", None, "Evidence")
        ]
        assert volumes[0].handle.get_root_directory().number_of_sub_file_entries == 0


class LockedVolume:
    """Stands in for an encrypted pyfsapfs volume (no tool here makes one): locked until
    given the password "right"."""

    def __init__(self) -> None:
        self.password: str | None = None

    def is_locked(self) -> bool:
        return True

    def set_password(self, password: str) -> None:
        self.password = password

    def unlock(self) -> bool:
        return self.password == "right"


def test_encrypted_apfs_volume_needs_its_key_and_logs_only_its_digest() -> None:
    from unseen.sources.crypt import key_digest
    from unseen.sources.libyalfs import _unlock_apfs

    name = "p2/apfs1"
    assert _unlock_apfs(LockedVolume(), name, {}) == (
        "not examined: encrypted APFS volume; give --key p2/apfs1=KEY to examine it"
    )
    wrong = _unlock_apfs(LockedVolume(), name, {name: "wrong"})
    assert wrong == (
        "not examined: encrypted APFS volume not unlocked with the key given for p2/apfs1 "
        f"(sha256 {key_digest('wrong')[:16]}...)"
    )
    assert _unlock_apfs(LockedVolume(), name, {"*": "right"}) is None
