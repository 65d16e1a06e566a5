"""Fixtures of the internet tests: plugins loaded, and a parser runner over real files."""

from __future__ import annotations

import lzma
import shutil
from pathlib import Path

import pytest

from unseen import plugins

# The benign sample hives live in the shared folder beside the repository checkout.
REGISTRY_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "registry"


@pytest.fixture(autouse=True, scope="session")
def _plugins() -> None:
    plugins.load()


@pytest.fixture(scope="session")
def hives(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the benign sample hives, decompressed, where Windows keeps them."""
    if not REGISTRY_SAMPLES.is_dir():
        pytest.skip(f"the sample hives are not at {REGISTRY_SAMPLES}")
    root = tmp_path_factory.mktemp("hives")
    targets = {
        "NTUSER.DAT.xz": root / "Users/vibranium/NTUSER.DAT",
        "SYSTEM.xz": root / "Windows/System32/config/SYSTEM",
    }
    for name, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        with lzma.open(REGISTRY_SAMPLES / name) as src, target.open("wb") as out:
            shutil.copyfileobj(src, out)
    return root
