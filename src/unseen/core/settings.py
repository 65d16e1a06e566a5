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
    # JPEG draft decoding keeps the short side at least this long (PDQ stays within
    # a few bits of a full decode; see docs/pdq-and-matching §3.2).
    pdq_min_short_side: int = 256
    # Longest side of the review thumbnails written into the case.
    thumbnail_size: int = 256
    # Items handed to a worker at once: bigger amortises inter-process overhead.
    batch_size: int = 16
    # Names of stages and deep analysers switched off for this run (e.g. "faces").
    skip: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
