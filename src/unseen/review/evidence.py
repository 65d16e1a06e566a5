"""Serve only what was examined: open evidence without links, check it against the record.

A source folder can change after processing: a sub-folder swapped for a symbolic link
made the server send whatever the link pointed to (``/etc/shadow`` as a JPEG). So the
server opens a folder source's files one path component at a time from the source
root (``O_DIRECTORY | O_NOFOLLOW`` through ``dir_fd``, the file itself ``O_NOFOLLOW``):
no symbolic link is followed anywhere below the root. And before any byte leaves the
server, the content's size and SHA-256 must equal what the case recorded for the item;
otherwise the request is refused (the caller audits it). Videos are streamed in byte
ranges, so a verified file is remembered per session by its identity (device, inode,
size, modification time): a changed file is hashed again.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading
from typing import BinaryIO

from unseen import plugins
from unseen.core.models import SourceSpec
from unseen.sources.base import open_source
from unseen.sources.containers import ReaderCache

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
HASH_CHUNK = 1024 * 1024


class Mismatch(Exception):
    """The evidence is not what was examined (moved, linked, changed); refuse to serve."""


def open_no_follow(root: bytes, rel: bytes) -> BinaryIO:
    """A read-only stream of ``root/rel``, following no symbolic link below ``root``.

    Raises:
        Mismatch: a component is a link, not a folder, or the file is not regular.
        OSError: missing or unreadable.
    """
    parts = rel.split(b"/")
    if any(p in (b"", b".", b"..") for p in parts):
        raise Mismatch("the recorded path has an empty or relative component")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            nxt = _open_at(part, _DIR_FLAGS, fd)
            os.close(fd)
            fd = nxt
        file_fd = _open_at(parts[-1], _FILE_FLAGS, fd)
    finally:
        os.close(fd)
    try:
        if not stat.S_ISREG(os.fstat(file_fd).st_mode):
            raise Mismatch("the path no longer names a regular file")
        os.set_blocking(file_fd, True)
        return os.fdopen(file_fd, "rb", buffering=0)
    except BaseException:
        os.close(file_fd)
        raise


def _open_at(name: bytes, flags: int, dir_fd: int) -> int:
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise Mismatch(
                "the source changed since processing: a component of the path is now a "
                "symbolic link or not a folder"
            ) from exc
        raise


_readers: dict[SourceSpec, ReaderCache] = {}
_readers_lock = threading.Lock()


def open_item(spec: SourceSpec, locator: bytes) -> BinaryIO:
    """The item's content: folder sources through :func:`open_no_follow` (nested items
    too, whose outermost container is a file in the folder), other sources as usual."""
    if spec.kind != "folder":
        plugins.load()
        return open_source(spec).open(locator)
    with _readers_lock:
        readers = _readers.get(spec)
        if readers is None:
            root = os.fsencode(spec.path)
            opener = lambda rel: open_no_follow(root, rel)  # noqa: E731
            readers = _readers[spec] = ReaderCache(opener, keys=dict(spec.keys))
    plugins.load()  # container formats for nested locators
    return readers.open(locator)


def check_bytes(data: bytes, size: int | None, sha256: str | None) -> None:
    """Raise :class:`Mismatch` unless ``data`` is exactly the recorded content."""
    _compare(len(data), hashlib.sha256(data).hexdigest(), size, sha256)


def _compare(size: int, digest: str, want_size: int | None, want_sha: str | None) -> None:
    if want_sha is None or want_size is None:
        raise Mismatch("the case holds no size and SHA-256 for this item to check against")
    if size != want_size:
        raise Mismatch(f"the item is now {size} bytes; {want_size} were examined")
    if digest != want_sha.lower():
        raise Mismatch("the item's content differs from the SHA-256 recorded when examined")


class Verified:
    """Streams already checked in a session, by file identity (for ranged video reads)."""

    def __init__(self) -> None:
        self._seen: set[tuple[int, int, tuple[int, int, int, int]]] = set()
        self._lock = threading.Lock()

    def check_stream(
        self, session_id: int, item_id: int, stream: BinaryIO, size: int | None, sha: str | None
    ) -> None:
        """Hash ``stream`` whole unless this session verified the same file before.

        Raises:
            Mismatch: not the examined content.
        """
        identity = _identity(stream)
        key = (session_id, item_id, identity) if identity else None
        with self._lock:
            if key is not None and key in self._seen:
                return
        digest, length = hashlib.sha256(), 0
        stream.seek(0)
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
            length += len(chunk)
        _compare(length, digest.hexdigest(), size, sha)
        if key is not None:
            with self._lock:
                self._seen.add(key)


def _identity(stream: BinaryIO) -> tuple[int, int, int, int] | None:
    """(device, inode, size, mtime) of a stream over a real file; None for members."""
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
