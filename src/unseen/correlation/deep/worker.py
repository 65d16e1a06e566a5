"""Per-item deep work as a pure function: (item, facts) -> rows, done, errors."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from PIL import Image

from unseen import plugins
from unseen.analysis.decode import decode, pixel_budget
from unseen.analysis.image import SAFE_FORMATS, to_rgb
from unseen.core.models import ItemTask
from unseen.core.settings import Settings
from unseen.correlation.deep.base import DEEP_ANALYSERS, DeepAnalyser, DeepContext
from unseen.correlation.facts import ItemFacts
from unseen.engine.pipeline import describe
from unseen.sources.base import open_source

# The deep pass's read and size limits are settings; this worker uses their defaults.
DEFAULT = Settings()


@dataclass(frozen=True, slots=True)
class DeepTask:
    task: ItemTask
    facts: ItemFacts
    analysers: tuple[str, ...]  # those still to do on this picture

    @property
    def item_id(self) -> int:
        return self.task.item_id


@dataclass
class DeepResult:
    item_id: int
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    done: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


@cache
def _analysers(names: tuple[str, ...], settings: Settings) -> list[DeepAnalyser]:
    """One instance of each named analyser per process and settings."""
    plugins.load()
    return [DEEP_ANALYSERS.get(name)(settings) for name in names]


def deep_batch(batch: list[DeepTask], settings: Settings = DEFAULT) -> list[DeepResult]:
    """Run each task's deep analysers over a batch (in a worker process or here), with
    the run's settings (decode limits, the analysers' thresholds)."""
    return [deep_item(t, settings) for t in batch]


def deep_item(t: DeepTask, settings: Settings = DEFAULT) -> DeepResult:
    result = DeepResult(t.task.item_id)
    analysers = [a for a in _analysers(t.analysers, settings) if a.applies_to(t.facts)]
    try:
        image = _decode(t.task, settings)
    except Exception as exc:  # hostile evidence: recorded on the item, never raised
        result.errors.append(("deep", f"cannot decode for deep analysis: {describe(exc)}"))
        result.done.extend((a.NAME, a.VERSION) for a in analysers)
        return result
    ctx = DeepContext(t.facts, image)
    for analyser in analysers:
        try:
            rows = analyser.analyse(ctx)
        except Exception as exc:  # one analyser failing must not stop the others
            result.errors.append((analyser.NAME, describe(exc)))
        else:
            result.rows.extend((row.table, row.values) for row in rows)
        result.done.append((analyser.NAME, analyser.VERSION))
    return result


def _decode(task: ItemTask, settings: Settings) -> Image.Image:
    most = settings.deep_max_bytes
    with open_source(task.source).open(task.locator) as stream:
        data = stream.read(most + 1)
    if len(data) > most:
        raise ValueError(f"larger than {most} bytes")
    img = Image.open(io.BytesIO(data), formats=SAFE_FORMATS)
    if img.width * img.height > settings.max_image_pixels:
        raise ValueError(f"claims {img.width}x{img.height} pixels")
    # Decoded now (a broken picture is one error here, not one per analyser), at full
    # size where the worker's budget allows, reduced while decoding where it does not.
    return decode(img, data, pixel_budget(settings), 0, to_rgb).rgb
