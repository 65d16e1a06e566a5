"""``--key`` reaches encrypted volumes found inside other evidence: a LUKS image in a
ZIP, a LUKS partition of a VMDK in a ZIP, a LUKS logical volume of an LVM2 disk.
Volumes are named as inside any disk (``whole``, ``p2``, ``lv_secret``), ``*`` for any."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.reports.records import iter_records
from unseen.sources import verify
from unseen.sources.base import close_sources, detect_kind
from unseen.sources.crypt import key_digest
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from . import artefacts as a
from . import lvm

pytest.importorskip("pyluksde")
pytest.importorskip("cryptography")

PASSWORD = "tr0ub4dor nested"
NO_CARVE = Settings(carve_unallocated=False)
FILES = {"notes.txt": b"inside the encrypted volume\n", "sub/more.txt": b"and more\n"}


def small_fat(path: Path) -> Path:
    """A 4 MiB FAT holding ``FILES`` (mkfs.vfat, mcopy)."""
    a.need("mkfs.vfat", "mcopy")
    path.write_bytes(bytes(4 * 2**20))
    a.run("mkfs.vfat", "-n", "INNER", path)
    a.run("mmd", "-i", path, "::/sub")
    for name, data in FILES.items():
        src = path.parent / name.replace("/", "-")
        src.write_bytes(data)
        a.run("mcopy", "-i", path, src, f"::/{name}")
    return path


@pytest.fixture(scope="session")
def nested_luks(root: Path) -> dict[str, Path]:
    folder = root / "nested-keys"
    folder.mkdir()
    fat = small_fat(folder / "inner.raw")
    luks = a.luks(fat, folder / "secret.luks", PASSWORD)
    disk = folder / "disk.raw"
    a.mbr_disk(disk, 12, [(2048, fat, "c"), (2048 + 10240, luks, "83")])
    vmdk = a.virtual_disk(disk, "vmdk", folder / "disk.vmdk")
    made = {"luks": luks}
    for name, inner in (("luks.zip", luks), ("vmdk.zip", vmdk)):
        with zipfile.ZipFile(folder / name, "w", zipfile.ZIP_STORED) as z:
            z.write(inner, inner.name)
        made[name] = folder / name
    made["lvm.raw"] = lvm.physical_volume(
        folder / "lvm.raw", "vg0", [("lv_plain", fat), ("lv_secret", luks)]
    )
    return made


def keyed(where: Path, evidence: Path, keys: dict[str, str]) -> tuple[Case, list[Any]]:
    case = Case.create(where, name="KEYS", examiner="Test Examiner")
    spec = repo.add_source(case, detect_kind(evidence), str(evidence), evidence.name, "T")
    if keys:
        from unseen.cli.volume_keys import store_keys

        store_keys(case, spec, keys, "Test Examiner")
    verify.record(case, spec)
    process_case(case, workers=0, settings=NO_CARVE)
    with case.engine.connect() as conn:
        return case, list(iter_records(conn))


def files(records: list[Any]) -> list[tuple[str, str | None]]:
    return sorted((r["path"], r["sha256"]) for r in records if r["kind"] == "file")


def inside(prefix: str) -> list[tuple[str, str]]:
    return [(f"{prefix}{name}", a.sha256(data)) for name, data in FILES.items()]


def test_luks_image_inside_a_zip_without_key_is_not_examined(
    tmp_path: Path, nested_luks: dict[str, Path]
) -> None:
    _, records = keyed(tmp_path / "case", nested_luks["luks.zip"], {})
    unread = [(r["path"], r["errors"]) for r in records if r["kind"] == "other"]
    assert unread == [
        (
            "secret.luks!.",
            ["listing: not examined: encrypted LUKS volume; give --key whole=KEY to examine it"],
        )
    ]


def test_luks_image_inside_a_zip_opens_with_its_key(
    tmp_path: Path, nested_luks: dict[str, Path]
) -> None:
    case, records = keyed(tmp_path / "case", nested_luks["luks.zip"], {"whole": PASSWORD})
    luks = ("secret.luks", a.sha256(nested_luks["luks"].read_bytes()))
    assert files(records) == sorted([luks, *inside("secret.luks!")])
    close_sources()  # the review server opens nested members afresh, with the keys
    from unseen.review.media import open_original, original

    with case.engine.connect() as conn:
        ids = dict(conn.execute(select(s.items.c.path, s.items.c.id)).all())
        found = original(conn, ids["secret.luks!notes.txt"])
        assert found is not None
        with open_original(found) as stream:
            assert stream.read() == FILES["notes.txt"]
        logged = json.dumps([tuple(map(str, row)) for row in conn.execute(select(s.audit_log))])
    assert PASSWORD not in logged and key_digest(PASSWORD) in logged


def test_luks_partition_of_a_vmdk_inside_a_zip_opens_with_its_key(
    tmp_path: Path, nested_luks: dict[str, Path]
) -> None:
    _, records = keyed(tmp_path / "case", nested_luks["vmdk.zip"], {"p2": PASSWORD})
    got = [f for f in files(records) if "!" in f[0]]
    assert got == sorted(inside("disk.vmdk!p1/") + inside("disk.vmdk!p2/"))
    volumes = {r["path"]: r["volume"] for r in records}
    assert volumes["disk.vmdk!p2/notes.txt"] == "p2"


def test_luks_logical_volume_opens_with_its_key_by_name(
    tmp_path: Path, nested_luks: dict[str, Path]
) -> None:
    pytest.importorskip("pyvslvm")
    _, locked = keyed(tmp_path / "locked", nested_luks["lvm.raw"], {})
    assert [(r["path"], r["errors"]) for r in locked if r["kind"] == "other"] == [
        (
            "lv_secret",
            ["listing: not examined: encrypted LUKS volume; give --key lv_secret=KEY to "
             "examine it"],
        )
    ]  # fmt: skip
    _, records = keyed(tmp_path / "case", nested_luks["lvm.raw"], {"lv_secret": PASSWORD})
    assert files(records) == sorted(inside("lv_plain/") + inside("lv_secret/"))
    assert {r["volume"] for r in records} == {"lv_plain", "lv_secret"}
