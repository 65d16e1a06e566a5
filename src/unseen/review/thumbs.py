"""Thumbnails as the server sends them: blurred and greyscale unless deliberately revealed.

A CSS blur protects only the screen: anyone with a session (read-only included) could
fetch the clear pictures with a script. So the server itself blurs and greys every
thumbnail it sends by default. The clear thumbnail is sent only with a reveal grant: a
short-lived token for this session and the items it names, handed out by an audited
request (one audit row per batch, not per picture) and metered per session, so a
scripted sweep of the case is both slowed down and on the record.

Thumbnails are files the pipeline wrote into the case (not evidence), JPEG only.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageFilter

# Largest thumbnail side the server will process (the pipeline writes 256 px).
MAX_SIDE = 2048


def blurred(path: Path, radius: int) -> bytes:
    """The thumbnail at ``path`` as a greyscale JPEG blurred by ``radius`` pixels."""
    stat = path.stat()
    return _blurred(str(path), stat.st_mtime_ns, stat.st_size, radius)


@lru_cache(maxsize=4096)
def _blurred(path: str, mtime_ns: int, size: int, radius: int) -> bytes:
    """Cached per file version: a grid page of 240 tiles is asked for again and again."""
    with Image.open(path, formats=("JPEG",)) as img:
        if max(img.size) > MAX_SIDE:
            img.draft("L", (MAX_SIDE, MAX_SIDE))
            img.thumbnail((MAX_SIDE, MAX_SIDE))
        grey = img.convert("L")
    if radius > 0:
        grey = grey.filter(ImageFilter.GaussianBlur(radius))
    out = io.BytesIO()
    grey.save(out, "JPEG", quality=80)
    return out.getvalue()
