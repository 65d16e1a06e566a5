"""Thumbnails and full-size media, served by item id only and never by a client path.

Thumbnails come from the case's ``thumbs/`` folder, at the path the case recorded
for the item (checked to stay inside that folder). Full-size media are read from the
evidence through its source (read-only), and only with a short-lived token that the
audited reveal endpoint issued to this session for this item. Types a browser could
execute (SVG, HTML, ...) are never served inline.
"""

from __future__ import annotations

import io
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError
from sqlalchemy import Connection, select

from unseen import plugins
from unseen.core.models import SourceSpec
from unseen.review.data import CaseView
from unseen.sources.base import open_source
from unseen.store import schema as s

# Shown inline; everything else is converted (images) or sent as an attachment.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/bmp",
        "video/mp4",
        "video/webm",
        "video/ogg",
    }
)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
EXTENSIONS |= {"image/bmp": "bmp", "video/mp4": "mp4", "video/webm": "webm", "video/ogg": "ogv"}
# Converted for display when the browser cannot show the original (TIFF, HEIC, ...).
MAX_CONVERT_PIXELS = 180_000_000


@dataclass(frozen=True, slots=True)
class Grant:
    session_id: int
    item_id: int
    expires: float


class MediaTokens:
    """Tokens the reveal endpoint hands out: one item, one session, a few minutes."""

    def __init__(self, lifetime_s: int) -> None:
        self.lifetime_s = lifetime_s
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, session_id: int, item_id: int) -> str:
        token = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._grants = {k: g for k, g in self._grants.items() if g.expires > now}
            self._grants[token] = Grant(session_id, item_id, now + self.lifetime_s)
        return token

    def check(self, token: str, session_id: int, item_id: int) -> bool:
        with self._lock:
            grant = self._grants.get(token)
        return (
            grant is not None
            and grant.session_id == session_id
            and grant.item_id == item_id
            and grant.expires > time.monotonic()
        )


def thumbnail_path(
    view: CaseView, conn: Connection, thumbs_dir: Path, item_id: int
) -> Path | None:
    """The item's thumbnail file, or None (no thumbnail, or a path leaving ``thumbs/``)."""
    rel = conn.execute(select(s.images.c.thumbnail).where(s.images.c.item_id == item_id)).scalar()
    if not rel and view.videos is not None:
        # Videos (issue 3) have a contact sheet of frames instead of a thumbnail.
        for name in ("thumbnail", "contact_sheet"):
            if name in view.videos.c:
                column, key = view.videos.c[name], view.videos.c.item_id
                rel = conn.execute(select(column).where(key == item_id)).scalar()
            if rel:
                break
    if not rel or not isinstance(rel, str):
        return None
    root = thumbs_dir.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


@dataclass(frozen=True, slots=True)
class Original:
    """Where an item's content is and what it is."""

    spec: SourceSpec
    locator: bytes
    mime: str
    size: int | None


def original(conn: Connection, item_id: int) -> Original | None:
    """Where the item's content is (regular files only), or None."""
    i, src = s.items, s.sources
    row = conn.execute(
        select(i.c.locator, i.c.mime, i.c.size, src.c.id, src.c.kind, src.c.path, src.c.label)
        .select_from(i.join(src, src.c.id == i.c.source_id))
        .where(i.c.id == item_id, i.c.kind == "file")
    ).first()
    if row is None:
        return None
    spec = SourceSpec(row.id, row.kind, row.path, row.label)
    return Original(spec, bytes(row.locator), row.mime or "application/octet-stream", row.size)


def open_original(item: Original) -> BinaryIO:
    """A read-only stream of the evidence item (raises OSError when unreadable)."""
    plugins.load()
    return open_source(item.spec).open(item.locator)


def displayable(item: Original, max_bytes: int) -> tuple[bytes, str]:
    """The bytes to show and their type: the original, or a JPEG made from it.

    Raises:
        OSError: unreadable or too big.
        ValueError: not something a browser can be shown.
    """
    if item.size is not None and item.size > max_bytes:
        raise OSError(f"larger than the {max_bytes} bytes the review server sends")
    with open_original(item) as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OSError(f"larger than the {max_bytes} bytes the review server sends")
    if item.mime in INLINE_TYPES:
        return data, item.mime
    if not item.mime.startswith("image/") or item.mime == "image/svg+xml":
        raise ValueError(f"{item.mime} is not shown in the browser")
    return _to_jpeg(data), "image/jpeg"


def _to_jpeg(data: bytes) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_CONVERT_PIXELS:
                raise ValueError("too many pixels to convert for display")
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=90)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"cannot convert for display: {exc}") from exc
