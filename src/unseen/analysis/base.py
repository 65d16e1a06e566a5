"""The analyser interface, the per-item context and the registry.

An analyser is a small class with a stable ``NAME``, a ``VERSION`` recorded in the
case for every run, the analysers it ``DEPENDS_ON``, and two methods: ``applies_to``
and ``analyse``. Analysers read the item through the context and write facts into
``ctx.record``; they never touch the database.
"""

from __future__ import annotations

import graphlib
from abc import abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from unseen.core.jobs import JOBS, Job
from unseen.core.models import FileRecord, ItemTask
from unseen.core.registry import Registry
from unseen.core.settings import Settings

if TYPE_CHECKING:
    from PIL import Image


@dataclass
class ItemContext:
    """What analysers share while one item is processed.

    Attributes:
        stream: the item's content, opened read-only by its source.
        head: the first bytes of the content (for sniffing).
        data: the whole content, when it was kept in memory for decoding.
        image: the opened (header-parsed) image, for analysers that follow ``image``;
            None when the header claims more pixels than may be decoded (some readers,
            e.g. PNG's EXIF, decode the whole image on access).
        rgb: the decoded RGB image (possibly draft-reduced), for thumbnails; None when
            decoding failed.
    """

    task: ItemTask
    record: FileRecord
    settings: Settings
    thumbs_dir: Path
    stream: IO[bytes]
    head: bytes = b""
    data: bytes | None = None
    image: Image.Image | None = None
    rgb: Image.Image | None = None
    keep_content: bool = False
    scratch: dict[str, object] = field(default_factory=dict)


class FileAnalyser(Job):
    """Analyses one item at a time; one instance per worker process.

    A job of the fast pass: the pass runs every analyser on an item together (they
    share one read and one decode) and records each in the ledger, so bumping one
    analyser's version re-runs the pass on exactly the items that analyser looked at.
    """

    def applies_to(self, ctx: ItemContext) -> bool:
        """Whether this item is one this analyser looks at (default: all)."""
        return True

    @abstractmethod
    def analyse(self, ctx: ItemContext) -> None:
        """Add facts about the item to ``ctx.record``.

        Raise on failure: the engine records the error against the item and goes on.
        """


ANALYSERS: Registry[type[FileAnalyser]] = Registry("analysers", also=JOBS)


def ordered(names: list[str] | None = None) -> list[type[FileAnalyser]]:
    """Registered analysers (or the named ones) in dependency order."""
    chosen = [ANALYSERS.get(n) for n in names] if names else list(ANALYSERS)
    graph = {cls.NAME: set(cls.DEPENDS_ON) for cls in chosen}
    missing = {dep for deps in graph.values() for dep in deps} - set(graph)
    if missing:
        raise KeyError(f"analysers depend on unknown or disabled analysers: {sorted(missing)}")
    order = graphlib.TopologicalSorter(graph).static_order()
    return [ANALYSERS.get(name) for name in order]


def versions(classes: list[type[FileAnalyser]]) -> dict[str, str]:
    """``{name: version}`` of the given analysers, for the run's provenance."""
    return {cls.NAME: cls.VERSION for cls in classes}
