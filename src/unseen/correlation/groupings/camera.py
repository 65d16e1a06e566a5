"""Same camera: EXIF make + model + body serial.

A serial number ties pictures to one physical camera (confidence 1.0); make and
model alone only to a camera model, which many people own (confidence 0.5).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import Connection

from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import ItemFacts


class CameraGrouping(Grouping):
    NAME = "camera"
    VERSION = "1"
    KIND = "camera"
    DESCRIPTION = "pictures whose EXIF names the same camera (make, model, serial)"

    def group(self, facts: list[ItemFacts], conn: Connection) -> Iterator[Cluster]:
        by_camera: dict[tuple[str, str], list[ItemFacts]] = defaultdict(list)
        for f in facts:
            if f.is_image and f.camera:
                by_camera[(f.camera, (f.serial or "").strip())].append(f)
        for (camera, serial), members in sorted(by_camera.items()):
            label = f"{camera} serial {serial}" if serial else f"{camera} (no serial)"
            yield Cluster(
                self.KIND,
                f"{camera}|{serial}",
                label,
                1.0 if serial else 0.5,
                tuple(Member(m.id, f"EXIF names {label}") for m in members),
                {"camera": camera, "serial": serial or None},
            )


GROUPINGS.register(CameraGrouping)
