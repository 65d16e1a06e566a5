"""Fixtures of the phone tests: plugins loaded once."""

from __future__ import annotations

import pytest

from unseen import plugins


@pytest.fixture(autouse=True, scope="session")
def _plugins() -> None:
    plugins.load()
