"""``unseen verify`` on folders: names, types and link targets are fingerprinted."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from unseen.core.settings import Settings
from unseen.sources.verify import verify
from unseen.store import schema as s

from .conftest import Records

CaseOf = Callable[..., tuple[Any, Records]]


def test_a_sub_folder_swapped_for_a_symlink_fails_verify(case_of: CaseOf, tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.jpg").write_bytes(b"first")
    elsewhere = tmp_path / "elsewhere"
    case, _ = case_of(folder, fresh=True)
    assert [(v.status, v.notes) for v in verify(case)] == [("OK", ["tree fingerprint matches"])]
    # Same names, same sizes, same times: only the type and the link give it away.
    (folder / "sub").rename(elsewhere)
    os.symlink(elsewhere, folder / "sub")
    (verdict,) = verify(case)
    assert (verdict.status, verdict.notes) == (
        "MISMATCH",
        [
            "tree fingerprint differs (bytes, files, folders, mtime_max_ns, sha256)",
            "folder '.': entries added, removed or changed (names, types, sizes, times or "
            "link targets)",
            f"folder 'sub' is now a symbolic link to {str(elsewhere)!r}",
        ],
    )


def test_a_renamed_file_fails_verify(case_of: CaseOf, tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.jpg").write_bytes(b"first")
    case, _ = case_of(folder, fresh=True)
    (folder / "sub" / "a.jpg").rename(folder / "sub" / "b.jpg")
    (verdict,) = verify(case)
    assert verdict.notes == [
        "tree fingerprint differs (folders, sha256)",
        "folder 'sub': entries added, removed or changed (names, types, sizes, times or "
        "link targets)",
    ]


def test_an_older_case_keeps_its_fingerprint_method(case_of: CaseOf, tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"first")
    case, _ = case_of(folder, fresh=True)
    st = (folder / "a.jpg").stat()
    old = {"method": "tree-stat", "files": 1, "bytes": 5, "mtime_max_ns": st.st_mtime_ns}
    with case.engine.begin() as conn:
        conn.execute(update(s.sources).values(fingerprint=json.dumps(old)))
    (verdict,) = verify(case)
    assert (verdict.status, verdict.notes) == (
        "OK",
        [
            "tree-stat fingerprint matches",
            "older folder fingerprint: names and links not covered (add the source again "
            "for a full one)",
        ],
    )


def test_a_vmdk_fingerprint_covers_its_extent_file(
    case_of: CaseOf, tmp_path: Path, fat_image: Any
) -> None:
    from . import artefacts as a

    folder = tmp_path / "vm"
    folder.mkdir()
    a.virtual_disk(fat_image.path, "vmdk", folder / "d.vmdk", "subformat=monolithicFlat")
    case, _ = case_of(folder / "d.vmdk", settings=Settings(carve_unallocated=False))
    (verdict,) = verify(case)
    assert verdict.notes == ["sha256 fingerprint matches"]
    with case.engine.connect() as conn:
        stored = json.loads(conn.execute(select(s.sources.c.fingerprint)).scalar_one())
    assert stored["segments"] == ["d.vmdk", "d-flat.vmdk"]
    with (folder / "d-flat.vmdk").open("r+b") as f:
        f.seek(5_000_000)
        f.write(b"x")
    (verdict,) = verify(case)
    assert (verdict.status, verdict.notes) == ("MISMATCH", ["sha256 fingerprint differs (sha256)"])


def test_a_folder_like_source_is_fingerprinted_as_a_tree(tmp_path: Path) -> None:
    """A phone backup is a folder with a source kind of its own: its names, sizes and
    links are fingerprinted like any folder's (it was hashed as one file, and failed)."""
    from unseen.core.models import SourceSpec
    from unseen.sources.verify import fingerprint, record
    from unseen.store.case import Case

    backup = tmp_path / "backup"
    (backup / "ab").mkdir(parents=True)
    (backup / "ab" / "ab12").write_bytes(b"blob")
    (backup / "Manifest.db").write_bytes(b"not really a database")
    assert fingerprint("apple_backup", backup) == fingerprint("folder", backup)
    case = Case.create(tmp_path / "case")
    with case.engine.begin() as conn:
        source_id = conn.execute(
            s.sources.insert().values(
                label="PHONE", kind="apple_backup", path=str(backup), added_by="t", added_at="t"
            )
        ).inserted_primary_key[0]
    record(case, SourceSpec(int(source_id), "apple_backup", str(backup), "PHONE"))
    (backup / "ab" / "ab12").write_bytes(b"blob, changed")
    (verdict,) = list(verify(case))
    case.close()
    assert verdict.status == "MISMATCH"
    assert verdict.notes[0].startswith("tree fingerprint differs")
