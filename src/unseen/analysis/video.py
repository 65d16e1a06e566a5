"""Videos: container facts, vPDQ frame hashes and a contact sheet (optional extra ``video``).

Frames are decoded with PyAV (FFmpeg) from the item's stream, nested members
included. Hashing follows vPDQ (``vpdq`` of Meta's ThreatExchange): every frame is
decoded; frame ``n`` (counted from 0 in display order) is hashed when
``n % int(fps * seconds_per_hash) == 0``, fps being the stream's average rate; the
frame is converted to RGB24 at full size with swscale's area filter and hashed with
PDQ; its timestamp is ``n / fps``. Each stored row is vPDQ's
``(frame number, timestamp, PDQ hex, quality)``. A 3x3 contact sheet (at most 256 px
wide) of frames spread over the video is written to the case's thumbs/, named by the
video's SHA-256 like image thumbnails. Without PyAV the item records that video
analysis is unavailable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
from PIL import Image

from unseen.analysis.base import ANALYSERS, FileAnalyser, ItemContext
from unseen.analysis.image import pdq_hex
from unseen.analysis.thumbnail import save_jpeg_atomically, thumb_relpath
from unseen.analysis.videometa import rate, read_metadata
from unseen.core.errors import EvidenceError
from unseen.core.models import VideoRecord

UNAVAILABLE = "video analysis unavailable: install unseen[video]"
SHEET_COLUMNS, SHEET_CELLS, SHEET_WIDTH = 3, 9, 256


def frame_mod(fps: float, seconds_per_hash: float) -> int:
    """Hash every this many frames (vPDQ truncates, and never goes below 1)."""
    return max(1, int(seconds_per_hash * fps))


def frame_rgb(frame: Any) -> np.ndarray:
    """A decoded frame as vPDQ hashes it: RGB24, full size, swscale area filter."""
    return np.ascontiguousarray(frame.to_ndarray(format="rgb24", interpolation="AREA"))


class _Sheet:
    """Small copies of hashed frames, thinned as they come so memory stays flat."""

    def __init__(self) -> None:
        self.frames: list[Image.Image] = []
        self.every, self._seen = 1, 0

    def offer(self, rgb: np.ndarray) -> None:
        self._seen += 1
        if (self._seen - 1) % self.every:
            return
        width = SHEET_WIDTH // SHEET_COLUMNS
        height = max(1, round(width * rgb.shape[0] / max(1, rgb.shape[1])))
        self.frames.append(Image.fromarray(rgb).resize((width, height), Image.Resampling.BOX))
        if len(self.frames) >= 4 * SHEET_CELLS:
            self.frames, self.every = self.frames[::2], self.every * 2

    def render(self) -> Image.Image | None:
        if not self.frames:
            return None
        count = min(SHEET_CELLS, len(self.frames))
        step = len(self.frames) / count
        picked = [self.frames[int(i * step)] for i in range(count)]
        w, h = picked[0].size
        rows = -(-count // SHEET_COLUMNS)
        sheet = Image.new("RGB", (w * min(count, SHEET_COLUMNS), h * rows))
        for i, cell in enumerate(picked):
            sheet.paste(cell, ((i % SHEET_COLUMNS) * w, (i // SHEET_COLUMNS) * h))
        return sheet


class VideoAnalyser(FileAnalyser):
    NAME = "video"
    VERSION = "1"
    DESCRIPTION = "video duration, codecs, time, device, GPS; vPDQ frame hashes; contact sheet"
    DEPENDS_ON = ("hashes",)
    SETTINGS = ("video_seconds_per_hash", "video_max_hashed_frames")

    def applies_to(self, ctx: ItemContext) -> bool:
        return bool(ctx.record.mime and ctx.record.mime.startswith("video/"))

    def analyse(self, ctx: ItemContext) -> None:
        try:
            import av
        except ImportError as exc:
            raise EvidenceError(UNAVAILABLE) from exc
        rec = ctx.record.video = VideoRecord()
        sheet = _Sheet()
        ctx.stream.seek(0)
        try:
            with av.open(ctx.stream, "r") as container:
                video = read_metadata(container, rec)
                if video is None:
                    raise EvidenceError("no video stream in the container")
                self._hash(container, video, rec, ctx, sheet)
        except av.FFmpegError as exc:
            raise EvidenceError(f"video not decodable: {exc}") from exc
        finally:
            image = sheet.render()
            if image is not None and ctx.record.sha256:
                rec.contact_sheet = _save(image, ctx.thumbs_dir, ctx.record.sha256)

    def _hash(
        self, container: Any, video: Any, rec: VideoRecord, ctx: ItemContext, sheet: _Sheet
    ) -> None:
        fps = rate(video)
        if not fps:
            raise EvidenceError("video frame rate unknown: frames not hashed")
        every = frame_mod(fps, ctx.settings.video_seconds_per_hash)
        limit = ctx.settings.video_max_hashed_frames
        video.codec_context.thread_type = "AUTO"
        n = skipped = 0
        try:
            for frame in container.decode(video):
                if n % every == 0:
                    if len(rec.frame_hashes) < limit:
                        rgb = frame_rgb(frame)
                        bits, quality = pdqhash.compute(rgb)
                        rec.frame_hashes.append((n, n / fps, pdq_hex(bits), int(quality)))
                        sheet.offer(rgb)
                    else:
                        skipped += 1
                n += 1
        finally:
            rec.frames = n
            if skipped:
                ctx.record.error(
                    self.NAME,
                    f"{limit} sampled frames hashed (limit video_max_hashed_frames); "
                    f"{skipped} more not hashed",
                )


def _save(image: Image.Image, thumbs: Path, sha256: str) -> str:
    """Write the sheet atomically under thumbs/ (named by content) and return its path."""
    rel = thumb_relpath(sha256)
    target = thumbs / rel
    if not target.exists():
        save_jpeg_atomically(image, target)
    return rel


ANALYSERS.register(VideoAnalyser)
