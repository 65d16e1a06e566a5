"""Shared test set-up: only the built-in plugins, and the real ``unseen`` program."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

# Third-party plugins installed on the machine must not change what tests see; this
# is inherited by every ``unseen`` subprocess and worker the tests start.
os.environ["UNSEEN_LOAD_PLUGINS"] = "0"
# Nor may the examiner's own hash-set library: every run gets an empty home of its own
# (tests that need a library make one and point UNSEEN_HOME at it themselves).
_HOME = tempfile.mkdtemp(prefix="unseen-test-home-")
os.environ["UNSEEN_HOME"] = _HOME
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def unseen_exe() -> Path:
    """The installed ``unseen`` console script of the interpreter running the tests."""
    exe = Path(sys.executable).with_name("unseen")
    if not exe.is_file():
        pytest.fail(f"{exe} is missing; install the package (pip install -e .)")
    return exe


PG_SERVER = os.environ.get("UNSEEN_TEST_PG_URL")


@pytest.fixture
def pg_database() -> Iterator[Callable[[], str]]:
    """Makes fresh, empty databases on the test PostgreSQL server (returns each one's
    URL) and drops them afterwards; without a server the test is skipped."""
    if not PG_SERVER:
        pytest.skip("UNSEEN_TEST_PG_URL is not set; run under `bash scripts/with-postgres.sh`")
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"unseen_test_{uuid.uuid4().hex[:16]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
