"""Review thumbnails (<= 256 px, upright), stored in the case by content hash.

Named by SHA-256, so identical files share one thumbnail and a rerun after a crash
rewrites the same bytes. Written to a temporary name and renamed, so a kill never
leaves a half-written thumbnail behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

from unseen.analysis.base import ANALYSERS, FileAnalyser, ItemContext
from unseen.analysis.exif import apply_orientation

PARTIAL_SUFFIX = ".part"


def remove_partial(thumbs_dir: Path) -> int:
    """Delete thumbnails a killed run left half-written; returns how many.

    Call only while no worker writes thumbnails: before a run fans out and after it
    ends (a worker killed mid-run may have left one).
    """
    removed = 0
    for part in thumbs_dir.glob(f"*/*{PARTIAL_SUFFIX}"):
        part.unlink(missing_ok=True)
        removed += 1
    return removed


def thumb_relpath(sha256: str) -> str:
    """Where the thumbnail of content ``sha256`` lives under the case's thumbs folder."""
    return f"{sha256[:2]}/{sha256}.jpg"


class ThumbnailAnalyser(FileAnalyser):
    NAME = "thumbnail"
    VERSION = "1"
    DESCRIPTION = "JPEG thumbnail of at most 256 px, turned upright by EXIF orientation"
    DEPENDS_ON = ("image", "exif")
    SETTINGS = ("thumbnail_size",)

    def applies_to(self, ctx: ItemContext) -> bool:
        return ctx.rgb is not None and ctx.record.sha256 is not None

    def analyse(self, ctx: ItemContext) -> None:
        assert ctx.rgb is not None and ctx.record.sha256 and ctx.record.image
        rel = thumb_relpath(ctx.record.sha256)
        target = ctx.thumbs_dir / rel
        if not target.exists():
            size = ctx.settings.thumbnail_size
            thumb = ctx.rgb  # last user of the decoded image: shrink it in place
            thumb.thumbnail((size, size))
            orientation = ctx.record.exif.orientation if ctx.record.exif else None
            thumb = apply_orientation(thumb, orientation)
            save_jpeg_atomically(thumb, target)
        ctx.record.image.thumbnail = rel


def save_jpeg_atomically(image: Image.Image, target: Path) -> None:
    """Write ``image`` as a JPEG to a temporary name beside ``target``, then rename:
    a kill never leaves a half-written file under the final name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=PARTIAL_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            image.save(out, "JPEG", quality=80)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


ANALYSERS.register(ThumbnailAnalyser)
