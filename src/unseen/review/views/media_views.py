"""Thumbnails, the audited reveal of full-size media, and the media themselves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from unseen.review import evidence, grants, media, thumbs
from unseen.review.context import app_context, current_session
from unseen.review.ids import BodyId, PathId
from unseen.store import audit

CHUNK = 256 * 1024
MAX_THUMB_BATCH = 24  # thumbnails one reveal request may name
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def thumb(request: Request, item_id: PathId, t: str = "") -> Response:
    """The item's review thumbnail: greyscale and blurred, or clear with a reveal grant."""
    ctx, session = app_context(request), current_session(request)
    with ctx.read() as conn:
        path = media.thumbnail_path(conn, ctx.thumbs_dir, item_id)
    if path is None:
        raise HTTPException(status_code=404, detail="no thumbnail")
    headers = {"Content-Disposition": f'inline; filename="thumb-{item_id}.jpg"'}
    if t:
        if not ctx.thumb_grants.check(t, session.id, item_id):
            raise HTTPException(status_code=403, detail="reveal the thumbnail first")
        return FileResponse(path, media_type="image/jpeg", headers=headers)
    try:
        data = thumbs.blurred(path, ctx.config.thumb_blur_radius)
    except (OSError, ValueError) as exc:
        raise HTTPException(status_code=422, detail="the thumbnail cannot be read") from exc
    return Response(data, media_type="image/jpeg", headers=headers)


class RevealThumbsBody(BaseModel):
    items: list[BodyId] = Field(min_length=1, max_length=MAX_THUMB_BATCH)


def reveal_thumbs(request: Request, body: RevealThumbsBody) -> dict[str, Any]:
    """Grant this session the clear thumbnails of a few items: audited (one row for the
    batch) and metered (``thumb_reveals_per_minute``); every role goes through here."""
    ctx, session = app_context(request), current_session(request)
    items = sorted(set(body.items))
    limit = ctx.config.thumb_reveals_per_minute
    with ctx.write() as conn:
        if not grants.meter_allows(conn, session.id, len(items), limit):
            raise HTTPException(
                status_code=429, detail=f"more than {limit} thumbnails revealed in a minute"
            )
        details = {"items": items, "session": session.id}
        target = f"{len(items)} thumbnail" + ("s" if len(items) > 1 else "")
        audit.append(conn, session.user.name, "reveal_thumbs", target, details)
    token = ctx.thumb_grants.issue(session.id, frozenset(items))
    return {"token": token, "expires_s": ctx.config.thumb_token_s}


def reveal(request: Request, item_id: PathId) -> dict[str, Any]:
    """Audit the reveal of one item's full-size medium; return a short-lived link to it."""
    ctx, session = app_context(request), current_session(request)
    with ctx.read() as conn:
        item = media.original(conn, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="no such file")
    with ctx.write() as conn:
        details = {"mime": item.mime, "source": item.spec.label, "session": session.id}
        audit.append(conn, session.user.name, "reveal", f"item {item_id}", details)
    token = ctx.tokens.issue(session.id, item_id)
    kind = "video" if item.mime.startswith("video/") else "image"
    return {"url": f"/media/{item_id}?t={token}", "kind": kind, "mime": item.mime}


def media_file(request: Request, item_id: PathId, t: str = "") -> Response:
    """The full-size medium, only with a token from :func:`reveal` for this session."""
    ctx, session = app_context(request), current_session(request)
    if not ctx.tokens.check(t, session.id, item_id):
        raise HTTPException(status_code=403, detail="reveal the item first")
    with ctx.read() as conn:
        item = media.original(conn, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="no such file")
    if item.mime.startswith("video/") and item.mime in media.INLINE_TYPES:
        return _video(request, item, item_id)
    try:
        data, mime = media.displayable(item, ctx.config)
    except evidence.Mismatch as exc:
        raise _refuse(request, item_id, exc) from exc
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    except OSError as exc:
        raise HTTPException(status_code=409, detail=f"cannot read the item: {exc}") from exc
    name = f"item-{item_id}.{media.EXTENSIONS.get(mime, 'bin')}"
    return Response(
        data, media_type=mime, headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


def _refuse(request: Request, item_id: int, exc: evidence.Mismatch) -> HTTPException:
    """Audit a refusal to serve evidence that is not what was examined."""
    ctx, session = app_context(request), current_session(request)
    with ctx.write() as conn:
        details = {"reason": str(exc), "session": session.id}
        audit.append(conn, session.user.name, "serve_refused", f"item {item_id}", details)
    return HTTPException(status_code=409, detail=f"not served: {exc}")


def _video(request: Request, item: media.Original, item_id: int) -> Response:
    """Stream a video with byte ranges (seeking), straight from the evidence, once its
    content was checked against the record (once per session and file version)."""
    ctx, session = app_context(request), current_session(request)
    try:
        stream = media.open_original(item)
    except evidence.Mismatch as exc:
        raise _refuse(request, item_id, exc) from exc
    except OSError as exc:
        raise HTTPException(status_code=409, detail=f"cannot read the item: {exc}") from exc
    try:
        ctx.verified.check_stream(session.id, item_id, stream, item.size, item.sha256)
        size = stream.seek(0, 2)
    except evidence.Mismatch as exc:
        stream.close()
        raise _refuse(request, item_id, exc) from exc
    except OSError as exc:
        stream.close()
        raise HTTPException(status_code=409, detail=f"cannot read the item: {exc}") from exc
    start, end = 0, size - 1
    match = _RANGE.fullmatch(request.headers.get("range", ""))
    if match and (match.group(1) or match.group(2)):
        if match.group(1):
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
        else:
            start = max(0, size - int(match.group(2)))
        if start > end:
            stream.close()
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start + 1),
        "Content-Disposition": f'inline; filename="item-{item_id}.{media.EXTENSIONS[item.mime]}"',
    }
    status = 200
    if match:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return StreamingResponse(
        _chunks(stream, start, end), status_code=status, media_type=item.mime, headers=headers
    )


def _chunks(stream: Any, start: int, end: int) -> Iterator[bytes]:
    try:
        stream.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
    finally:
        stream.close()
