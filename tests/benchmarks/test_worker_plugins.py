"""Fast-pass workers import only the plugin modules they need (a start-up cost the ingest
benchmark measures), yet register exactly what the main process has, in the same order:
the same sources, container readers (sniffed in order) and analysers (run in order)."""

from __future__ import annotations

import json
import subprocess
import sys

from unseen import plugins
from unseen.analysis.base import ANALYSERS, ordered
from unseen.engine.pipeline import worker_plugin_modules
from unseen.sources.base import SOURCES
from unseen.sources.containers import CONTAINERS

REGISTERED = """
import json, sys
from unseen.core.settings import Settings
from unseen.engine.pipeline import WorkerConfig, _load_plugins
_load_plugins(WorkerConfig(Settings(), "/nonexistent", plugin_modules=tuple(sys.argv[1:])))
from unseen.analysis.base import ordered
from unseen.sources.base import SOURCES
from unseen.sources.containers import CONTAINERS
print(json.dumps([[c.NAME for c in r] for r in (SOURCES, CONTAINERS, ordered())]))
print(json.dumps(sorted(m for m in sys.modules if m.startswith("unseen.reports"))))
"""


def test_a_fresh_worker_registers_what_the_main_process_has_in_order() -> None:
    plugins.load()
    modules = worker_plugin_modules()
    assert modules  # the built-ins alone (tests load no third-party plugins)
    assert set(modules) == {c.__module__ for r in (SOURCES, CONTAINERS, ANALYSERS) for c in r}
    out = subprocess.run(
        [sys.executable, "-c", REGISTERED, *modules], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    main = [[c.NAME for c in r] for r in (SOURCES, CONTAINERS, ordered())]
    assert json.loads(out[0]) == main
    assert json.loads(out[1]) == []  # reports, stages and the like stay out of workers


def test_no_module_list_means_every_plugin() -> None:
    out = subprocess.run(
        [sys.executable, "-c", REGISTERED], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert "unseen.reports.jsonl" in json.loads(out[1])
