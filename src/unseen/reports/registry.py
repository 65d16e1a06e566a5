"""Registries of what ``unseen report`` and ``unseen export`` can produce.

A report renders a document about the case (HTML for court or risk assessors); an
exporter writes records for other tools. Both are plugins looked up by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from typing import IO, ClassVar

from unseen.core.errors import UserError
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

    @abstractmethod
    def export(self, case: Case, out: IO[str], what: str, options: dict[str, str]) -> int:
        """Write the export to ``out``; return the number of records written."""

    def export_items(
        self, case: Case, out: IO[str], items: Collection[int], options: dict[str, str]
    ) -> int:
        """Write the records of ``items`` alone (a grid filter's result); the exporters
        whose format describes a whole case refuse."""
        raise UserError(f"{self.NAME} exports a whole case; a chosen set exports as jsonl or csv")


REPORTS: Registry[type[Report]] = Registry("reports")
EXPORTERS: Registry[type[Exporter]] = Registry("exporters")
