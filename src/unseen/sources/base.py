"""The source interface and registry.

A source turns one piece of evidence (a folder now; archives and disk images later)
into entries, and reopens any entry from its locator in any process. Sources never
write to the evidence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar

from unseen.core.errors import UserError
from unseen.core.models import Entry, SourceSpec
from unseen.core.registry import Registry


class Source(ABC):
    """One evidence source, reopened from its ``SourceSpec`` wherever work runs."""

    NAME: ClassVar[str]
    DESCRIPTION: ClassVar[str]

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec

    @classmethod
    @abstractmethod
    def detect(cls, path: Path) -> bool:
        """Whether this source kind reads the evidence at ``path`` (by content)."""

    @abstractmethod
    def entries(self) -> Iterator[Entry]:
        """Every entry of the evidence, including those that cannot be read."""

    @abstractmethod
    def open(self, locator: bytes) -> BinaryIO:
        """A read-only binary stream of one entry's content.

        Raises:
            OSError: the entry cannot be read; the caller records it.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release handles; sources without any need not override it."""


SOURCES: Registry[type[Source]] = Registry("sources")


def detect_kind(path: Path) -> str:
    """The registered source kind that recognises ``path``."""
    for cls in SOURCES:
        if cls.detect(path):
            return cls.NAME
    raise UserError(f"{path}: not a kind of evidence unseen can read")


_open_sources: dict[SourceSpec, Source] = {}


def open_source(spec: SourceSpec) -> Source:
    """The source for ``spec``, opened once per process and reused."""
    source = _open_sources.get(spec)
    if source is None:
        source = SOURCES.get(spec.kind)(spec)
        _open_sources[spec] = source
    return source


def close_sources() -> None:
    """Close every source this process opened."""
    for source in _open_sources.values():
        source.close()
    _open_sources.clear()
