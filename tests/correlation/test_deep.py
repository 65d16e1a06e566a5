"""The deep stage: lead order, resumability, recorded failures, switch-off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image
from sqlalchemy import Column, Float, Integer, MetaData, Table

from unseen import plugins
from unseen.core.settings import Settings
from unseen.correlation.deep.base import DEEP_ANALYSERS, DeepAnalyser, DeepContext, DeepRow
from unseen.correlation.deep.stage import DeepStage
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case

SEEN: list[str] = []


class BrightnessAnalyser(DeepAnalyser):
    """Test-only: mean brightness of the picture; fails on pictures named bad*."""

    NAME = "test_brightness"
    VERSION = "1"
    DESCRIPTION = "mean brightness (test only)"
    TABLES: ClassVar[tuple[Table, ...]] = (
        Table("test_brightness", MetaData(), Column("item_id", Integer), Column("mean", Float)),
    )

    def analyse(self, ctx: DeepContext) -> list[DeepRow]:
        SEEN.append(ctx.facts.path)
        if Path(ctx.facts.path).name.startswith("bad"):
            raise ValueError("cannot measure this one")
        grey = ctx.image.convert("L")
        mean = sum(i * n for i, n in enumerate(grey.histogram())) / (grey.width * grey.height)
        return [DeepRow("test_brightness", {"mean": round(mean, 2)})]


@pytest.fixture()
def registered() -> Iterator[None]:
    plugins.load()
    DEEP_ANALYSERS.register(BrightnessAnalyser)
    yield
    DEEP_ANALYSERS.unregister(BrightnessAnalyser.NAME)


def make_case(tmp_path: Path) -> Case:
    ev = tmp_path / "ev"
    ev.mkdir()
    for name, level in (("a.png", 10), ("bad.png", 20), ("c.png", 200)):
        Image.new("RGB", (64, 48), (level, level, level)).save(ev / name)
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "tester")
    return case


def only_test_analyser() -> Settings:
    """Settings that switch off every deep analyser but the test's own."""
    others = tuple(n for n in DEEP_ANALYSERS.names() if n != BrightnessAnalyser.NAME)
    return Settings(skip=others)


def test_deep_stage_runs_in_lead_order_records_failures_and_resumes(
    tmp_path: Path, registered: None
) -> None:
    case = make_case(tmp_path)
    SEEN.clear()
    summary = process_case(case, workers=0, settings=only_test_analyser())
    assert summary.stages["deep"].startswith("3 pictures analysed by test_brightness")
    with case.engine.connect() as conn:
        ranked = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT i.path FROM leads l JOIN items i ON i.id = l.target_id "
                "WHERE l.target_kind = 'item' ORDER BY l.score DESC, l.target_id"
            )
        ]
        means = conn.exec_driver_sql(
            "SELECT i.path, b.mean FROM test_brightness b JOIN items i ON i.id = b.item_id "
            "ORDER BY i.path"
        ).all()
        errors = conn.exec_driver_sql(
            "SELECT analyser, message FROM item_errors e JOIN items i ON i.id = e.item_id "
            "WHERE i.path = 'bad.png'"
        ).all()
    assert ranked == SEEN
    assert means == [("a.png", 10.0), ("c.png", 200.0)]
    assert errors == [("test_brightness", "ValueError: cannot measure this one")]
    SEEN.clear()
    result = DeepStage().run(case, only_test_analyser(), 0)
    assert result.startswith("0 pictures analysed by test_brightness")
    assert SEEN == []


def test_switched_off_analysers_are_reported(tmp_path: Path, registered: None) -> None:
    case = make_case(tmp_path)
    process_case(case, workers=0, settings=Settings(skip=("deep",)))
    result = DeepStage().run(case, Settings(skip=("test_brightness",)), 0)
    assert "test_brightness switched off" in result
