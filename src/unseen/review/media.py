"""Thumbnails and full-size media, served by item id only and never by a client path.

Thumbnails come from the case's ``thumbs/`` folder, at the path the case recorded
for the item (checked to stay inside that folder). Full-size media are read from the
evidence through its source (read-only), and only with a short-lived token that the
audited reveal endpoint issued to this session for this item. Types a browser could
execute (SVG, HTML, ...) are never served inline.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection, select

from unseen.analysis.image import SAFE_FORMATS
from unseen.core.models import SourceSpec
from unseen.review import decoder, evidence
from unseen.review.config import ReviewConfig
from unseen.store import repo
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


def thumbnail_path(conn: Connection, thumbs_dir: Path, item_id: int) -> Path | None:
    """The item's thumbnail file, or None (no thumbnail, or a path leaving ``thumbs/``)."""
    rel = conn.execute(select(s.images.c.thumbnail).where(s.images.c.item_id == item_id)).scalar()
    if not rel:  # videos have a contact sheet of frames instead of a thumbnail
        v = s.videos
        rel = conn.execute(select(v.c.contact_sheet).where(v.c.item_id == item_id)).scalar()
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
    sha256: str | None = None


def original(conn: Connection, item_id: int) -> Original | None:
    """Where the item's content is (regular files only), or None."""
    i, src = s.items, s.sources
    row = conn.execute(
        select(i.c.locator, i.c.mime, i.c.size, i.c.sha256, src.c.id, src.c.kind, src.c.path)
        .add_columns(src.c.label, src.c.volume_keys)
        .select_from(i.join(src, src.c.id == i.c.source_id))
        .where(i.c.id == item_id, i.c.kind == "file")
    ).first()
    if row is None:
        return None
    # Items inside encrypted volumes open with the keys given when the source was added.
    spec = SourceSpec(row.id, row.kind, row.path, row.label, repo.volume_keys(row.volume_keys))
    mime = row.mime or "application/octet-stream"
    return Original(spec, bytes(row.locator), mime, row.size, row.sha256)


def open_original(item: Original) -> BinaryIO:
    """A read-only stream of the evidence item, opened without following links.

    Raises:
        evidence.Mismatch: the path now holds a link; OSError: unreadable.
    """
    return evidence.open_item(item.spec, item.locator)


def displayable(item: Original, config: ReviewConfig) -> tuple[bytes, str]:
    """The bytes to show and their type: the original, or a JPEG made from it.

    Raises:
        evidence.Mismatch: not the content that was examined (checked before decoding).
        OSError: unreadable or too big.
        ValueError: not a picture the pipeline decodes, or refused by the decoder.
    """
    if item.size is not None and item.size > config.max_image_bytes:
        raise OSError(f"larger than the {config.max_image_bytes} bytes the review server sends")
    if not item.mime.startswith("image/") or item.mime == "image/svg+xml":
        raise ValueError(f"{item.mime} is not shown in the browser")
    with open_original(item) as stream:
        data = stream.read(config.max_image_bytes + 1)
    if len(data) > config.max_image_bytes:
        raise OSError(f"larger than the {config.max_image_bytes} bytes the review server sends")
    evidence.check_bytes(data, item.size, item.sha256)
    return decode_for_display(data, config)


def decode_for_display(data: bytes, config: ReviewConfig) -> tuple[bytes, str]:
    """Check and, where needed, convert a picture in a limited child process.

    The child (``unseen.review.decoder``) opens only the pipeline's formats
    (``SAFE_FORMATS``), checks the header's pixel count against the budget before
    decoding, and runs under memory and CPU limits, so a hostile file costs one child.

    Raises:
        ValueError: refused, with the reason to show the examiner.
    """
    command = [
        sys.executable,
        "-I",
        "-m",
        "unseen.review.decoder",
        ",".join(SAFE_FORMATS),
        str(config.max_decode_pixels),
        str(config.decode_memory_bytes),
        str(config.decode_cpu_s),
    ]
    try:
        done = subprocess.run(
            command, input=data, capture_output=True, timeout=config.decode_timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise ValueError(
            f"decoding took longer than {config.decode_timeout_s} s; stopped"
        ) from None
    if done.returncode == decoder.EXIT_REFUSED:
        reason = done.stderr.decode("utf-8", "replace").strip()[:300]
        raise ValueError(reason or "refused by the decoder")
    if done.returncode != 0:
        why = f"signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
        raise ValueError(f"the decoder stopped ({why}): over its memory or time limit")
    kind, payload = done.stdout[:1], done.stdout[1:]
    if kind == b"O" and payload.decode("ascii", "replace") in INLINE_TYPES:
        return data, payload.decode("ascii")
    if kind == b"J" and payload:
        return payload, "image/jpeg"
    raise ValueError("the decoder gave no picture")
