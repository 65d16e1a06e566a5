"""Capture sessions: pictures from one camera taken minutes apart form one session
(an evening in one room, say)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection

from unseen.core.settings import Settings
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Taken
from unseen.correlation.facts import ItemFacts

DEFAULT_GAP = Settings().session_gap_minutes


def capture_time(f: ItemFacts) -> datetime | None:
    """EXIF DateTimeOriginal as the camera's local time, or None."""
    if not f.datetime_original:
        return None
    try:
        return datetime.fromisoformat(f.datetime_original[:19])  # camera local time
    except ValueError:
        return None


class SessionGrouping(Grouping):
    NAME = "sessions"
    VERSION = "1"
    KIND = "session"
    DESCRIPTION = f"one camera, capture times at most {DEFAULT_GAP} minutes apart"

    def group(self, facts: list[ItemFacts], conn: Connection) -> Iterator[Cluster]:
        by_camera: dict[str, list[tuple[datetime, ItemFacts]]] = defaultdict(list)
        for f in facts:
            when = capture_time(f)
            if f.is_image and f.camera and when:
                by_camera[f"{f.camera}|{f.serial or ''}"].append((when, f))
        gap = self.settings.session_gap_minutes * 60
        for camera_key, shots in sorted(by_camera.items()):
            shots.sort(key=lambda s: (s[0], s[1].id))
            run = [shots[0]]
            for shot in shots[1:]:
                if (shot[0] - run[-1][0]).total_seconds() <= gap:
                    run.append(shot)
                    continue
                yield from self._session(camera_key, run)
                run = [shot]
            yield from self._session(camera_key, run)

    def _session(
        self, camera_key: str, run: list[tuple[datetime, ItemFacts]]
    ) -> Iterator[Cluster]:
        if len(run) < 2:
            return
        start, end = run[0][0], run[-1][0]
        camera = run[0][1].camera
        label = f"{camera}, {start:%Y-%m-%d %H:%M}-{end:%H:%M}, {len(run)} pictures"
        yield Cluster(
            self.KIND,
            f"{camera_key}|{start.isoformat()}",
            label,
            1.0,
            Taken((f.id, when.time(), f" in session {label}") for when, f in run),
            {"camera": camera, "start": start.isoformat(), "end": end.isoformat()},
        )


GROUPINGS.register(SessionGrouping)
