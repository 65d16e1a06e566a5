"""Time windows across devices: pictures taken minutes apart by different cameras.

A phone and a camera used in the same room in the same quarter of an hour belong
together in a way no single-camera session shows. Camera clocks are local and often
wrong, so the link is weaker (confidence 0.5); a window counts only when it joins
at least two different cameras (one camera's run is a capture session).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from unseen.core.settings import Settings
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Taken
from unseen.correlation.facts import Facts
from unseen.correlation.groupings.sessions import TIMED, Shots, capture_time

DEFAULT_GAP = Settings().window_gap_minutes


class WindowGrouping(Grouping):
    NAME = "windows"
    VERSION = "1"
    KIND = "window"
    DESCRIPTION = f"pictures by different cameras taken at most {DEFAULT_GAP} minutes apart"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        shots = Shots()
        for f in facts.scan(*TIMED):
            if f.is_image and (when := capture_time(f)):
                shots.add(when, f.id, (f.camera, f.serial))
        for run in shots.runs(self.settings.window_gap_minutes * 60):
            yield from self._window(run)

    def _window(self, run: list[tuple[datetime, int, Any]]) -> Iterator[Cluster]:
        named = [tag for _, _, tag in run]
        cameras = {f"{camera or '?'}|{serial or ''}" for camera, serial in named}
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
                (i, when.time(), f" by {camera or 'an unnamed camera'}")
                for (when, i, _), (camera, _) in zip(run, named, strict=True)
            ),
            {"start": start.isoformat(), "end": end.isoformat(), "cameras": len(cameras)},
        )


GROUPINGS.register(WindowGrouping)
