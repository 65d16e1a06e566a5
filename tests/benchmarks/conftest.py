"""The benchmark scripts as modules, for the tests that guard them against rot."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _benchmark(name: str) -> Iterator[ModuleType]:
    # On sys.path (not loaded from a file spec): pool workers import it by name.
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def ingest() -> Iterator[ModuleType]:
    yield from _benchmark("ingest")


@pytest.fixture(scope="module")
def scale() -> Iterator[ModuleType]:
    yield from _benchmark("scale")
