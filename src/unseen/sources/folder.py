"""A folder of evidence (a mounted or copied file system), walked without following links.

The walk is iterative (no recursion limit on deep trees), never follows symbolic
links (no loops, no escaping the evidence), never opens FIFOs or devices, and opens
files with O_NOATIME where allowed so reading does not change access times.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

from unseen.core.locator import Locator, LocatorError, Root
from unseen.core.models import Entry
from unseen.core.paths import display_name, join
from unseen.sources.base import SOURCES, Source
from unseen.sources.media import Siblings

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_NOATIME = getattr(os, "O_NOATIME", 0)
# Below this length a path is opened in one call; above it, component by component,
# so trees deeper than PATH_MAX still open.
_DIRECT_PATH_LIMIT = 3500


def _open_fd(root: bytes, rel: bytes, flags: int) -> int:
    if len(root) + len(rel) < _DIRECT_PATH_LIMIT:
        return _open_noatime(os.path.join(root, rel) if rel else root, flags)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        parts = rel.split(b"/")
        for part in parts[:-1]:
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nxt
        return _open_noatime(parts[-1], flags, dir_fd=fd)
    finally:
        os.close(fd)


def _open_noatime(path: bytes, flags: int, dir_fd: int | None = None) -> int:
    try:
        return os.open(path, flags | _NOATIME, dir_fd=dir_fd)
    except PermissionError:
        # O_NOATIME needs ownership of the file; fall back to a plain read-only open.
        return os.open(path, flags, dir_fd=dir_fd)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


class FolderSource(Source):
    """Evidence as a directory tree on a local or mounted file system."""

    NAME = "folder"
    DESCRIPTION = "a folder (copied or mounted file system), walked without following links"

    @classmethod
    def detect(cls, path: Path) -> bool:
        return path.is_dir()

    @property
    def _root(self) -> bytes:
        return os.fsencode(self.spec.path)

    def entries(self) -> Iterator[Entry]:
        # Each folder waits on the stack with its own entry; it is yielded (once) only
        # when it has something to report: an undecodable name or a failed listing.
        stack: list[tuple[bytes, str, Entry | None]] = [(b"", "", None)]
        while stack:
            rel, shown, folder = stack.pop()
            try:
                names = self._list(rel)
            except OSError as exc:
                problem = f"cannot list folder: {exc.strerror}"
                if folder is None:
                    yield Entry(shown or ".", rel, kind="dir", errors=(problem,))
                else:
                    yield dataclasses.replace(folder, errors=(*folder.errors, problem))
                continue
            if folder is not None and folder.errors:
                yield folder
            subdirs: list[tuple[bytes, str, Entry | None]] = []
            for name in names:
                child_rel = rel + b"/" + name if rel else name
                text, clean = display_name(name)
                child_shown = join(shown, text)
                entry = self._entry(child_rel, child_shown, clean)
                if entry.kind == "dir":
                    subdirs.append((child_rel, child_shown, entry))
                else:
                    yield entry
            stack.extend(reversed(subdirs))

    def _list(self, rel: bytes) -> list[bytes]:
        fd = _open_fd(self._root, rel, os.O_RDONLY | os.O_DIRECTORY)
        try:
            # Listing by descriptor gives str names (surrogate-escaped); back to raw bytes.
            return sorted(os.fsencode(name) for name in os.listdir(fd))
        finally:
            os.close(fd)

    def _entry(self, rel: bytes, shown: str, clean_name: bool) -> Entry:
        errors: list[str] = []
        if not clean_name:
            errors.append("file name is not valid UTF-8; undecodable bytes shown as \\xNN")
        try:
            st = self._lstat(rel)
        except OSError as exc:
            return Entry(
                shown, rel, kind="other", errors=(*errors, f"cannot stat: {exc.strerror}")
            )
        kind = _kind(st.st_mode)
        target = None
        if kind == "symlink":
            target = self._readlink(rel)
            errors.append(f"symbolic link not followed (points to {target!r})")
        elif kind == "other":
            errors.append("not a regular file (device, FIFO or socket); content not read")
        return Entry(
            shown,
            rel,
            kind=kind,
            size=st.st_size if kind == "file" else None,
            mtime=st.st_mtime_ns / 1e9,
            atime=st.st_atime_ns / 1e9,
            ctime=st.st_ctime_ns / 1e9,
            link_target=target,
            errors=tuple(errors),
        )

    def _lstat(self, rel: bytes) -> os.stat_result:
        path = os.path.join(self._root, rel)
        if len(path) < _DIRECT_PATH_LIMIT:
            return os.lstat(path)
        head, _, name = rel.rpartition(b"/")
        fd = _open_fd(self._root, head, os.O_RDONLY | os.O_DIRECTORY)
        try:
            return os.stat(name, dir_fd=fd, follow_symlinks=False)
        finally:
            os.close(fd)

    def _readlink(self, rel: bytes) -> str:
        try:
            path = os.path.join(self._root, rel)
            if len(path) < _DIRECT_PATH_LIMIT:
                return display_name(os.readlink(path))[0]
            head, _, name = rel.rpartition(b"/")
            fd = _open_fd(self._root, head, os.O_RDONLY | os.O_DIRECTORY)
            try:
                return display_name(os.readlink(name, dir_fd=fd))[0]
            finally:
                os.close(fd)
        except OSError as exc:
            return f"<unreadable: {exc.strerror}>"

    def siblings(self, locator: bytes) -> Siblings | None:
        """Files beside an item listed here, opened as any item is (never a link)."""
        try:
            if not isinstance(Locator.parse(locator), Root):
                return None  # inside a container: no folder beside it
        except LocatorError:
            return None
        folder = locator.rpartition(b"/")[0]

        def beside(name: str) -> IO[bytes]:
            raw = os.fsencode(name)
            return self._open_top(folder + b"/" + raw if folder else raw)

        return Siblings(None, beside)

    def _open_top(self, locator: bytes) -> BinaryIO:
        fd = _open_fd(self._root, locator, _READ_FLAGS | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb", buffering=0)
        except BaseException:
            os.close(fd)
            raise


SOURCES.register(FolderSource)
