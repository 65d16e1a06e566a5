"""Long commands without a known total say what they do: a spinner on a terminal, one
log line when they start and one when they end; an export's stream passes through
unchanged while its lines are counted."""

from __future__ import annotations

import io
import logging

import pytest
from rich.console import Console

from unseen.cli.progress import Counted, Working


def test_working_logs_a_line_at_start_and_end_and_counts_an_export(
    caplog: pytest.LogCaptureFixture,
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    out = io.StringIO()
    with (
        caplog.at_level(logging.INFO, logger="unseen.cli"),
        Working(terminal, "jsonl export") as working,
    ):
        stream = Counted(out, working)
        for n in range(2500):
            stream.write(f'{{"n": {n}}}\n')
    assert out.getvalue().count("\n") == 2500 and out.getvalue().startswith('{"n": 0}\n')
    assert (stream.lines, stream.chars) == (2500, sum(len(f'{{"n": {n}}}\n') for n in range(2500)))
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "jsonl export: started"
    assert messages[1].startswith("jsonl export: done in ")
    assert "jsonl export" in screen.getvalue()  # drawn on the terminal


def test_working_draws_nothing_when_not_a_terminal() -> None:
    screen = io.StringIO()
    with Working(Console(file=screen, force_terminal=False), "report"):
        pass
    assert screen.getvalue() == ""
