"""Time windows across devices: pictures taken minutes apart by different cameras.

A phone and a camera used in the same room in the same quarter of an hour belong
together in a way no single-camera session shows. Camera clocks are local and often
wrong, so the link is weaker (confidence 0.5); a window counts only when it joins
at least two different cameras (one camera's run is a capture session).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection

from unseen.core.settings import Settings
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Taken
from unseen.correlation.facts import ItemFacts
from unseen.correlation.groupings.sessions import capture_time

DEFAULT_GAP = Settings().window_gap_minutes


class WindowGrouping(Grouping):
    NAME = "windows"
    VERSION = "1"
    KIND = "window"
    DESCRIPTION = f"pictures by different cameras taken at most {DEFAULT_GAP} minutes apart"

    def group(self, facts: list[ItemFacts], conn: Connection) -> Iterator[Cluster]:
        shots = sorted(
            ((when, f) for f in facts if f.is_image and (when := capture_time(f))),
            key=lambda s: (s[0], s[1].id),
        )
        gap = self.settings.window_gap_minutes * 60
        run: list[tuple[datetime, ItemFacts]] = []
        for shot in shots:
            if run and (shot[0] - run[-1][0]).total_seconds() > gap:
                yield from self._window(run)
                run = []
            run.append(shot)
        yield from self._window(run)

    def _window(self, run: list[tuple[datetime, ItemFacts]]) -> Iterator[Cluster]:
        cameras = {f"{f.camera or '?'}|{f.serial or ''}" for _, f in run}
        if len(cameras) < 2:
            return
        start, end = run[0][0], run[-1][0]
        label = f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}, {len(cameras)} cameras"
        yield Cluster(
            self.KIND,
            start.isoformat(),
            label,
            0.5,
            Taken(
                (f.id, when.time(), f" by {f.camera or 'an unnamed camera'}") for when, f in run
            ),
            {"start": start.isoformat(), "end": end.isoformat(), "cameras": len(cameras)},
        )


GROUPINGS.register(WindowGrouping)
