"""Same camera: EXIF make + model + body serial.

A serial number ties pictures to one physical camera (confidence 1.0); make and
model alone only to a camera model, which many people own (confidence 0.5).
"""

from __future__ import annotations

import hashlib
from array import array
from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import Connection

from unseen.correlation.base import GROUPINGS, Cluster, Grouping, SameReason
from unseen.correlation.facts import Facts


class CameraGrouping(Grouping):
    NAME = "camera"
    VERSION = "1"
    KIND = "camera"
    DESCRIPTION = "pictures whose EXIF names the same camera (make, model, serial)"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        by_camera: dict[tuple[str, str], array[int]] = defaultdict(lambda: array("q"))
        for f in facts.scan("mime", "make", "model", "serial"):
            if f.is_image and f.camera:
                by_camera[(f.camera, (f.serial or "").strip())].append(f.id)
        for (camera, serial), members in sorted(by_camera.items()):
            label = f"{camera} serial {serial}" if serial else f"{camera} (no serial)"
            yield Cluster(
                self.KIND,
                f"{camera}|{serial}",
                label,
                1.0 if serial else 0.5,
                SameReason(members, f"EXIF names {label}"),
                {"camera": camera, "serial": serial or None},
            )


class CameraTablesGrouping(Grouping):
    """Pictures without a body serial are tied to one camera model by make and model
    alone; the JPEG quantisation tables the camera chose narrow that to a model and
    its firmware settings, which links pictures of one unknown body more tightly."""

    NAME = "camera_tables"
    VERSION = "1"
    KIND = "camera_tables"
    DESCRIPTION = "pictures without a serial whose EXIF camera and JPEG tables are the same"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        by_tables: dict[tuple[str, str], array[int]] = defaultdict(lambda: array("q"))
        for f in facts.scan("mime", "make", "model", "serial", "jpeg_qtables"):
            if f.is_image and f.camera and f.jpeg_qtables and not (f.serial or "").strip():
                by_tables[(f.camera, f.jpeg_qtables)].append(f.id)
        for (camera, tables), members in sorted(by_tables.items()):
            if len(members) < 2:
                continue
            digest = hashlib.sha256(tables.encode()).hexdigest()[:12]
            label = f"{camera}, JPEG tables {digest}"
            yield Cluster(
                self.KIND,
                f"{camera}|{digest}",
                label,
                1.0,
                SameReason(members, f"EXIF names {camera}; JPEG tables {digest}"),
                {"camera": camera, "qtables": digest},
            )


GROUPINGS.register(CameraGrouping)
GROUPINGS.register(CameraTablesGrouping)
