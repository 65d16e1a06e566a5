"""Case stages: whole-case jobs that run after the fast pass (matching against hash
sets, internet artefacts, correlation, ...), in dependency order with every other
job (``engine.driver.ordered_jobs``).

A stage is a ``CaseJob`` with a ``NAME``, ``VERSION`` and ``DEPENDS_ON``; it reads the
case, does its work (fanning out per item through the driver where it can) and
writes its own tables. Stages must be rerunnable: a second run after a kill gives
the same case.
"""

from __future__ import annotations

from unseen.core.jobs import JOBS, CaseJob
from unseen.core.registry import Registry

CaseStage = CaseJob
STAGES: Registry[type[CaseJob]] = Registry("stages", also=JOBS)
