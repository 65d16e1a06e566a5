"""Case stages: whole-case steps that run after the fast pass (matching against hash
sets, internet artefacts, correlation, ...), in dependency order.

Each stage is a plugin with a ``NAME``, ``VERSION`` and ``DEPENDS_ON``; it reads the
case, does its work (fanning out per item where it can) and writes its own tables.
Stages must be rerunnable: a second run after a kill gives the same case.
"""

from __future__ import annotations

import graphlib
from abc import ABC, abstractmethod
from typing import ClassVar

from unseen.core.registry import Registry
from unseen.core.settings import Settings
from unseen.store.case import Case


class CaseStage(ABC):
    NAME: ClassVar[str]
    VERSION: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    DEPENDS_ON: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def run(self, case: Case, settings: Settings, workers: int) -> str:
        """Do the stage's work on the case; return a one-line summary for the user."""


STAGES: Registry[type[CaseStage]] = Registry("stages")


def ordered_stages() -> list[type[CaseStage]]:
    """Every registered stage, dependencies first."""
    graph = {cls.NAME: set(cls.DEPENDS_ON) & set(STAGES.names()) for cls in STAGES}
    return [STAGES.get(name) for name in graphlib.TopologicalSorter(graph).static_order()]
