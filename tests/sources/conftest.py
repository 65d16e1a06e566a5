"""Disk images, E01 files and archives, built once per test session."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from unseen import plugins
from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.reports.records import iter_records
from unseen.sources import verify
from unseen.sources.base import detect_kind
from unseen.store import repo
from unseen.store.case import Case

from . import artefacts as a

# Where the FAT test image gets its planted pictures: cluster numbers well past the
# few clusters its files use (the FS has about 130,000 clusters of 512 bytes).
PLANT_CLUSTERS = {"jpg": 20_000, "png": 40_000, "gif": 60_000}


@dataclass
class Built:
    """An image and what the tests expect of it."""

    path: Path
    photos: dict[str, bytes] = field(default_factory=dict)
    offsets: dict[str, int] = field(default_factory=dict)  # carved name -> image offset


@pytest.fixture(scope="session", autouse=True)
def _plugins() -> None:
    """Sources and containers register themselves as the CLI loads them."""
    plugins.load()


@pytest.fixture(scope="session")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sources")


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    return {
        "beach.jpg": a.photo(1),
        "car.jpg": a.photo(2),
        "deleted_me.jpg": a.photo(3),
        "tree.jpg": a.photo(4),
        "planted.jpg": a.photo(5),
        "planted.png": a.photo(6, (64, 48), "PNG"),
        "planted.gif": a.photo(7, (64, 48), "GIF"),
    }


@pytest.fixture(scope="session")
def fat_image(root: Path, photos: dict[str, bytes]) -> Built:
    """FAT32: DCIM/beach.jpg, DCIM/car.jpg, tree.jpg; deleted_me.jpg deleted; a JPEG,
    PNG and GIF written into free clusters."""
    path = root / "fat32.raw"
    files = {
        "DCIM/beach.jpg": photos["beach.jpg"],
        "DCIM/car.jpg": photos["car.jpg"],
        "deleted_me.jpg": photos["deleted_me.jpg"],
        "tree.jpg": photos["tree.jpg"],
    }
    a.fat32(path, files, ["deleted_me.jpg"])
    data = bytearray(path.read_bytes())
    start, cluster = a.fat_geometry(bytes(data))
    built = Built(path, files)
    built.offsets["deleted_me.jpg"] = bytes(data).find(photos["deleted_me.jpg"])
    for ext, number in PLANT_CLUSTERS.items():
        at = start + (number - 2) * cluster
        blob = photos[f"planted.{ext}"]
        data[at : at + len(blob)] = blob
        built.offsets[f"planted.{ext}"] = at
    path.write_bytes(bytes(data))
    return built


@pytest.fixture(scope="session")
def ext_image(root: Path, photos: dict[str, bytes]) -> Built:
    """ext4: photos/beach.jpg, photos/car.jpg, tree.jpg; deleted_me.jpg deleted."""
    path = root / "ext4.raw"
    files = {
        "photos/beach.jpg": photos["beach.jpg"],
        "photos/car.jpg": photos["car.jpg"],
        "deleted_me.jpg": photos["deleted_me.jpg"],
        "tree.jpg": photos["tree.jpg"],
    }
    a.ext4(path, files, ["deleted_me.jpg"])
    built = Built(path, files)
    built.offsets["deleted_me.jpg"] = path.read_bytes().find(photos["deleted_me.jpg"])
    return built


@pytest.fixture(scope="session")
def ntfs_image(root: Path, photos: dict[str, bytes]) -> Built:
    """NTFS: beach.jpg with an alternate data stream ``secret``, notes.txt; deleted_me.jpg
    deleted the way Windows does it."""
    path = root / "ntfs.raw"
    files = {
        "beach.jpg": photos["beach.jpg"],
        "deleted_me.jpg": photos["deleted_me.jpg"],
        "notes.txt": b"meeting at noon\n",
    }
    a.ntfs(path, files, {"beach.jpg": ("secret", b"hidden stream text\n")})
    built = Built(path, files)
    built.offsets["deleted_me.jpg"] = a.ntfs_delete(path, "deleted_me.jpg")
    return built


@pytest.fixture(scope="session")
def disk_image(root: Path, fat_image: Built, ext_image: Built) -> Built:
    """MBR disk: p1 = the FAT32 image at sector 2048, p2 = the ext4 image, p3 = a
    partition holding no file system (zeros)."""
    blank = root / "blank.raw"
    blank.write_bytes(bytes(1024 * 1024))
    path = root / "disk.raw"
    p2 = 2048 + 131072
    p3 = p2 + 32768
    a.mbr_disk(
        path, 90, [(2048, fat_image.path, "c"), (p2, ext_image.path, "83"), (p3, blank, "83")]
    )
    built = Built(path)
    for name, at in fat_image.offsets.items():
        built.offsets[f"p1/{name}"] = 2048 * 512 + at
    for name, at in ext_image.offsets.items():
        built.offsets[f"p2/{name}"] = p2 * 512 + at
    return built


@pytest.fixture(scope="session")
def e01_image(root: Path, disk_image: Built) -> Path:
    return a.e01(disk_image.path, root / "disk")


@pytest.fixture(scope="session")
def flipped_e01(root: Path, e01_image: Path) -> Path:
    """The E01 with one byte of its first (MBR) chunk changed after acquisition."""
    folder = root / "flipped"
    folder.mkdir()
    path = folder / "disk.E01"
    data = bytearray(e01_image.read_bytes())
    sectors = data.find(b"sectors\x00")
    data[sectors + 76 + 40] ^= 0xFF  # inside the first compressed chunk
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="session")
def truncated_e01(root: Path, e01_image: Path) -> Path:
    folder = root / "truncated"
    folder.mkdir()
    path = folder / "disk.E01"
    path.write_bytes(e01_image.read_bytes()[: e01_image.stat().st_size // 2])
    return path


@pytest.fixture(scope="session")
def split_image(root: Path, disk_image: Built) -> Path:
    """The MBR disk as three raw segments disk.001, disk.002, disk.003."""
    folder = root / "split"
    folder.mkdir()
    data = disk_image.path.read_bytes()
    third = len(data) // 3 + 1
    for i in range(3):
        (folder / f"disk.{i + 1:03d}").write_bytes(data[i * third : (i + 1) * third])
    return folder / "disk.001"


# ------------------------------------------------------------------------------ cases

Records = dict[str, dict[str, Any]]


def make_case(
    where: Path, *evidence: Path, settings: Settings | None = None
) -> tuple[Case, Records]:
    """A case holding each evidence path as a source (fingerprinted as ``unseen add``
    does), processed in-process; returns the case and its export records by path."""
    case = Case.create(where, name="SRC", examiner="Test Examiner")
    for path in evidence:
        spec = repo.add_source(case, detect_kind(path), str(path), path.name, "Test Examiner")
        verify.record(case, spec)
    process_case(case, workers=0, settings=settings)
    with case.engine.connect() as conn:
        records = list(iter_records(conn))
    keyed = {f"{r['source']}:{r['path']}": r for r in records}
    assert len(keyed) == len(records), "duplicate paths in the export"
    return case, keyed


@pytest.fixture(scope="session")
def _cases(tmp_path_factory: pytest.TempPathFactory) -> dict[Any, tuple[Case, Records]]:
    """Cases already processed this session, by (evidence paths, settings)."""
    return {}


@pytest.fixture
def case_of(
    _cases: dict[Any, tuple[Case, Records]], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., tuple[Case, Records]]:
    """Process evidence into a case; the same evidence and settings are processed once
    per session (tests only read those cases) unless ``fresh`` is asked for."""

    def build(
        *evidence: Path, settings: Settings | None = None, fresh: bool = False
    ) -> tuple[Case, Records]:
        key = (evidence, settings)
        if fresh or key not in _cases:
            where = tmp_path_factory.mktemp("case") / "case"
            _cases[key] = make_case(where, *evidence, settings=settings)
        return _cases[key]

    return build


def copy_into(folder: Path, files: dict[str, Path | bytes]) -> Path:
    """A folder of evidence holding the given files (copies) at the given paths."""
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_bytes(content)
    return folder
