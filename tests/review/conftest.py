"""Fixtures: the pristine processed case (built once per session) and fresh copies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case

from .helpers import build_evidence, copy_case, make_client, make_users


@pytest.fixture(autouse=True)
def own_library(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A library of its own for each test: the copies of the pristine case share its
    UUID, so in one shared library their audit heads would read as one case's chain
    forked (which the audit page rightly calls broken)."""
    monkeypatch.setenv("UNSEEN_HOME", str(tmp_path_factory.mktemp("library")))


@pytest.fixture(scope="session")
def pristine_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The processed case folder (never modified: tests use copies)."""
    base = tmp_path_factory.mktemp("review")
    build_evidence(base / "evidence")
    case = Case.create(base / "case", name="REVIEW-T", examiner="Test Examiner")
    repo.add_source(case, "folder", str(base / "evidence"), "EV01", "Test Examiner")
    process_case(case, workers=0)
    make_users(case)
    case.close()
    return base / "case"


@pytest.fixture
def case_dir(pristine_case: Path, tmp_path: Path) -> Path:
    """A fresh copy of the processed case for one test."""
    return copy_case(pristine_case, tmp_path / "case")


@pytest.fixture
def client(case_dir: Path) -> Iterator[TestClient]:
    with make_client(case_dir) as c:
        yield c
