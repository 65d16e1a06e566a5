"""Typed locators: where an item lies, as a chain of typed hops (dfvfs's path spec idea).

An item of a source is addressed by the source's own locator (``Root``, opaque here: a
folder's relative path, or the escaped member address of a source that is itself a
container). An item found inside another item is one ``Hop`` further: its ``parent``
is the container's locator, ``fmt`` names the container reader that opens it, and
``member`` is that reader's typed address of it (``ArchiveMember``, ``FsEntry``,
``Carved``...). ``MEMBERS`` says which address class each reader format uses.

**Bytes.** The stored form (``items.locator``, and every ledger or thumbnail keyed on
it) is unchanged from the untyped byte chain it replaces, so cases made before open
and export the same::

    locator = ROOT ( 0x00 FORMAT ":" escape(MEMBER) )*

where ``escape`` turns 0x01 into ``01 31`` and 0x00 into ``01 30`` (a hop never holds
0x00, so the separators are unambiguous) and ``MEMBER`` is the address's own bytes.
Every address class writes exactly the bytes the readers wrote before, and reads back
only the forms it writes (canonical decimal numbers), so ``parse(b).to_bytes() == b``
for every locator that parses. Stored bytes that do not parse raise ``LocatorError``,
an ``OSError``: whoever opens the item records it on the item, as any unreadable item.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

SEP = b"\x00"
# Far past any real nesting (the default container depth limit is 8); stored bytes
# nested deeper are refused, so comparing and hashing chains never recurses too far.
MAX_HOPS = 200
MAX_NESTED_VOLUMES = 16


class LocatorError(OSError, ValueError):
    """Stored locator bytes that are no locator (damaged, or from a foreign tool).

    An ``OSError`` because opening an item is where it shows: the item records it as
    "cannot read", and nothing stops. A ``ValueError`` for callers that only parse.
    """


def escape(raw: bytes) -> bytes:
    """``raw`` with no 0x00 byte left (0x01 -> 01 31, 0x00 -> 01 30)."""
    return raw.replace(b"\x01", b"\x011").replace(b"\x00", b"\x010")


_ESCAPED = re.compile(rb"\x01(.?)", re.DOTALL)  # a trailing 0x01 escapes nothing


def unescape(raw: bytes) -> bytes:
    """Inverse of ``escape``.

    Raises:
        LocatorError: a 0x01 not followed by ``0`` or ``1``.
    """

    def one(m: re.Match[bytes]) -> bytes:
        if m[1] not in (b"0", b"1"):
            raise LocatorError("malformed locator escape")
        return b"\x00" if m[1] == b"0" else b"\x01"

    return _ESCAPED.sub(one, raw)


def split(locator: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The untyped framing: the root and each hop's ``(format, member bytes)``.

    Raises:
        LocatorError: a hop without ``FORMAT:`` or with a malformed escape.
    """
    first, *rest = locator.split(SEP)
    return first, [_frame(part) for part in rest]


def _frame(part: bytes) -> tuple[str, bytes]:
    fmt, sep, member = part.partition(b":")
    if not sep or not fmt.isalnum() or not fmt.isascii():
        raise LocatorError("malformed locator hop")
    return fmt.decode("ascii"), unescape(member)


def join(root: bytes, hops: list[tuple[str, bytes]]) -> bytes:
    """Inverse of ``split``."""
    return root + b"".join(SEP + fmt.encode("ascii") + b":" + escape(m) for fmt, m in hops)


# Numbers in addresses: canonical decimal only, so that bytes read back write the same.
_N = rb"(0|[1-9][0-9]*)"
_K = rb"([1-9][0-9]*)"


class Address(ABC):
    """A member's address inside one container, as its reader states it."""

    __slots__ = ()

    def encode(self) -> bytes:
        """The address's bytes (the member part of a hop, before escaping)."""
        raise NotImplementedError

    @classmethod
    @abstractmethod
    def decode(cls, raw: bytes) -> Address:
        """The address these bytes state.

        Raises:
            LocatorError: not an address of this kind.
        """


A = TypeVar("A", bound=Address)


def expect(member: Address | bytes, kind: type[A]) -> A:
    """``member`` as an address of ``kind``, the one a reader opens; given as bytes (a
    member's locator as its reader listed it), read as that kind.

    Raises:
        LocatorError: a member address of another kind (a locator naming the wrong
            reader for its member), or bytes that are no address of this kind.
    """
    if isinstance(member, bytes):
        member = kind.decode(member)
    if not isinstance(member, kind):
        raise LocatorError(f"{member!r} is not an address of kind {kind.__name__}")
    return member


_NUMBERED = re.compile(_N + rb":(.*)", re.DOTALL)


def _numbered(raw: bytes, what: str) -> tuple[int, str]:
    found = _NUMBERED.fullmatch(raw)
    if not found:
        raise LocatorError(f"malformed {what} member address")
    return int(found[1]), found[2].decode("utf-8", "surrogateescape")


def _name_bytes(number: int, name: str) -> bytes:
    return f"{number}:{name}".encode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class ArchiveMember(Address):
    """A ZIP, 7z or RAR member: its index in the archive's listing and its stored name
    (checked when opening, so a locator never opens another member)."""

    index: int
    name: str

    def encode(self) -> bytes:
        return _name_bytes(self.index, self.name)

    @classmethod
    def decode(cls, raw: bytes) -> ArchiveMember:
        return cls(*_numbered(raw, "archive"))


@dataclass(frozen=True, slots=True)
class TarMember(Address):
    """A TAR member: the offset of its header (TAR has no index) and its stored name."""

    offset: int
    name: str

    def encode(self) -> bytes:
        return _name_bytes(self.offset, self.name)

    @classmethod
    def decode(cls, raw: bytes) -> TarMember:
        return cls(*_numbered(raw, "TAR"))


class DiskAddress(Address):
    """An address inside a disk image read by The Sleuth Kit (raw, E01, virtual disks).

    Numbers are byte offsets in the image (absolute) and TSK metadata addresses. The
    first byte says which kind: ``f`` file content, ``c`` carved bytes, ``v`` a volume
    or space without content, ``d`` a folder that could not be listed, ``e`` a member
    of a decrypted volume, ``m`` a member of an LVM2 logical volume, ``s`` a member of
    a volume shadow copy, ``y`` a file of a file system read through libyal.
    """

    __slots__ = ()

    @classmethod
    def decode(cls, raw: bytes) -> DiskAddress:
        # Volumes that hold disks (decrypted, LVM logical, shadow copies) prefix the
        # inner address: peel the prefixes without recursion (hostile bytes may repeat
        # them thousands of times: refused past a few).
        wrappers: list[re.Match[bytes]] = []
        while (found := _WRAPPER.match(raw)) is not None:
            wrappers.append(found)
            raw = raw[found.end() :]
            if len(wrappers) > MAX_NESTED_VOLUMES:
                raise LocatorError("volumes nested too deep in locator")
        kind = _DISK_KINDS.get(raw[:1])
        if kind is None:
            raise LocatorError("malformed disk member address")
        address = kind.decode_one(raw)
        for found in reversed(wrappers):
            if found[1] is not None:
                address = Decrypted(int(found[1]), address)
            else:
                address = _HOLDERS[found[0][:1]](int(found[2]), int(found[3]), address)
        return address

    @classmethod
    def decode_one(cls, raw: bytes) -> DiskAddress:
        """The address of this kind these bytes state (no decrypted-volume prefix)."""
        raise LocatorError("malformed disk member address")


_WRAPPER = re.compile(rb"(?:e" + _N + rb"|[ms]" + _N + rb":" + _N + rb")/")


def _nth(k: int | None) -> bytes:
    return b"" if k is None else b":n%d" % k


@dataclass(frozen=True, slots=True)
class FsEntry(DiskAddress):
    """A file's content in the file system at ``fs_offset``: its metadata address,
    one attribute of it where given (``(type, id)``: an NTFS alternate data stream),
    and ``nth`` for the second, third... listing of an address already listed (hard
    links, a deleted name whose metadata was reused)."""

    fs_offset: int
    inode: int
    attr: tuple[int, int] | None = None
    nth: int | None = None

    _FORM: ClassVar[re.Pattern[bytes]] = re.compile(
        rb"f" + _N + rb":i" + _N + rb"(?::a" + _N + rb"-" + _N + rb")?(?::n" + _K + rb")?"
    )

    def encode(self) -> bytes:
        attr = b"" if self.attr is None else b":a%d-%d" % self.attr
        return b"f%d:i%d" % (self.fs_offset, self.inode) + attr + _nth(self.nth)

    @classmethod
    def decode_one(cls, raw: bytes) -> FsEntry:
        found = cls._FORM.fullmatch(raw)
        if not found:
            raise LocatorError("malformed file-system entry address")
        attr = None if found[3] is None else (int(found[3]), int(found[4]))
        nth = None if found[5] is None else int(found[5])
        return cls(int(found[1]), int(found[2]), attr, nth)


@dataclass(frozen=True, slots=True)
class Carved(DiskAddress):
    """Bytes carved from unallocated space: ``length`` bytes at image ``offset``."""

    offset: int
    length: int

    _FORM: ClassVar[re.Pattern[bytes]] = re.compile(rb"c" + _N + rb":" + _N)

    def encode(self) -> bytes:
        return b"c%d:%d" % (self.offset, self.length)

    @classmethod
    def decode_one(cls, raw: bytes) -> Carved:
        found = cls._FORM.fullmatch(raw)
        if not found:
            raise LocatorError("malformed carved address")
        return cls(int(found[1]), int(found[2]))


@dataclass(frozen=True, slots=True)
class Volume(DiskAddress):
    """The volume at ``offset``, listed for what it lacks (no file system read, or
    encrypted and not examined); it has no content of its own."""

    offset: int

    _FORM: ClassVar[re.Pattern[bytes]] = re.compile(rb"v" + _N + rb"(:u)?")

    def encode(self) -> bytes:
        return b"v%d" % self.offset

    @classmethod
    def decode_one(cls, raw: bytes) -> DiskAddress:
        found = cls._FORM.fullmatch(raw)
        if not found:
            raise LocatorError("malformed volume address")
        return (Unallocated if found[2] else cls)(int(found[1]))


@dataclass(frozen=True, slots=True)
class Unallocated(DiskAddress):
    """The unallocated space of the file system at ``fs_offset``, listed when it could
    not be carved; no content."""

    fs_offset: int

    def encode(self) -> bytes:
        return b"v%d:u" % self.fs_offset


@dataclass(frozen=True, slots=True)
class Unlisted(DiskAddress):
    """A folder (by display path) that could not be listed or was too deep; no content."""

    path: str
    nth: int | None = None

    _FORM: ClassVar[re.Pattern[bytes]] = re.compile(rb"d(.*?)(?::n" + _K + rb")?", re.DOTALL)

    def encode(self) -> bytes:
        return b"d" + self.path.encode() + _nth(self.nth)

    @classmethod
    def decode_one(cls, raw: bytes) -> Unlisted:
        found = cls._FORM.fullmatch(raw)
        try:
            path = found[1].decode() if found else None
        except UnicodeDecodeError:
            path = None
        if found is None or path is None:
            raise LocatorError("malformed folder address")
        return cls(path, None if found[2] is None else int(found[2]))


@dataclass(frozen=True, slots=True)
class Decrypted(DiskAddress):
    """A member of the disk inside the encrypted volume at image ``offset``."""

    offset: int
    inner: DiskAddress

    def encode(self) -> bytes:
        return b"e%d/" % self.offset + self.inner.encode()


@dataclass(frozen=True, slots=True)
class InLogical(DiskAddress):
    """A member of the disk that LVM2 logical volume ``lv`` (0-based, volume-group
    order) of the physical volume at image ``offset`` holds."""

    offset: int
    lv: int
    inner: DiskAddress

    def encode(self) -> bytes:
        return b"m%d:%d/" % (self.offset, self.lv) + self.inner.encode()


@dataclass(frozen=True, slots=True)
class InSnapshot(DiskAddress):
    """A member of volume shadow copy ``number`` (1 = oldest; 0 for the catalog
    itself) of the NTFS volume at image ``offset``."""

    offset: int
    number: int
    inner: DiskAddress

    def encode(self) -> bytes:
        return b"s%d:%d/" % (self.offset, self.number) + self.inner.encode()


@dataclass(frozen=True, slots=True)
class LibyalEntry(DiskAddress):
    """A file of a file system read through libyal rather than TSK (XFS, APFS...): the
    file system's image offset, the volume's number in it (APFS containers hold
    several), the file's identifier; ``path`` names a folder that could not be listed
    (identifier 0, no content), ``nth`` as for ``FsEntry``."""

    fs_offset: int
    volume: int
    ident: int
    path: str | None = None
    nth: int | None = None

    _FORM: ClassVar[re.Pattern[bytes]] = re.compile(
        rb"y" + _N + rb":v" + _N + rb":i" + _N + rb"(?::d(.*?))?(?::n" + _K + rb")?", re.DOTALL
    )

    def encode(self) -> bytes:
        where = b"" if self.path is None else b":d" + self.path.encode()
        head = b"y%d:v%d:i%d" % (self.fs_offset, self.volume, self.ident)
        return head + where + _nth(self.nth)

    @classmethod
    def decode_one(cls, raw: bytes) -> LibyalEntry:
        found = cls._FORM.fullmatch(raw)
        try:
            path = None if not found or found[4] is None else found[4].decode()
        except UnicodeDecodeError:
            found = None
        if found is None:
            raise LocatorError("malformed file-system entry address")
        nth = None if found[5] is None else int(found[5])
        return cls(int(found[1]), int(found[2]), int(found[3]), path, nth)


# Volumes numbered inside the one at an image offset, by their address prefix.
_HOLDERS: dict[bytes, type[InLogical] | type[InSnapshot]] = {b"m": InLogical, b"s": InSnapshot}

_DISK_KINDS: dict[bytes, type[DiskAddress]] = {
    b"f": FsEntry,
    b"c": Carved,
    b"v": Volume,
    b"d": Unlisted,
    b"y": LibyalEntry,
}

# Which address class each container reader (by its ``NAME``) states its members in.
# A reader format must be here for its members' locators to parse.
MEMBERS: dict[str, type[Address]] = {
    "zip": ArchiveMember,
    "7z": ArchiveMember,
    "rar": ArchiveMember,
    "tar": TarMember,
    "disk": DiskAddress,
    "ewf": DiskAddress,
    "vdisk": DiskAddress,
}


def address_of(fmt: str, raw: bytes) -> Address:
    """The typed address of member bytes ``raw`` of a ``fmt`` container.

    Raises:
        LocatorError: unknown format, or bytes that are no address of it.
    """
    kind = MEMBERS.get(fmt)
    if kind is None:
        raise LocatorError(f"unknown container format {fmt!r} in locator")
    return kind.decode(raw)


class Locator(ABC):
    """Where an item lies: a ``Root`` or a ``Hop`` below its ``parent``. Frozen and
    hashable (readers are cached on their container's locator)."""

    __slots__ = ()

    # The container's locator; None for an item its source lists itself.
    parent: Locator | None
    # How many containers deep the item lies (0: listed by its source).
    depth: int

    @staticmethod
    def parse(raw: bytes) -> Locator:
        """The typed locator of stored bytes.

        Raises:
            LocatorError: the bytes are no locator (the item records it).
        """
        root, hops = split(raw)
        if len(hops) > MAX_HOPS:
            raise LocatorError(f"locator nested more than {MAX_HOPS} containers deep")
        found: Locator = Root(root)
        for fmt, member in hops:
            found = Hop(found, fmt, address_of(fmt, member))
        return found

    def child(self, fmt: str, member: Address | bytes) -> Hop:
        """The locator of ``member`` inside the ``fmt`` container this one locates."""
        if isinstance(member, bytes):
            member = address_of(fmt, member)
        return Hop(self, fmt, member)

    @property
    def root(self) -> Root:
        """The source's own locator this chain starts from."""
        at: Locator = self
        while isinstance(at, Hop):
            at = at.parent
        assert isinstance(at, Root)
        return at

    def hops(self) -> list[Hop]:
        """The hops from the root down to this one, outermost first."""
        found = []
        at: Locator = self
        while isinstance(at, Hop):
            found.append(at)
            at = at.parent
        return found[::-1]

    @abstractmethod
    def to_bytes(self) -> bytes:
        """The stored form (unchanged from the untyped chain)."""


@dataclass(frozen=True, slots=True)
class Root(Locator):
    """The source's own locator of an item it lists itself: opaque bytes (a folder's
    relative path; for a source that is a container, its member address, escaped)."""

    raw: bytes
    parent: None = field(default=None, init=False, repr=False, compare=False)
    depth: int = field(default=0, init=False, repr=False, compare=False)

    def to_bytes(self) -> bytes:
        return self.raw

    @classmethod
    def around(cls, member: Address) -> Root:
        """The root of a member listed by a source that is itself a container."""
        return cls(escape(member.encode()))

    def member(self, fmt: str) -> Address:
        """Inverse of ``around``, for the source's reader of format ``fmt``.

        Raises:
            LocatorError: not an escaped ``fmt`` member address.
        """
        return address_of(fmt, unescape(self.raw))


@dataclass(frozen=True, slots=True)
class Hop(Locator):
    """A member of the container at ``parent``, opened by the ``fmt`` reader."""

    parent: Locator
    fmt: str
    member: Address
    depth: int = field(init=False, repr=False, compare=False)
    # The stored form, made once: the members of one container share their parent's.
    _stored: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kind = MEMBERS.get(self.fmt)
        if kind is None:
            raise LocatorError(f"unknown container format {self.fmt!r} in locator")
        expect(self.member, kind)
        object.__setattr__(self, "depth", self.parent.depth + 1)

    def to_bytes(self) -> bytes:
        if self._stored is None:
            hop = SEP + self.fmt.encode("ascii") + b":" + escape(self.member.encode())
            object.__setattr__(self, "_stored", self.parent.to_bytes() + hop)
        assert self._stored is not None
        return self._stored
