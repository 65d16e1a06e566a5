"""``unseen report CASE --kind internet``: the internet-usage profile for risk assessors.

A self-contained HTML document (inline CSS, no scripts, no external resources) built
from ``internet.coverage.build_profile`` with a Jinja2 template that escapes every
value: evidence text is hostile.
"""

from __future__ import annotations

import math
from typing import IO

from jinja2 import Environment

from unseen.core import templates
from unseen.internet.coverage import WEEKDAYS, build_profile
from unseen.phones.report import add_communications
from unseen.reports.registry import REPORTS, Report
from unseen.store.audit import signed_head
from unseen.store.case import Case

HEAT_LEVELS = 5


def environment() -> Environment:
    """The reports' templates (autoescaping: nothing from the evidence is trusted)."""
    return templates.environment("unseen.reports", filters={"heat": heat_level})


def heat_level(count: int, peak: int) -> int:
    """0 for none, else 1..HEAT_LEVELS in proportion to the busiest cell."""
    if count <= 0 or peak <= 0:
        return 0
    return max(1, math.ceil(HEAT_LEVELS * count / peak))


class InternetReport(Report):
    NAME = "internet"
    DESCRIPTION = "internet-usage profile by behaviour, with provenance and coverage"

    def render(self, case: Case, out: IO[str]) -> None:
        with case.engine.connect() as conn:
            profile = build_profile(conn, case.info)
            add_communications(conn, profile)  # messages on phones, after "contact"
            # Every report carries the signed audit head of its moment.
            head = signed_head(conn)
        template = environment().get_template("internet.html")
        out.write(
            template.render(profile=profile, weekdays=WEEKDAYS, audit_head=head.line().strip())
        )


REPORTS.register(InternetReport)
