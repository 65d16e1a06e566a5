"""Registries of what ``unseen report`` and ``unseen export`` can produce.

A report renders a document about the case (HTML for court or risk assessors); an
exporter writes records for other tools. Both are plugins looked up by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from typing import IO, ClassVar

from unseen.core.registry import Registry
from unseen.store.case import Case


class Report(ABC):
    NAME: ClassVar[str]
    DESCRIPTION: ClassVar[str]

    @abstractmethod
    def render(self, case: Case, out: IO[str]) -> None:
        """Write the report (a whole HTML document) to ``out``."""


class Exporter(ABC):
    NAME: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    # What the exporter can export: "items" (one record per item), "artefacts", ...
    WHAT: ClassVar[tuple[str, ...]] = ("items",)
    # Whether it can export a chosen set of items (``only``), not just the whole case.
    FILTERED: ClassVar[bool] = False

    @abstractmethod
    def export(
        self,
        case: Case,
        out: IO[str],
        what: str,
        options: dict[str, str],
        only: Collection[int] | None = None,
    ) -> int:
        """Write the export to ``out``; return the number of records written. ``only``:
        the items to export (a grid filter's result) instead of the whole case, for
        exporters with ``FILTERED`` true; the others refuse it."""


REPORTS: Registry[type[Report]] = Registry("reports")
EXPORTERS: Registry[type[Exporter]] = Registry("exporters")
