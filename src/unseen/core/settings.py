"""Processing settings: one typed object, each entry with its default and reason."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Settings:
    """Limits and knobs of the fast pass. Stored with each run for provenance."""

    # Largest image (in pixels) we agree to decode; anything claiming more is
    # recorded as a possible decompression bomb instead of being decoded.
    max_image_pixels: int = 180_000_000
    # Largest file read into memory for image decoding; bigger files are hashed
    # by streaming and not decoded.
    max_image_bytes: int = 512 * 1024 * 1024
    # JPEG draft decoding keeps the short side at least this long: measured to keep PDQ
    # within 8 bits of a full decode on quality-100 and rotated photos (256 reached 16).
    pdq_min_short_side: int = 768
    # PDQ distance (bits of 256) under which two pictures are the same picture: copies,
    # resizes and recompressions land within it (the PDQ paper's operating point).
    pdq_radius: int = 31
    # Memory one worker may use to decode one picture; decodes that would need more are
    # reduced while decoding (JPEG draft, PNG strips) or refused (analysis/decode.py).
    decode_memory_bytes: int = 1024**3
    # Longest side of the review thumbnails written into the case.
    thumbnail_size: int = 256
    # Items handed to a worker at once: bigger amortises inter-process overhead.
    batch_size: int = 16
    # Names of stages and deep analysers switched off for this run (e.g. "faces").
    skip: tuple[str, ...] = ()
    # --- containers, disk images and video (issue 3) ---
    # Containers inside containers are expanded this many levels deep at most.
    max_container_depth: int = 8
    # Archive members listed at most; the rest is recorded as not listed.
    max_archive_members: int = 1_000_000
    # Declared uncompressed bytes of one archive's members, in total; members past it
    # are listed but not expanded (zip bombs made of many members).
    max_expanded_bytes: int = 64 * 1024**3
    # A member expanding more than this many times its compressed size (and past
    # ratio_check_min_bytes) is listed but not expanded (zip bombs).
    max_compression_ratio: float = 200.0
    ratio_check_min_bytes: int = 16 * 1024 * 1024
    # Carve JPEG, PNG and GIF from the unallocated space of disk images.
    carve_unallocated: bool = True
    # Largest file carving may recover, in bytes.
    max_carved_bytes: int = 64 * 1024 * 1024
    # vPDQ: one frame hashed per this many seconds of video.
    video_seconds_per_hash: float = 1.0
    # Frames hashed per video at most (10 hours at one per second).
    video_max_hashed_frames: int = 36_000

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
