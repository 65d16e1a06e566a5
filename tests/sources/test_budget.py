"""One expansion budget per source across all nesting; ratio checks for TAR members."""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from unseen.core.settings import Settings
from unseen.store import schema as s

from . import artefacts as a
from .conftest import Records

CaseOf = Callable[..., tuple[Any, Records]]
MIB = 1024 * 1024


def items(records: Records, source: str) -> dict[str, dict[str, Any]]:
    return {r["path"]: r for k, r in records.items() if k.startswith(f"{source}:")}


def test_zip_of_zips_bomb_spends_one_budget_for_the_whole_source(
    case_of: CaseOf, tmp_path: Path
) -> None:
    # Each inner zip expands to 8 MiB from about 8 KiB: under every per-archive limit.
    inner = a.zip_bytes({f"z{j}.bin": bytes(MIB) for j in range(8)})
    outer = tmp_path / "bomb.zip"
    outer.write_bytes(
        a.zip_bytes({f"in{i}.zip": inner for i in range(4)}, method=zipfile.ZIP_STORED)
    )
    budget = 4 * len(inner) + 10 * MIB  # the four inner zips, then ten members
    case, records = case_of(outer, settings=Settings(max_expanded_bytes=budget))
    got = items(records, "bomb.zip")
    expanded = [p for p, r in got.items() if p.endswith(".bin") and r["kind"] == "file"]
    refused = [p for p, r in got.items() if p.endswith(".bin") and r["kind"] == "other"]
    assert expanded == [f"in0.zip!z{j}.bin" for j in range(8)] + [
        "in1.zip!z0.bin",
        "in1.zip!z1.bin",
    ]
    assert len(refused) == 22
    assert all(got[p]["sha256"] == a.sha256(bytes(MIB)) for p in expanded)
    assert got["in3.zip!z7.bin"]["sha256"] is None
    assert got["in3.zip!z7.bin"]["errors"] == [
        f"listing: not expanded: 1048576 more bytes would take this source's archive members "
        f"past {budget} bytes in total, across all nesting (limit max_expanded_bytes)"
    ]
    with case.engine.connect() as conn:
        spent = conn.execute(select(s.sources.c.expanded_bytes, s.sources.c.expanded_items)).one()
    assert tuple(spent) == (budget, 36)


def test_member_count_budget_is_shared_across_nesting(case_of: CaseOf, tmp_path: Path) -> None:
    inner = a.zip_bytes({f"m{j}.txt": b"x" for j in range(3)})
    outer = tmp_path / "many.zip"
    outer.write_bytes(a.zip_bytes({"a.zip": inner, "b.zip": inner}))
    _, records = case_of(outer, settings=Settings(max_archive_members=6))
    got = items(records, "many.zip")
    assert sorted(got) == [
        "a.zip",
        "a.zip!m0.txt",
        "a.zip!m1.txt",
        "a.zip!m2.txt",
        "b.zip",
        "b.zip!m0.txt",
    ]
    assert got["b.zip"]["errors"] == [
        "containers: 2 members not listed: this source already holds 6 archive members "
        "across all nesting (limit max_archive_members)"
    ]


def test_tar_gz_bomb_member_is_listed_not_expanded(case_of: CaseOf, tmp_path: Path) -> None:
    path = tmp_path / "bomb.tar.gz"
    data = a.tar_bytes({"zeros.bin": bytes(32 * MIB), "ok.txt": b"meeting at noon\n"})
    path.write_bytes(data)
    _, records = case_of(path)
    got = items(records, "bomb.tar.gz")
    assert (got["zeros.bin"]["kind"], got["zeros.bin"]["sha256"]) == ("other", None)
    (error,) = got["zeros.bin"]["errors"]
    found = re.fullmatch(
        rf"listing: possible decompression bomb: {32 * MIB} bytes from (\d+) "
        r"\(ratio (\d+):1, limit 200:1\); not expanded",
        error,
    )
    assert found, error
    # The packed size is how far the gzip stream advanced past the member (read-ahead
    # included): at least its deflated zeros, at most the whole file.
    packed = int(found[1])
    assert len(zlib.compress(bytes(32 * MIB), 6)) - 1024 <= packed <= len(data)
    assert int(found[2]) == round(32 * MIB / packed)
    assert got["ok.txt"]["sha256"] == a.sha256(b"meeting at noon\n")


def test_many_small_members_add_up_to_a_bomb(case_of: CaseOf, tmp_path: Path) -> None:
    path = tmp_path / "small.tar.xz"
    path.write_bytes(a.tar_bytes({f"z{i}.bin": bytes(MIB) for i in range(20)}, "w:xz"))
    settings = Settings(ratio_check_min_bytes=4 * MIB)
    _, records = case_of(path, settings=settings)
    got = items(records, "small.tar.xz")
    refused = [p for p, r in got.items() if r["kind"] == "other"]
    assert refused == [f"z{i}.bin" for i in range(3, 20)]
    assert got["z3.bin"]["errors"][0].startswith(
        f"listing: possible decompression bomb: with this member the archive's members "
        f"expand to {4 * MIB} bytes from "
    )
