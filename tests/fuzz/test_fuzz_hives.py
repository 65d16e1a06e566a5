"""Windows registry hives (through the regipy wrapper), corrupted: only recorded errors.

The seed is the benign sample NTUSER.DAT kept in the shared data folder beside the
checkout (skipped where it is absent); edits land in the base block, hbin headers and
cells. The wrapper's ``hive_errors`` is the family it records per section.
"""

from __future__ import annotations

import lzma
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unseen import plugins
from unseen.core.errors import EvidenceError
from unseen.internet.parsers.hive import hive_errors

from .common import fuzz_settings, hostile, mutated, only
from .parsers import parse_bytes

plugins.load()
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "registry"


@cache
def ntuser() -> bytes:
    with lzma.open(SAMPLES / "NTUSER.DAT.xz") as fh:
        return fh.read()


needs_sample = pytest.mark.skipif(
    not (SAMPLES / "NTUSER.DAT.xz").is_file(), reason=f"no sample hive at {SAMPLES}"
)


@needs_sample
@fuzz_settings(40)
@given(data=st.data())
def test_ntuser_parser_raises_only_recorded_errors(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    seed = ntuser()
    # The header and first hbins matter most; whole-file edits reach the cells too.
    payload = data.draw(st.one_of(mutated(seed[:8192] + seed[8192:]), hostile(seed[:16384])))
    root = tmp_path_factory.mktemp("ev")
    only(
        (EvidenceError, *hive_errors()),
        lambda: parse_bytes("registry_ntuser", root, "Users/u/NTUSER.DAT", payload),
    )
