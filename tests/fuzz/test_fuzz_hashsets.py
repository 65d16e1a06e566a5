"""Hash-set files (VICS, ICSE, NSRL, CSV, MD5 lists), damaged: only ``BadFile``.

A reader yields ``Rejected`` for a record it cannot use and raises ``BadFile`` when
the file cannot be read further (the import then fails and leaves nothing); nothing
else may come out of ``header`` or ``records``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching import hashset_files as hf
from unseen.matching.formats import FORMATS
from unseen.matching.formats.base import BadFile

from .common import fuzz_settings, hostile, only

RECORDS = 5000  # records taken per example


@cache
def seeds(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "vics": hf.vics_media(folder / "v.json", [hf.media(i, 1 + i % 3) for i in range(1, 6)]),
        "icse": hf.icse(folder / "i.csv", [hf.icse_row(i) for i in range(1, 6)]),
        "nsrl": hf.nsrl(folder / "n.db", [(i, 1 + i % 2) for i in range(1, 6)]),
        "csv": hf.csv_file(
            folder / "c.csv", ["md5", "category"], [[hf.md5(i), str(i % 3)] for i in range(1, 6)]
        ),
    }
    out = {name: path.read_bytes() for name, path in made.items()}
    out["md5list"] = "".join(f"{hf.md5(i)}\n" for i in range(1, 6)).encode()
    return out


def read_all(fmt: str, path: Path) -> None:
    reader = FORMATS.get(fmt)(path)
    reader.header()
    for n, _record in enumerate(reader.records()):
        if n >= RECORDS:
            break


NAMES = ["vics", "icse", "nsrl", "csv", "md5list"]


@pytest.mark.parametrize("fmt", NAMES)
@fuzz_settings(60)
@given(data=st.data())
def test_hashset_readers_raise_only_bad_file(
    fmt: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    seed = seeds(tmp_path_factory.getbasetemp() / "hashset-seeds")[fmt]
    payload = data.draw(hostile(seed))
    path = tmp_path_factory.mktemp("set") / "hashset"
    path.write_bytes(payload)
    only((BadFile,), lambda: read_all(fmt, path))
