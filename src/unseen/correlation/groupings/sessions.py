"""Capture sessions: pictures from one camera taken minutes apart form one session
(an evening in one room, say)."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection

from unseen.core.settings import Settings
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Taken
from unseen.correlation.facts import Facts, ItemFacts

DEFAULT_GAP = Settings().session_gap_minutes
EPOCH = datetime(1, 1, 1)
TIMED = ("mime", "make", "model", "serial", "datetime_original")  # what a shot reads


def capture_time(f: ItemFacts) -> datetime | None:
    """EXIF DateTimeOriginal as the camera's local time (any offset left out: times are
    compared on one camera's clock, and an aware time cannot meet a naive one), or
    None."""
    if not f.datetime_original:
        return None
    try:
        return datetime.fromisoformat(f.datetime_original[:19]).replace(tzinfo=None)
    except ValueError:
        return None


@dataclass(slots=True)
class Shots:
    """Pictures by capture time, as two arrays (seconds since year 1, item id) and, for
    each, an index into ``tags`` (a camera, say): a (time, facts) pair a picture held
    about 0.3 KB, beside every other picture's facts."""

    seconds: array[int] = field(default_factory=lambda: array("q"))
    ids: array[int] = field(default_factory=lambda: array("q"))
    tag: array[int] = field(default_factory=lambda: array("q"))
    tags: dict[Any, int] = field(default_factory=dict)

    def add(self, when: datetime, item_id: int, tag: Any = None) -> None:
        self.seconds.append((when - EPOCH) // timedelta(seconds=1))
        self.ids.append(item_id)
        self.tag.append(self.tags.setdefault(tag, len(self.tags)))

    def runs(self, gap: float) -> Iterator[list[tuple[datetime, int, Any]]]:
        """The shots in (time, id) order, cut wherever two follow more than ``gap``
        seconds apart: (time, item id, tag) each."""
        seconds = np.frombuffer(self.seconds, dtype=np.int64)
        ids = np.frombuffer(self.ids, dtype=np.int64)
        order = np.lexsort((ids, seconds))
        tags = list(self.tags)
        run: list[tuple[datetime, int, Any]] = []
        last = 0
        for k in order.tolist():
            at = int(seconds[k])
            if run and at - last > gap:
                yield run
                run = []
            run.append((EPOCH + timedelta(seconds=at), int(ids[k]), tags[self.tag[k]]))
            last = at
        if run:
            yield run


class SessionGrouping(Grouping):
    NAME = "sessions"
    VERSION = "1"
    KIND = "session"
    DESCRIPTION = f"one camera, capture times at most {DEFAULT_GAP} minutes apart"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        by_camera: dict[str, tuple[str, Shots]] = {}
        for f in facts.scan(*TIMED):
            when = capture_time(f)
            if f.is_image and f.camera and when:
                key = f"{f.camera}|{f.serial or ''}"
                by_camera.setdefault(key, (f.camera, Shots()))[1].add(when, f.id)
        gap = self.settings.session_gap_minutes * 60
        for camera_key, (camera, shots) in sorted(by_camera.items()):
            for run in shots.runs(gap):
                yield from self._session(camera_key, camera, run)

    def _session(
        self, camera_key: str, camera: str, run: list[tuple[datetime, int, Any]]
    ) -> Iterator[Cluster]:
        if len(run) < 2:
            return
        start, end = run[0][0], run[-1][0]
        label = f"{camera}, {start:%Y-%m-%d %H:%M}-{end:%H:%M}, {len(run)} pictures"
        yield Cluster(
            self.KIND,
            f"{camera_key}|{start.isoformat()}",
            label,
            1.0,
            Taken((i, when.time(), f" in session {label}") for when, i, _ in run),
            {"camera": camera, "start": start.isoformat(), "end": end.isoformat()},
        )


GROUPINGS.register(SessionGrouping)
