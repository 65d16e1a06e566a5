"""The demo manifest (what was planted, and why) and the builder that writes the files.

Every file goes through :meth:`DemoBuilder.write`, which records a :class:`DemoItem`
and pins the file's times, so the manifest always matches the disk and a rebuild
gives the same bytes and the same times.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from unseen.core.paths import display_name

# Times the "suspect" last opened things, per role: pinned so exports are repeatable.
_ROLE_ATIME: dict[str, datetime] = {
    "camera_original": datetime(2024, 6, 2, 20, 0, tzinfo=UTC),
    "series": datetime(2024, 6, 3, 19, 30, tzinfo=UTC),
    "download_copy": datetime(2024, 6, 4, 22, 15, tzinfo=UTC),
    "duplicate": datetime(2024, 6, 5, 18, 45, tzinfo=UTC),
    "web_image": datetime(2024, 5, 14, 21, 40, tzinfo=UTC),
}
_DEFAULT_ATIME = datetime(2024, 6, 6, 9, 0, tzinfo=UTC)
# Folder times are set last, after every file in them was written.
FOLDER_TIME = datetime(2024, 6, 7, 8, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DemoItem:
    """One planted file and the ground truth about it.

    Attributes:
        path: relative to ``laptop/``, ``/``-separated, as unseen displays it (bytes
            that are not UTF-8 appear as ``\\xNN``).
        role: why the file is there, e.g. ``camera_original``, ``download_copy``.
        scene: the synthetic scene drawn in it (``synth.render_scene`` id), if any.
        camera: the ``synth.CAMERAS`` key of the body named in its EXIF, if any.
        derived_from: path of the file it was made from (copies and duplicates).
        transform: how it was derived: ``resize``, ``recompress``, ``rotate90``,
            ``mirror``, ``crop1``, ``png``, ``webp``, ``gif``; None for exact copies.
        note: what is special about it, for people reading the manifest.
        taken: EXIF DateTimeOriginal as written (camera clock), if it has EXIF.
        gps: EXIF position written (latitude, longitude, altitude in metres), if any.
        mtime: the file's modification time, ISO 8601 UTC.
        size: bytes. sha256: hex digest of the content.
    """

    path: str
    role: str
    scene: int | None = None
    camera: str | None = None
    derived_from: str | None = None
    transform: str | None = None
    note: str | None = None
    taken: str | None = None
    gps: tuple[float, float, float] | None = None
    mtime: str = ""
    size: int = 0
    sha256: str = ""


@dataclass(slots=True)
class DemoManifest:
    """What :func:`~unseen.demo.generator.build_demo_evidence` wrote.

    Attributes:
        files: number of files written under ``root/laptop``.
        root: the evidence folder (``laptop/`` and ``manifest.json`` inside it).
        items: one entry per file, in the order written.
    """

    files: int
    root: Path
    items: list[DemoItem] = field(default_factory=list)

    def by_role(self) -> dict[str, int]:
        """Number of items per role."""
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.role] = counts.get(item.role, 0) + 1
        return counts

    def to_json(self) -> str:
        """The manifest as JSON with sorted keys and no absolute paths (repeatable)."""
        doc = {"laptop": "laptop", "files": self.files, "items": [asdict(i) for i in self.items]}
        return json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def epoch(when: datetime) -> float:
    """Seconds since 1970-01-01 UTC; a naive time is taken as UTC."""
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def image_bytes(image: Image.Image, fmt: str, **params: Any) -> bytes:
    """``image`` encoded as ``fmt`` (Pillow format name) with save parameters."""
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


class DemoBuilder:
    """Writes files under ``laptop/`` and keeps the manifest of what it wrote."""

    def __init__(self, laptop: Path) -> None:
        self.laptop = laptop
        self.items: list[DemoItem] = []
        # (path, atime, mtime): applied by pin_times, after the last file was read
        # back (reading may move access times under relatime).
        self._times: list[tuple[bytes, float, float]] = []

    def write(self, rel: str | bytes, data: bytes, when: datetime, role: str, **facts: Any) -> str:
        """Write ``data`` at ``rel`` (``/``-separated, str or raw bytes) and record it.

        Args:
            rel: path under ``laptop/``; bytes for names that are not valid UTF-8.
            data: the whole content.
            when: modification time (naive: UTC). The access time is fixed per role.
                Both are applied by :meth:`pin_times`.
            role: the item's role; ``facts`` fill the other :class:`DemoItem` fields.

        Returns:
            The item's display path (what the manifest and unseen show).
        """
        raw = rel if isinstance(rel, bytes) else rel.encode()
        target = os.path.join(os.fsencode(self.laptop), raw)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "xb") as out:
            out.write(data)
        mtime = epoch(when)
        self._times.append((target, epoch(_ROLE_ATIME.get(role, _DEFAULT_ATIME)), mtime))
        shown = "/".join(display_name(part)[0] for part in raw.split(b"/"))
        stamp = datetime.fromtimestamp(mtime, UTC).isoformat().replace("+00:00", "Z")
        item = DemoItem(
            shown,
            role,
            mtime=stamp,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            **facts,
        )
        self.items.append(item)
        return shown

    def write_image(
        self,
        rel: str | bytes,
        image: Image.Image,
        fmt: str,
        when: datetime,
        role: str,
        params: dict[str, Any] | None = None,
        **facts: Any,
    ) -> str:
        """Encode ``image`` as ``fmt`` with save ``params`` and :meth:`write` it."""
        return self.write(rel, image_bytes(image, fmt, **(params or {})), when, role, **facts)

    def find(self, role: str, camera: str | None = None) -> list[DemoItem]:
        """Items written so far with this role (and camera), in the order written."""
        return [i for i in self.items if i.role == role and (camera is None or i.camera == camera)]

    def read(self, item: DemoItem) -> bytes:
        """The content written for ``item`` (UTF-8 names only)."""
        return (self.laptop / item.path).read_bytes()

    def pin_times(self) -> None:
        """Set every file's recorded times, then every folder's fixed time.

        Folder times move as files arrive, so they come last, deepest first.
        """
        for target, atime, mtime in self._times:
            os.utime(target, (atime, mtime))
        stamp = epoch(FOLDER_TIME)
        for top, _dirs, _files in os.walk(os.fsencode(self.laptop), topdown=False):
            os.utime(top, (stamp, stamp))
