"""md5sum-style lists: ``<hash>  <name>`` (or ``<hash> *<name>``, or a bare hash) per line.

The hash kind follows from its length: 32 hex digits MD5, 40 SHA-1, 64 SHA-256. Blank
lines and ``#`` comments are skipped. A leading backslash marks an escaped name
(coreutils writes ``\\n`` and ``\\\\`` in names that way). Lists carry no categories.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unseen.matching.formats.base import (
    FORMATS,
    BadRecord,
    HashSetFormat,
    RawEntry,
    Rejected,
    keep_value,
    make_entry,
)
from unseen.matching.formats.textio import MAX_LINE, Lines, first_line
from unseen.matching.signals import Md5, Sha1, Sha256

KINDS = {signal.HEX_LENGTH: signal.NAME for signal in (Md5, Sha1, Sha256)}
_LINE = re.compile(r"(\\?)([0-9A-Fa-f]+)(?:[ \t]+\*?(.*))?")
_SNIFF = re.compile(r"\\?(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})(?:\s.*)?")


def _unescape(name: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), name)


class Md5ListFormat(HashSetFormat):
    NAME = "md5list"
    DESCRIPTION = "md5sum/sha1sum/sha256sum output: '<hash>  <name>' per line"

    @staticmethod
    def sniff(head: bytes) -> bool:
        for line in head.decode("utf-8", "replace").splitlines():
            if line.strip() and not line.startswith("#"):
                return bool(_SNIFF.fullmatch(line.strip()))
        return bool(_SNIFF.fullmatch(first_line(head)))

    def records(self) -> Iterator[RawEntry | Rejected]:
        with self.path.open("rb") as stream:
            lines = Lines(stream)
            for text in lines:
                ref = f"line {lines.number}"
                if lines.number in lines.overlong:
                    yield Rejected(ref, f"line longer than {MAX_LINE} bytes")
                    continue
                line = text.rstrip("\r\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                try:
                    yield _entry(ref, line.strip())
                except BadRecord as exc:
                    yield Rejected(ref, str(exc))


def _entry(ref: str, line: str) -> RawEntry:
    match = _LINE.fullmatch(line)
    if match is None:
        raise BadRecord(f"not '<hash>  <name>': {line[:80]!r}")
    escaped, digest, name = match.groups()
    kind = KINDS.get(len(digest))
    if kind is None:
        raise BadRecord(f"hash {digest[:80]!r} has {len(digest)} hex digits (32, 40 or 64)")
    extra = None
    if name:
        extra = {"name": keep_value(_unescape(name) if escaped else name)}
    return make_entry(ref, {kind: digest}, extra=extra)


FORMATS.register(Md5ListFormat)
