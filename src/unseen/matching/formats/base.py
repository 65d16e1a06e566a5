"""What a hash-set file reader yields, and the checks every entry passes.

A reader streams its file and yields one :class:`RawEntry` per usable record or one
:class:`Rejected` per record it cannot use, each naming the record (``line 12``,
``record 3``). A problem that stops the whole file (truncated JSON, a database that
is not NSRL) raises :class:`BadFile`; the import then fails and leaves nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from unseen.core.registry import Registry
from unseen.matching import signals

# The hashes a hash-set entry may carry (the library's columns), each checked by its
# signal type.
HASH_KINDS = ("md5", "sha1", "sha256", "pdq", "ed2k")
# The digests of the empty file: an entry carrying one would match every empty file
# of every case (IPED skips them for the same reason).
EMPTY_FILE = {
    "md5": "d41d8cd98f00b204e9800998ecf8427e",
    "sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
}
MAX_EXTRA_TEXT = 2048  # characters kept of one extra value (a PhotoDNA hex is 288)


class BadRecord(ValueError):
    """One record cannot be imported (skipped, or fatal under ``--strict``)."""


class BadFile(Exception):
    """The file cannot be read further; the import fails whatever ``--strict`` says."""

    def __init__(self, ref: str, reason: str) -> None:
        super().__init__(f"{ref}: {reason}")
        self.ref = ref
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry as the file gives it; ``category`` is still the file's raw value."""

    ref: str
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    ed2k: str | None = None
    category: int | str | None = None
    series: str | None = None
    extra: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    ref: str
    reason: str


@dataclass(frozen=True, slots=True)
class FileHeader:
    """What a file says about itself before its records."""

    profile: str | None = None  # VICS profile as written (US, UK, CUSTOM, Default)
    has_categories: bool = False


class HashSetFormat(ABC):
    """A reader of one hash-set file format (registered in :data:`FORMATS`)."""

    NAME: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    KNOWN_GOOD: ClassVar[bool] = False  # e.g. NSRL: matches mark items ignorable
    # Categories are VICS numbers, read through a profile's table (else scheme codes).
    NUMBERED: ClassVar[bool] = False
    # Repeated hashes are normal (NSRL lists one file per package): they are counted
    # but not reported one by one, and --strict does not fail on them.
    DUPLICATES_EXPECTED: ClassVar[bool] = False

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    @abstractmethod
    def sniff(head: bytes) -> bool:
        """Whether the first bytes of a file look like this format (``--format auto``)."""

    def header(self) -> FileHeader:
        """Read what the file says about itself. Raises BadFile when it is unusable."""
        return FileHeader()

    @abstractmethod
    def records(self) -> Iterator[RawEntry | Rejected]:
        """Stream the records, in file order. Raises BadFile when the file breaks off."""


FORMATS: Registry[type[HashSetFormat]] = Registry("hash-set formats")


def clean_hash(kind: str, value: object) -> str | None:
    """A hash as stored (lower-case hex), None when absent. Raises BadRecord when bad."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord(f"{kind.upper()} is not text")
    text = value.strip().lower()
    if not text:
        return None
    try:
        text = signals.get(kind).validate(text)
    except signals.SignalError as exc:
        raise BadRecord(str(exc)) from None
    if EMPTY_FILE.get(kind) == text:
        raise BadRecord(f"{kind.upper()} is the digest of the empty file")
    return text


def make_entry(
    ref: str,
    hashes: dict[str, object],
    category: int | str | None = None,
    series: object = None,
    extra: dict[str, Any] | None = None,
) -> RawEntry:
    """A checked entry: every hash valid, at least one present. Raises BadRecord."""
    clean = {kind: clean_hash(kind, value) for kind, value in hashes.items()}
    if not any(clean.values()):
        raise BadRecord("no hash")
    text_series = (series.strip() or None) if isinstance(series, str) else None
    return RawEntry(
        ref,
        md5=clean.get("md5"),
        sha1=clean.get("sha1"),
        sha256=clean.get("sha256"),
        pdq=clean.get("pdq"),
        ed2k=clean.get("ed2k"),
        category=category,
        series=text_series,
        extra=extra or None,
    )


def keep_value(value: object) -> object:
    """An extra value as stored: scalars only, long text cut to MAX_EXTRA_TEXT."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "replace")
    if type(value) is str and len(value) > MAX_EXTRA_TEXT:
        return value[:MAX_EXTRA_TEXT] + "..."
    return value
