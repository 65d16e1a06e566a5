"""eMule / aMule: ``known.met`` (files the client knew: shared or completed), ``*.part.met``
(incomplete downloads) and ``AC_SearchStrings.dat`` (the search box's history).

The ``.met`` files are little-endian: ``known.met`` is a header byte (0x0E, or 0x0F when
64-bit tags are allowed), a uint32 entry count, then per entry a uint32 date (Unix
seconds), the 16-byte ED2K hash, a uint16 part-hash count and the part hashes, a uint32
tag count and the tags. A ``part.met`` is one such entry after its version byte (0xE0,
0xE2 for large files). A tag is a type byte; with bit 0x80 set a one-byte name id
follows, otherwise a uint16-length name; then the value by type (eMule ``opcodes.h``
TAGTYPE_*, ``CTag``). Tag ids used here are eMule's FT_* constants.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from unseen.core.errors import WrongFormat
from unseen.internet.base import ARTEFACT_PARSERS, ArtefactParser, ParseContext
from unseen.internet.records import Artefact, P2PPartial, P2PSearch, P2PSharedFile
from unseen.internet.timestamps import stamp, utc_of

FT_FILENAME, FT_FILESIZE, FT_TRANSFERRED, FT_PARTFILENAME = 0x01, 0x02, 0x08, 0x12
FT_LASTSHARED, FT_FILESIZE_HI = 0x34, 0x3A
FT_ATTRANSFERRED, FT_ATREQUESTED, FT_ATACCEPTED, FT_ATTRANSFERREDHI = 0x50, 0x51, 0x52, 0x54
KNOWN_HEADERS = (0x0E, 0x0F)
PART_VERSIONS = (0xE0, 0xE2)
MAX_ENTRIES = 1_000_000
MAX_TAGS = 4096
# Fixed part of a known.met entry: date, hash, part count, tag count.
MIN_ENTRY = 4 + 16 + 2 + 4
_INTS = {0x03: "<I", 0x08: "<H", 0x09: "<B", 0x0B: "<Q"}

TagName = int | str
TagValue = int | float | str | bytes | None


class MetError(ValueError):
    """The ``.met`` data ends early or holds an impossible value."""


class MetReader:
    """Bounds-checked little-endian reads over a ``.met`` file held in memory."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise MetError(f"data ends at offset {len(self.data)} (needed {size} at {self.pos})")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def uint(self, fmt: str) -> int:
        value: int = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        return value

    def tag(self) -> tuple[TagName, TagValue]:
        """One tag: its name (an FT_* id, or a string name) and its value."""
        kind = self.uint("<B")
        name: TagName
        if kind & 0x80:
            kind &= 0x7F
            name = self.uint("<B")
        else:
            raw = self.take(self.uint("<H"))
            name = raw[0] if len(raw) == 1 else raw.decode("latin-1")
        return name, self._value(kind)

    def _value(self, kind: int) -> TagValue:
        if kind in _INTS:
            return self.uint(_INTS[kind])
        if kind == 0x02:  # string, uint16 length
            return _met_text(self.take(self.uint("<H")))
        if 0x11 <= kind <= 0x20:  # STR1..STR16: length in the type
            return _met_text(self.take(kind - 0x10))
        if kind == 0x04:
            value: float = struct.unpack("<f", self.take(4))[0]
            return value
        if kind == 0x01:
            return self.take(16)
        if kind == 0x05:
            return self.uint("<B")
        if kind == 0x06:  # bool array: uint16 bit count, then bytes as eMule skips them
            self.take(self.uint("<H") // 8 + 1)
            return None
        if kind == 0x07:
            return self.take(self.uint("<I"))
        if kind == 0x0A:
            return self.take(self.uint("<B"))
        raise MetError(f"unknown tag type 0x{kind:02x} at offset {self.pos - 1}")

    def entry(self) -> tuple[int, bytes, int, dict[TagName, list[TagValue]]]:
        """Date, hash, part-hash count and tags of one file entry."""
        date = self.uint("<I")
        digest = self.take(16)
        parts = self.uint("<H")
        self.take(16 * parts)
        count = self.uint("<I")
        if count > MAX_TAGS:
            raise MetError(f"{count} tags in one entry (more than {MAX_TAGS})")
        tags: dict[TagName, list[TagValue]] = {}
        for _ in range(count):
            name, value = self.tag()
            tags.setdefault(name, []).append(value)
        return date, digest, parts, tags


def _met_text(raw: bytes) -> str:
    """eMule strings: UTF-8 (with a BOM when written as such), older ones ANSI."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "backslashreplace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "backslashreplace")


def _int(tags: dict[TagName, list[TagValue]], name: int) -> int | None:
    value = next((v for v in tags.get(name, ()) if isinstance(v, int)), None)
    return value


def _name(tags: dict[TagName, list[TagValue]]) -> str | None:
    names = [v for v in tags.get(FT_FILENAME, ()) if isinstance(v, str)]
    return names[0] if names else None


def _size(tags: dict[TagName, list[TagValue]]) -> int | None:
    low, high = _int(tags, FT_FILESIZE), _int(tags, FT_FILESIZE_HI)
    if low is None:
        return None
    return low | (high << 32) if high else low


def client_of(path: str) -> str:
    return "aMule" if "amule" in path.casefold() else "eMule"


class EmuleKnownMetParser(ArtefactParser):
    NAME = "emule_known_met"
    VERSION = "1"
    DESCRIPTION = "eMule/aMule known.met: files shared or downloaded, with ED2K hashes"
    PATH_GLOBS = ("**/known.met",)
    PRODUCES = ("p2p.shared_file",)
    MAX_BYTES = 256 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        data = ctx.read_bytes(self.MAX_BYTES)
        if not data or data[0] not in KNOWN_HEADERS:
            raise WrongFormat("not a known.met file (bad header byte)")
        reader = MetReader(data, 1)
        count = reader.uint("<I")
        possible = min(MAX_ENTRIES, (len(data) - 5) // MIN_ENTRY)
        if count > possible:
            ctx.error(f"header claims {count} entries; at most {possible} can fit")
        client = client_of(ctx.task.path)
        for index in range(min(count, possible)):
            offset = reader.pos
            try:
                date, digest, parts, tags = reader.entry()
            except MetError as exc:
                ctx.error(f"entry {index} at offset {offset}: {exc}; the rest is not read")
                return
            transferred = _int(tags, FT_ATTRANSFERRED)
            high = _int(tags, FT_ATTRANSFERREDHI)
            if transferred is not None and high:
                transferred |= high << 32
            yield P2PSharedFile(
                ctx.prov(f"entry {index} @ offset {offset}"),
                stamp(date, "unix_s"),
                client=client,
                name=_name(tags),
                size=_size(tags),
                ed2k=digest.hex(),
                transferred=transferred,
                requests=_int(tags, FT_ATREQUESTED),
                accepted=_int(tags, FT_ATACCEPTED),
                last_shared_utc=utc_of(_int(tags, FT_LASTSHARED), "unix_s"),
                part_hashes=parts,
            )


class EmulePartMetParser(ArtefactParser):
    NAME = "emule_part_met"
    VERSION = "1"
    DESCRIPTION = "eMule/aMule *.part.met: incomplete downloads with ED2K hashes"
    PATH_GLOBS = ("**/*.part.met",)
    PRODUCES = ("p2p.partial_download",)
    MAX_BYTES = 64 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        data = ctx.read_bytes(self.MAX_BYTES)
        if not data or data[0] not in PART_VERSIONS:
            version = f"0x{data[0]:02x}" if data else "none"
            raise WrongFormat(f"not a supported part.met (version byte {version})")
        try:
            date, digest, _, tags = MetReader(data, 1).entry()
        except MetError as exc:
            raise WrongFormat(f"truncated or corrupt part.met: {exc}") from exc
        part_name = next((v for v in tags.get(FT_PARTFILENAME, ()) if isinstance(v, str)), None)
        yield P2PPartial(
            ctx.prov("entry 0 @ offset 1"),
            stamp(date, "unix_s"),
            client=client_of(ctx.task.path),
            name=_name(tags),
            size=_size(tags),
            ed2k=digest.hex(),
            part_file=part_name,
            downloaded=_int(tags, FT_TRANSFERRED),
        )


class EmuleSearchStringsParser(ArtefactParser):
    NAME = "emule_search_strings"
    VERSION = "1"
    DESCRIPTION = "eMule AC_SearchStrings.dat: the search box's remembered terms"
    PATH_GLOBS = ("**/AC_SearchStrings.dat",)
    PRODUCES = ("p2p.search",)
    MAX_BYTES = 16 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        raw = ctx.read_bytes(self.MAX_BYTES)
        # Written as UTF-16LE text with a byte-order mark, one entry per line.
        if raw.startswith(b"\xff\xfe"):
            text = raw[2:].decode("utf-16-le", "backslashreplace")
        else:
            text = raw.decode("utf-8", "backslashreplace").lstrip("\ufeff")
        for line_no, line in enumerate(text.splitlines(), 1):
            terms = line.strip()
            if terms:
                yield P2PSearch(
                    ctx.prov(f"line {line_no}"),
                    None,
                    client=client_of(ctx.task.path),
                    terms=terms,
                )


ARTEFACT_PARSERS.register(EmuleKnownMetParser)
ARTEFACT_PARSERS.register(EmulePartMetParser)
ARTEFACT_PARSERS.register(EmuleSearchStringsParser)
