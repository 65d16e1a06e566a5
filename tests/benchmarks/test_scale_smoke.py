"""The scale benchmark's generated store exercises what it says it does: every
grouping its distributions are meant to feed finds clusters in it. A store whose
capture times no grouping could read measured a million items without sessions or
time windows; nothing is timed here (numbers belong to ``benchmarks/scale.py``)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from sqlalchemy import func, select

from unseen import plugins
from unseen.core.settings import Settings
from unseen.correlation.stage import CorrelationStage
from unseen.store import schema as s
from unseen.store.case import Case


def test_the_generated_store_feeds_every_grouping_it_models(
    scale: ModuleType, tmp_path: Path
) -> None:
    plugins.load()  # the groupings register themselves
    case = Case.open(scale.build(tmp_path, 3_000))
    CorrelationStage().run(case, Settings(), 0)
    with case.engine.connect() as conn:
        c = s.clusters
        kinds = dict(conn.execute(select(c.c.kind, func.count()).group_by(c.c.kind)).all())
    modelled = {
        "camera",
        "camera_tables",
        "duplicate",
        "folder",
        "identity",
        "near_duplicate",
        "place",
        "session",
        "window",
    }
    assert modelled <= {kind for kind, n in kinds.items() if n > 0}
