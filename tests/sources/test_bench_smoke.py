"""``benchmarks/sources.py`` still runs: its video sides agree on the frames they decode.

No timing is asserted; the numbers belong to the benchmark itself.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "sources.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_sources", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_video_sides_decode_the_same_frames(tmp_path: Path) -> None:
    pytest.importorskip("av")
    bench = _load()
    clip = tmp_path / "clip.mp4"
    bench.make_clip(clip, 2)
    assert bench.decode_only(clip) == bench.analyse_video(clip, tmp_path / "thumbs") == 50
    assert len(list((tmp_path / "thumbs").rglob("*.jpg"))) == 1
