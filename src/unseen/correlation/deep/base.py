"""Deep analysers: heavy per-image work whose results feed the groupings.

A deep analyser gets one decoded picture and returns rows for its own tables
(faces, text...). It must not touch the database; the deep stage stores the rows.
An analyser whose optional dependency is missing says so in ``unavailable()`` and is
skipped with that reason shown, never silently.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from PIL import Image

from unseen.analysis.exif import apply_orientation
from unseen.core.jobs import JOBS, Job
from unseen.core.registry import Registry
from unseen.core.settings import Settings
from unseen.correlation.facts import ItemFacts


@dataclass
class DeepContext:
    """One picture for the deep analysers: decoded once, shared by all of them."""

    facts: ItemFacts
    image: Image.Image  # RGB, as stored (sensor orientation, for PRNU)
    _upright: Image.Image | None = field(default=None, repr=False)

    def upright(self) -> Image.Image:
        """The picture turned as the camera meant it (for faces and text)."""
        if self._upright is None:
            self._upright = apply_orientation(self.image, self.facts.orientation)
        return self._upright


@dataclass(frozen=True, slots=True)
class DeepRow:
    """One row for one of the analyser's tables (``item_id`` is added by the stage)."""

    table: str
    values: dict[str, Any]


class DeepAnalyser(Job):
    """A job of the deep stage: the stage decodes each picture once for all of them,
    and each records its own ledger entry and owns its ``TABLES`` (rows for an item
    are replaced when the analyser re-runs it)."""

    # Deep analysers read the fast pass's facts about the picture.
    DEPENDS_ON: ClassVar[tuple[str, ...]] = ("image",)

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()

    def applies_to(self, facts: ItemFacts) -> bool:
        """Whether the picture is one for this analyser, decided from its type and size
        alone (``mime``, ``width``, ``height``): ``unseen status`` counts the work left
        by asking once per distinct shape, not for each of a million pictures."""
        return facts.is_image and facts.width is not None

    @abstractmethod
    def analyse(self, ctx: DeepContext) -> list[DeepRow]:
        """Rows describing the picture; raise on failure (recorded on the item)."""


DEEP_ANALYSERS: Registry[type[DeepAnalyser]] = Registry("deep analysers", also=JOBS)
