"""The artefact-parser interface, its per-item context and the ``ARTEFACT_PARSERS`` registry.

A parser is declared by class attributes (``NAME``, ``VERSION``, ``DESCRIPTION``,
``PATH_GLOBS``, ``PRODUCES``) and one method, ``parse``, that yields records. It reads
the item only through its ``ParseContext``, which opens evidence read-only through the
source spine (so a parser works the same on a folder, an archive member or a file in a
disk image) and hands it sibling items (a database's ``-wal``) that the stage looked up
in the case beforehand. Parsers never touch the case database.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ClassVar, Generic, TypeVar

from unseen.core.errors import EvidenceError
from unseen.core.jobs import JOBS, Job
from unseen.core.models import SourceSpec
from unseen.core.registry import Registry
from unseen.internet.records import Artefact, Provenance
from unseen.sources.base import open_source

READ_CHUNK = 1024 * 1024
K = TypeVar("K")


class TooLarge(EvidenceError):
    """An item is bigger than its parser agrees to read (a bound against hostile input)."""


@dataclass(frozen=True, slots=True)
class Sibling:
    """Another item of the same source that a parser may read (e.g. ``History-wal``)."""

    item_id: int
    path: str
    locator: bytes
    size: int | None


@dataclass(frozen=True, slots=True)
class ParseTask:
    """One item and the parsers to run on it: plain data, picklable for the pool."""

    item_id: int
    source: SourceSpec
    path: str
    locator: bytes
    size: int | None
    parsers: tuple[str, ...]
    siblings: tuple[Sibling, ...] = ()


@dataclass
class ParseContext:
    """What one parser sees of one item: read-only access, siblings, an error list."""

    task: ParseTask
    parser_name: str
    parser_version: str
    errors: list[str] = field(default_factory=list)
    _tmp: Path | None = None

    def open(self) -> BinaryIO:
        """The item's content, read-only, through its source."""
        return open_source(self.task.source).open(self.task.locator)

    def read_bytes(self, limit: int) -> bytes:
        """The whole item, refusing more than ``limit`` bytes.

        Raises:
            TooLarge: the item holds more than ``limit`` bytes.
        """
        with self.open() as stream:
            return read_bounded(stream, limit, self.task.path)

    def copy_to(self, target: Path, limit: int, sibling: Sibling | None = None) -> int:
        """Copy the item (or a sibling) to ``target`` in scratch, refusing over ``limit``
        bytes; returns the size copied.

        Raises:
            TooLarge: the content holds more than ``limit`` bytes.
        """
        size = 0
        what = sibling.path if sibling else self.task.path
        source = self.open_sibling(sibling) if sibling else self.open()
        with source as stream, target.open("xb") as out:
            while chunk := stream.read(READ_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"{what}: larger than the {limit}-byte limit for this parser")
                out.write(chunk)
        return size

    def sibling(self, path: str) -> Sibling | None:
        """The item at display path ``path`` (compared case-insensitively), if present."""
        wanted = path.casefold()
        return next((s for s in self.task.siblings if s.path.casefold() == wanted), None)

    def open_sibling(self, sibling: Sibling) -> BinaryIO:
        return open_source(self.task.source).open(sibling.locator)

    def sibling_text(self, path: str, limit: int, name: str) -> str | None:
        """A small sibling file (an app's preferences) as text, None when absent.

        Its loss is a detail: a read that fails is recorded under ``name`` and the
        parse goes on. Read as text, never parsed as XML (hostile input).
        """
        sibling = self.sibling(path)
        if sibling is None:
            return None
        try:
            with self.open_sibling(sibling) as stream:
                return read_bounded(stream, limit, path).decode("utf-8", "replace")
        except Exception as exc:  # whatever the bytes: never stops the parse
            self.error(f"{name} not read: {exc}")
            return None

    def prov(self, record_ref: str, item_path: str | None = None) -> Provenance:
        """Provenance for a record found at ``record_ref`` in this item."""
        return Provenance(
            source=self.task.source.label,
            item_path=item_path or self.task.path,
            record_ref=record_ref,
            parser=self.parser_name,
            parser_version=self.parser_version,
        )

    def error(self, message: str) -> None:
        """Record a problem; the parser goes on with what it can still read."""
        self.errors.append(message)

    def temp_dir(self) -> Path:
        """A private scratch folder (never inside the evidence), removed after parsing."""
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="unseen-internet-"))
        return self._tmp

    def cleanup(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def read_bounded(stream: BinaryIO, limit: int, what: str) -> bytes:
    """Read a stream whole, refusing more than ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    while chunk := stream.read(min(READ_CHUNK, limit + 1 - size)):
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"{what}: larger than the {limit}-byte limit for this parser")
    return b"".join(parts)


class ArtefactParser(Job):
    """Turns one kind of application file into artefact records.

    ``PATH_GLOBS`` are case-insensitive globs over item display paths (``**/`` is any
    number of folders, ``*`` and ``?`` stay within one path part). ``MAX_BYTES`` bounds
    what the parser agrees to read; bigger items become a recorded error.
    """

    NAME: ClassVar[str]
    VERSION: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    PATH_GLOBS: ClassVar[tuple[str, ...]]
    PRODUCES: ClassVar[tuple[str, ...]]
    MAX_BYTES: ClassVar[int] = 1024 * 1024 * 1024

    @classmethod
    def sibling_paths(cls, path: str) -> tuple[str, ...]:
        """Display paths of other items this parser wants beside ``path`` (default none)."""
        return ()

    @abstractmethod
    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        """Yield the records found in ``ctx``'s item.

        Raise on a failure that stops the whole item (the stage records it); call
        ``ctx.error`` for a problem that only loses part of it.
        """


ARTEFACT_PARSERS: Registry[type[ArtefactParser]] = Registry("artefact parsers", also=JOBS)


def glob_to_regex(glob: str) -> str:
    """A path glob as a regular expression (unanchored; callers match it whole).

    Example:
        >>> bool(re.fullmatch(glob_to_regex("**/a/*.txt"), "x/y/a/b.txt"))
        True
    """
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            # Any folders, including a container's path: members of an archive or disk
            # image show as ``backup.zip!Users/...`` (``sources.containers``).
            out.append("(?:.*[/!])?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def compile_globs(globs: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive pattern matching a whole path against any of ``globs``."""
    body = "|".join(f"(?:{glob_to_regex(g)})" for g in globs) or "(?!)"
    return re.compile(f"(?:{body})", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Glob(Generic[K]):
    key: K
    prefix: str  # literal start of the last path part, casefolded
    suffix: str  # literal end of the last path part, casefolded
    pattern: re.Pattern[str]


class GlobIndex(Generic[K]):
    """Many globs matched against many paths quickly.

    Each glob is filed under the first three letters of its last path part's literal
    start, so a path is only tested against globs that could name its file; a cheap
    prefix/suffix test comes before the full regular expression.

    Example:
        >>> GlobIndex([("t", "**/*.torrent"), ("k", "**/known.met")]).match("a/known.met")
        ['k']
    """

    def __init__(self, entries: Iterable[tuple[K, str]]) -> None:
        self._buckets: dict[str, list[_Glob[K]]] = {}
        for key, glob in entries:
            last = glob.rsplit("/", 1)[-1]
            if "**" in last:
                prefix = suffix = ""
            else:
                prefix = re.split(r"[*?]", last, maxsplit=1)[0].casefold()
                suffix = re.split(r"[*?]", last)[-1].casefold() if re.search(r"[*?]", last) else ""
            pattern = re.compile(glob_to_regex(glob), re.IGNORECASE | re.DOTALL)
            entry = _Glob(key, prefix, suffix, pattern)
            self._buckets.setdefault(prefix[:3], []).append(entry)

    def match(self, path: str) -> list[K]:
        """Keys of the globs matching ``path`` (each key once, in the order given)."""
        # The last part ends a folder or a container's ``!`` (``backup.zip!a/b``).
        name = path[max(path.rfind("/"), path.rfind("!")) + 1 :].casefold()
        found: list[K] = []
        # Globs are filed under up to three letters: look in every shorter bucket too
        # (a short name's repeat buckets find only keys already found). Called once
        # per item of a case by two stages: no generator or regex split here.
        buckets = self._buckets
        for bucket in (name[:3], name[:2], name[:1], ""):
            for entry in buckets.get(bucket, ()):
                if entry.key in found or not name.startswith(entry.prefix):
                    continue
                if name.endswith(entry.suffix) and entry.pattern.fullmatch(path):
                    found.append(entry.key)
        return found


_index: tuple[int, GlobIndex[str]] | None = None


def parsers_for(path: str) -> tuple[str, ...]:
    """Names of the registered parsers whose globs match ``path``."""
    global _index
    if _index is None or _index[0] != len(ARTEFACT_PARSERS):
        entries = [(cls.NAME, glob) for cls in ARTEFACT_PARSERS for glob in cls.PATH_GLOBS]
        _index = (len(ARTEFACT_PARSERS), GlobIndex(entries))
    order = ARTEFACT_PARSERS.names()
    return tuple(sorted(_index[1].match(path), key=order.index))
