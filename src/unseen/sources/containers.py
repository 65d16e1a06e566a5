"""Containers: evidence that holds more evidence (archives, disk images, E01 files).

**Nested locators.** An item inside a container is addressed by a typed locator
(``core.locator``): its container's locator and one *hop* naming the container reader
that opens it (``zip``, ``tar``, ``7z``, ``rar``, ``disk``, ``ewf``, ``vdisk``) and that
reader's typed address of the member (``ArchiveMember``, ``FsEntry``...). Readers list
members with their address bytes and open them from the typed address. A member's
display path is its container's path, ``!``, and the member's path:
``p2/Users/jo/a.zip!photos/x.jpg``.

**Readers.** Each format is a ``ContainerReader`` registered in ``CONTAINERS``: it
``sniff``s content, lists ``members`` and opens one member as a read-only stream.
Nothing is ever extracted to a host path: member names are only ever shown.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import BinaryIO, ClassVar

from unseen.core.locator import (
    Address,
    Hop,
    Locator,
    LocatorError,
    Root,
    address_of,
    escape,
    join,
)
from unseen.core.models import Entry
from unseen.core.registry import Registry
from unseen.core.settings import Settings
from unseen.sources.media import Siblings
from unseen.sources.streams import random_access

# Readers kept open per process (the members of one container arrive together).
OPEN_READERS = 8
# The examiner's volume keys of a source: volume name (or "*") -> key.
Keys = Mapping[str, str]
ENCRYPTED = "encrypted: content not readable"


# The untyped byte framing of locators, for code and tests that only need the bytes.
def nest(container_locator: bytes, fmt: str, member: bytes) -> bytes:
    """The locator of ``member`` (address bytes) inside the item at ``container_locator``."""
    return join(container_locator, [(fmt, member)])


def top_locator(member: bytes) -> bytes:
    """The source-level locator of a member, for sources that are containers."""
    return escape(member)


def located(entry: Entry, fmt: str, container: Locator | None, path: str | None = None) -> Entry:
    """A member listed by a ``fmt`` reader, with its full locator: one hop below
    ``container``, or (None) the root of a source that is itself the container; and
    its display ``path`` where given.

    A member address the format does not state (a reader bug) is kept as the bytes the
    reader gave, and the item says why its content will not open.
    """
    try:
        member = address_of(fmt, entry.locator)
    except LocatorError as exc:
        if container is None:
            raw = top_locator(entry.locator)
        else:
            raw = nest(container.to_bytes(), fmt, entry.locator)
        problem = f"member address not understood ({exc}); content not read"
        errors = (*entry.errors, problem)
        return replace(entry, path=path or entry.path, locator=raw, kind="other", errors=errors)
    at = Root.around(member) if container is None else container.child(fmt, member)
    return replace(entry, path=path or entry.path, locator=at.to_bytes())


def nested_path(container_path: str, member_path: str) -> str:
    """Display path of a member: ``container!member``."""
    return f"{container_path}!{member_path}"


@dataclass(frozen=True, slots=True)
class Limits:
    """The expansion limits of ``Settings`` that readers and listing apply."""

    max_depth: int = 8
    max_members: int = 1_000_000
    max_expanded: int = 64 * 1024**3
    max_ratio: float = 200.0
    ratio_min_bytes: int = 16 * 1024 * 1024
    carve: bool = True
    max_carved: int = 64 * 1024 * 1024

    @classmethod
    def from_settings(cls, s: Settings) -> Limits:
        return cls(
            s.max_container_depth,
            s.max_archive_members,
            s.max_expanded_bytes,
            s.max_compression_ratio,
            s.ratio_check_min_bytes,
            s.carve_unallocated,
            s.max_carved_bytes,
        )


@dataclass(frozen=True, slots=True)
class Member:
    """A listed member: its entry (member-relative path and locator) plus what the
    format states about it that the limits need."""

    entry: Entry
    packed: int | None = None  # compressed size in bytes, where the format states it
    encrypted: bool = False


class ContainerReader(ABC):
    """An opened container of one format: lists members and opens them.

    Construct with a seekable read-only stream; raise ``WrongFormat`` when the content
    is not this format after all and ``EvidenceError`` when it is, but is unreadable.
    Problems met while listing that belong to the container go into ``errors``.
    """

    NAME: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    # Archives get the zip-bomb limits; disk images hold what their size allows.
    BOMB_LIMITS: ClassVar[bool] = True

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.errors: list[str] = []

    @classmethod
    @abstractmethod
    def sniff(cls, head: bytes, mime: str | None) -> bool:
        """Whether content starting with ``head`` looks like this format."""

    @classmethod
    def open_with(
        cls, stream: BinaryIO, siblings: Siblings | None, keys: Keys | None = None
    ) -> ContainerReader:
        """The reader over ``stream``; formats made of several files (a VMDK and its
        extents) also get the files beside it, where the source can open them, and
        disk formats the examiner's volume keys (``--key``) for encrypted volumes
        inside them."""
        return cls(stream)

    @abstractmethod
    def members(self, limits: Limits) -> Iterator[Member]:
        """Every member, in a stable order, with member-relative paths and locators."""

    @abstractmethod
    def open_member(self, member: Address | bytes) -> BinaryIO:
        """A read-only stream of one member's content, from its typed address (or the
        bytes of it the reader listed: ``core.locator.expect`` reads either).

        Raises:
            OSError: the member cannot be read (encrypted, unsupported method...), or
                the address is not one of this format (``LocatorError``).
        """


CONTAINERS: Registry[type[ContainerReader]] = Registry("containers")


def find_reader(head: bytes, mime: str | None) -> type[ContainerReader] | None:
    """The registered container format that recognises this content, if any."""
    return next((cls for cls in CONTAINERS if cls.sniff(head, mime)), None)


def listed(reader: ContainerReader, limits: Limits) -> Iterator[Entry]:
    """The reader's members as entries, with the expansion limits applied.

    Members whose content will not be read (encrypted, past a bomb limit) are listed
    as kind ``other`` with the reason; members past the count limit are not listed
    and the container records how the listing was cut short.
    """
    total = packed_total = 0
    for count, member in enumerate(reader.members(limits), 1):
        if reader.BOMB_LIMITS and count > limits.max_members:
            reader.errors.append(
                f"more than {limits.max_members} members: the rest are not listed "
                "(limit max_archive_members)"
            )
            return
        entry = member.entry
        if member.encrypted:
            yield _unread(entry, ENCRYPTED)
            continue
        if not reader.BOMB_LIMITS or entry.kind != "file" or not entry.size:
            yield entry
            continue
        packed = member.packed
        if (
            packed is not None
            and entry.size >= limits.ratio_min_bytes
            and entry.size > limits.max_ratio * max(packed, 1)
        ):
            ratio = entry.size / max(packed, 1)
            yield _unread(
                entry,
                f"possible decompression bomb: {entry.size} bytes from {packed} "
                f"(ratio {ratio:.0f}:1, limit {limits.max_ratio:.0f}:1); not expanded",
            )
            continue
        stored = entry.size if packed is None else max(packed, 1)
        total, packed_total = total + entry.size, packed_total + stored
        if total >= limits.ratio_min_bytes and total > limits.max_ratio * packed_total:
            # Many small members, each under the per-member check, add up the same way.
            yield _unread(
                entry,
                f"possible decompression bomb: with this member the archive's members expand "
                f"to {total} bytes from {packed_total} (limit {limits.max_ratio:.0f}:1 from "
                f"{limits.ratio_min_bytes} bytes on); not expanded",
            )
            total, packed_total = total - entry.size, packed_total - stored
        elif total > limits.max_expanded:
            yield _unread(
                entry,
                f"archive members expand past {limits.max_expanded} bytes in total "
                "(limit max_expanded_bytes); not expanded",
            )
        else:
            yield entry


def _unread(entry: Entry, reason: str) -> Entry:
    return replace(entry, kind="other", errors=(*entry.errors, reason))


_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def member_path(name: str) -> tuple[str, tuple[str, ...]]:
    """How an archive member's stored name is shown, and what is wrong with it.

    Absolute names, drive letters and ``..`` components (path traversal) are shown
    defused (``..`` as ``__``, no leading ``/``, ``C:`` as ``C_``) and flagged. The name
    is never used as a host path: nothing is extracted to disk.
    """
    problems: list[str] = []
    shown = name
    if _CONTROL.search(name):
        problems.append("control characters, shown as \\xNN")
    if name.startswith(("/", "\\")):
        problems.append("absolute path")
    if _DRIVE.match(name):
        problems.append("drive letter")
        shown = name[0] + "_" + name[2:]
    if ".." in re.split(r"[/\\]", name):
        problems.append("parent-folder components")
    # Once flagged, backslashes count as separators too (Windows tools write them).
    separators = r"[/\\]" if problems else "/"
    parts = ["__" if p == ".." else p for p in re.split(separators, shown) if p not in ("", ".")]
    shown = "/".join(_CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", p) for p in parts) or "_"
    if not problems:
        return shown, ()
    what = ", ".join(problems)
    return shown, (
        f"unsafe member name {name!r} ({what}); shown as {shown!r}, never used as a host path",
    )


class ReaderCache:
    """Opens nested locators hop by hop, keeping the last few readers open.

    Evicted readers are dropped, not closed: a member stream still in use keeps what
    it reads from alive, and everything closes when nothing refers to it any more.
    """

    def __init__(
        self,
        open_top: Callable[[bytes], BinaryIO],
        siblings: Callable[[bytes], Siblings | None] | None = None,
        keys: Keys | None = None,
    ) -> None:
        self._open_top = open_top
        self._siblings = siblings
        self._keys = dict(keys or {})
        self._readers: OrderedDict[tuple[Locator, str], ContainerReader] = OrderedDict()

    def open(self, locator: bytes) -> BinaryIO:
        """The content of the item at stored ``locator``.

        Raises:
            OSError: unreadable, or the bytes are no locator (``LocatorError``).
        """
        return self.open_at(Locator.parse(locator))

    def open_at(self, locator: Locator) -> BinaryIO:
        if isinstance(locator, Hop):
            return self.reader(locator.parent, locator.fmt).open_member(locator.member)
        return self._open_top(locator.root.raw)

    def reader(self, container: Locator, fmt: str) -> ContainerReader:
        """The open reader of format ``fmt`` over the item at ``container``."""
        key = (container, fmt)
        found = self._readers.get(key)
        if found is not None:
            self._readers.move_to_end(key)
            return found
        try:
            cls = CONTAINERS.get(fmt)
        except KeyError:
            raise OSError(f"unknown container format {fmt!r} in locator") from None
        beside = self._siblings(container.to_bytes()) if self._siblings else None
        reader = cls.open_with(random_access(self.open_at(container)), beside, self._keys)
        self._readers[key] = reader
        while len(self._readers) > OPEN_READERS:
            self._readers.popitem(last=False)
        return reader

    def clear(self) -> None:
        self._readers.clear()
