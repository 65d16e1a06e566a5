"""Shared test set-up: only the built-in plugins, and the real ``unseen`` program."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

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
