"""Encrypted volumes: a LUKS volume made by cryptsetup, opened with --key."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from unseen.core.models import SourceSpec
from unseen.core.settings import Settings
from unseen.engine.runner import process_case
from unseen.reports.records import iter_records
from unseen.sources import verify
from unseen.sources.base import detect_kind
from unseen.sources.crypt import key_digest
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

from . import artefacts as a
from .conftest import Built, Records

pytest.importorskip("pyluksde")
pytest.importorskip("cryptography")

PASSWORD = "correct horse battery"
CaseOf = Callable[..., tuple[Any, Records]]
# Carving reads all free space through the decrypter; the disk tests cover carving.
NO_CARVE = Settings(carve_unallocated=False)


@pytest.fixture(scope="session")
def luks_volume(root: Path, fat_image: Built) -> Path:
    return a.luks(fat_image.path, root / "secret.luks", PASSWORD)


@pytest.fixture(scope="session")
def luks_disk(root: Path, fat_image: Built, luks_volume: Path) -> Path:
    """MBR disk: p1 = the FAT32 image, p2 = a LUKS volume holding it too."""
    path = root / "crypt-disk.raw"
    a.mbr_disk(path, 160, [(2048, fat_image.path, "c"), (2048 + 131072, luks_volume, "83")])
    return path


def keyed_case(where: Path, evidence: Path, keys: dict[str, str]) -> tuple[Case, list[Any]]:
    case = Case.create(where, name="CRYPT", examiner="Test Examiner")
    spec = repo.add_source(case, detect_kind(evidence), str(evidence), evidence.name, "T")
    if keys:
        from unseen.cli.volume_keys import store_keys

        store_keys(case, spec, keys, "Test Examiner")
    verify.record(case, spec)
    process_case(case, workers=0, settings=NO_CARVE)
    with case.engine.connect() as conn:
        return case, list(iter_records(conn))


def rows(records: list[Any]) -> list[tuple[Any, ...]]:
    return [(r["path"], r["kind"], r["deleted"], r["carved"], r["sha256"]) for r in records]


def test_luks_volume_without_a_key_is_an_item_not_examined(
    tmp_path: Path, luks_volume: Path
) -> None:
    assert detect_kind(luks_volume) == "raw"
    _, records = keyed_case(tmp_path / "case", luks_volume, {})
    assert [(r["path"], r["kind"], r["errors"]) for r in records] == [
        (
            ".",
            "other",
            ["listing: not examined: encrypted LUKS volume; give --key whole=KEY to examine it"],
        )
    ]


def test_luks_volume_with_its_password_yields_the_plain_volumes_records(
    tmp_path: Path, luks_volume: Path, fat_image: Built, case_of: CaseOf
) -> None:
    _, records = keyed_case(tmp_path / "case", luks_volume, {"whole": PASSWORD})
    _, plain = case_of(fat_image.path, settings=NO_CARVE)
    assert rows(records) == rows(list(plain.values()))
    assert len(records) == 4


def test_wrong_key_is_recorded_by_digest_only(tmp_path: Path, luks_volume: Path) -> None:
    _, records = keyed_case(tmp_path / "case", luks_volume, {"*": "wrong"})
    ((path, errors),) = [(r["path"], r["errors"]) for r in records]
    assert path == "."
    assert errors[0].startswith(
        "listing: not examined: encrypted LUKS volume not unlocked with the key given for "
        f"whole (sha256 {key_digest('wrong')[:16]}...): "
    )
    assert "wrong)" not in errors[0]


def test_encrypted_partition_is_named_and_opened_by_its_key(
    tmp_path: Path, luks_disk: Path, fat_image: Built
) -> None:
    case, records = keyed_case(tmp_path / "case", luks_disk, {"p2": PASSWORD})
    p1 = [r[1:] for r in rows(records) if r[0].startswith("p1/")]
    p2 = [r[1:] for r in rows(records) if r[0].startswith("p2/")]
    assert p1 == p2 and len(p2) == 4
    # Each item names its partition in the export.
    assert {(r["path"].split("/")[0], r["volume"], r["snapshot"]) for r in records} == {
        ("p1", "p1", None),
        ("p2", "p2", None),
    }
    with case.engine.connect() as conn:
        audit = conn.execute(select(s.audit_log)).all()
    logged = json.dumps([tuple(map(str, row)) for row in audit])
    assert PASSWORD not in logged
    assert key_digest(PASSWORD) in logged
    spec = SourceSpec(1, "raw", "x", "y", (("p2", PASSWORD),))
    assert PASSWORD not in repr(spec)


def test_cli_add_with_key_audits_the_digest_only(
    unseen_exe: Path, tmp_path: Path, luks_volume: Path
) -> None:
    def unseen(*args: str | Path) -> subprocess.CompletedProcess[str]:
        cmd = [str(unseen_exe), *map(str, args)]
        return subprocess.run(cmd, capture_output=True, text=True, env=os.environ, timeout=300)

    case = tmp_path / "case"
    assert unseen("init", case).returncode == 0
    bad = unseen("add", case, luks_volume, "--key", PASSWORD)
    assert bad.returncode == 2
    assert "--key takes VOLUME=KEY" in bad.stderr and PASSWORD not in bad.stderr + bad.stdout
    added = unseen("add", case, luks_volume, "--key", f"whole={PASSWORD}")
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stderr + added.stdout
    opened = Case.open(case)
    with opened.engine.connect() as conn:
        (entry,) = conn.execute(
            select(s.audit_log.c.details).where(s.audit_log.c.action == "volume keys")
        ).all()
        (spec,) = repo.source_specs(conn)
    assert json.loads(entry.details) == {
        "source": "secret.luks",
        "volumes": {"whole": {"key_sha256": key_digest(PASSWORD)}},
    }
    assert spec.keys == (("whole", PASSWORD),)


def test_the_review_server_opens_items_inside_an_unlocked_volume(
    tmp_path: Path, luks_volume: Path
) -> None:
    from unseen.review.media import open_original, original
    from unseen.sources.base import close_sources

    case, records = keyed_case(tmp_path / "case", luks_volume, {"whole": PASSWORD})
    close_sources()  # as in a fresh server process: nothing opened with the keys yet
    files = [r for r in records if r["kind"] == "file" and r["sha256"]]
    assert files
    with case.engine.connect() as conn:
        ids = dict(conn.execute(select(s.items.c.path, s.items.c.id)).all())
        for r in files:
            found = original(conn, ids[r["path"]])
            assert found is not None
            with open_original(found) as stream:
                assert hashlib.sha256(stream.read()).hexdigest() == r["sha256"], r["path"]
    case.close()
