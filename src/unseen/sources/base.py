"""The source interface and registry.

A source turns one piece of evidence (a folder, an archive, a disk image) into entries,
and reopens any entry from its locator in any process. Sources never write to the
evidence. Items found inside other items (archive members, files of a disk image held
in the evidence) have nested locators: the source opens the first hop itself and the
container handlers of ``sources.containers`` open the others.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar

from unseen.core.errors import UserError
from unseen.core.models import Entry, SourceSpec
from unseen.core.registry import Registry
from unseen.core.settings import Settings
from unseen.sources.containers import ReaderCache
from unseen.sources.media import Siblings


class Source(ABC):
    """One evidence source, reopened from its ``SourceSpec`` wherever work runs."""

    NAME: ClassVar[str]
    DESCRIPTION: ClassVar[str]

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        # Limits applied while listing (set by the runner before ``entries``).
        self.settings = Settings()
        self._readers = ReaderCache(self._open_top, self.siblings, dict(spec.keys))

    @classmethod
    @abstractmethod
    def detect(cls, path: Path) -> bool:
        """Whether this source kind reads the evidence at ``path`` (by content)."""

    @abstractmethod
    def entries(self) -> Iterator[Entry]:
        """Every entry of the evidence, including those that cannot be read."""

    @abstractmethod
    def _open_top(self, locator: bytes) -> BinaryIO:
        """A read-only stream of an entry this source lists itself (a locator's first hop).

        Raises:
            OSError: the entry cannot be read; the caller records it.
        """

    def siblings(self, locator: bytes) -> Siblings | None:
        """How to open files beside the item at ``locator`` (a VMDK's extents), where
        this source can; None elsewhere."""
        return None

    def open(self, locator: bytes) -> BinaryIO:
        """A read-only binary stream of one entry's content, nested or not.

        Raises:
            OSError: the entry cannot be read; the caller records it.
        """
        return self._readers.open(locator)

    def close(self) -> None:
        """Release handles; sources holding more than containers extend it."""
        self._readers.clear()


SOURCES: Registry[type[Source]] = Registry("sources")


def detect_kind(path: Path) -> str:
    """The registered source kind that recognises ``path``."""
    for cls in SOURCES:
        if cls.detect(path):
            return cls.NAME
    raise UserError(f"{path}: not a kind of evidence unseen can read")


_open_sources: dict[tuple[SourceSpec, tuple[tuple[str, str], ...]], Source] = {}


def open_source(spec: SourceSpec) -> Source:
    """The source for ``spec``, opened once per process and reused.

    Its keys are part of what is reused: specs compare equal whatever their keys (so a
    key never decides equality elsewhere), but a source opened with one key, or none,
    must not serve a caller that gave another (two cases in one worker process).
    """
    cache_key = (spec, spec.keys)
    source = _open_sources.get(cache_key)
    if source is None:
        source = SOURCES.get(spec.kind)(spec)
        _open_sources[cache_key] = source
    return source


def close_sources() -> None:
    """Close every source this process opened."""
    for source in _open_sources.values():
        source.close()
    _open_sources.clear()
