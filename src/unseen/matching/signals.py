"""Signal types: each kind of hash we match owns its name, checks, comparison and reason.

A signal type (the idea of python-threatexchange's ``SignalType``) is one class per
kind of hash: the string stored in the databases and exports (``NAME``, unchanged from
when kinds were bare strings, so cases and exports stay byte-identical), how a value is
checked and normalised, whether two values match by equality or by a distance, the
threshold of that distance, how a set of values is indexed for lookups, and the words
a match of this kind is explained with. Adding a kind is one class registered in
:data:`SIGNALS`.

The kinds are hashes a hash-set file may carry (``md5``, ``sha1``, ``sha256``, ``ed2k``,
``pdq``) and the ways a match is recorded (the digests, ``pdq`` for a picture as found,
``pdq-dihedral`` for a turned or mirrored one, ``video`` for video frames). The last
two hold PDQ values too: they differ in what was compared, not in the hash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import ClassVar, NamedTuple

import numpy as np

from unseen.core.registry import Registry
from unseen.core.settings import Settings
from unseen.matching.index import U8, FlatIndex, MultiIndex, build_index, codes_from_hex

_HEX = re.compile(r"[0-9a-f]+")
_SHOWN = 80  # characters of a rejected value quoted in its error


class SignalError(ValueError):
    """A value is not a valid hash of its kind (the message says why, value quoted)."""


class Comparison(NamedTuple):
    """Whether two values match and how far apart they are (0 for equal digests; an
    exact kind reports 1 for any difference, it has no finer distance)."""

    match: bool
    distance: int


def pdq_radius(settings: Settings | None = None) -> int:
    """The PDQ distance (bits of 256) within which two pictures are the same picture:
    the run's setting when there is one, else the default."""
    return (settings if settings is not None else Settings()).pdq_radius


class Signal:
    """One kind of hash. Class-level only: values stay plain lower-case hex strings."""

    NAME: ClassVar[str]  # as stored in ``matches.kind`` and hash-set columns
    LABEL: ClassVar[str]  # for people: "SHA-256", "PDQ"
    HEX_LENGTH: ClassVar[int]
    COLUMN: ClassVar[str]  # the hash-set library column holding its values
    EXACT: ClassVar[bool]  # equality (digests) rather than a distance (PDQ)
    # Strength when matches compete: lower is stronger (exact digests first).
    STRENGTH: ClassVar[int]
    # Whether matching the case records matches of this kind (``matches.kind``).
    MATCHED: ClassVar[bool] = True
    # How a set of its values is looked up: "equality" (a dict or SQL ``IN``) or
    # "hamming" (the exact PDQ range index of ``matching/index.py``).
    INDEX: ClassVar[str]
    # A match in words; ``{distance}`` and ``{fraction}`` are filled in.
    REASON: ClassVar[str]

    @classmethod
    def validate(cls, value: str) -> str:
        """The value as stored: lower-case hex of the kind's length.

        Raises:
            SignalError: wrong length or not hexadecimal.
        """
        text = value.lower()
        if len(text) != cls.HEX_LENGTH or not _HEX.fullmatch(text):
            shown = text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
            raise SignalError(f"{cls.NAME.upper()} {shown!r} is not {cls.HEX_LENGTH} hex digits")
        return text

    @classmethod
    def is_valid(cls, value: str) -> bool:
        """Whether a stored value is already in the form ``validate`` returns."""
        return len(value) == cls.HEX_LENGTH and _HEX.fullmatch(value) is not None

    @classmethod
    def threshold(cls, settings: Settings | None = None) -> int:
        """The largest distance that still matches (0 for exact kinds)."""
        return 0

    @classmethod
    def compare(cls, a: str, b: str, settings: Settings | None = None) -> Comparison:
        """Two valid values compared: equality for exact kinds."""
        return Comparison(True, 0) if a == b else Comparison(False, 1)

    @classmethod
    def reason(cls, distance: int, fraction: float | None = None) -> str:
        """A match of this kind in words: ``MD5 exact match``, ``PDQ distance 12``."""
        return cls.REASON.format(distance=distance, fraction=fraction or 0.0)

    @classmethod
    def preposition(cls) -> str:
        """``in`` a set for an exact digest (the same bytes are listed there), ``to`` an
        entry for a distance (something close to it)."""
        return "in" if cls.EXACT else "to"


class ExactSignal(Signal):
    """A cryptographic digest: equal or not, looked up by equality."""

    EXACT = True
    INDEX = "equality"

    @classmethod
    def index(cls, values: Iterable[str]) -> dict[str, list[int]]:
        """Row numbers of each value (the in-memory form of an equality lookup)."""
        found: dict[str, list[int]] = {}
        for row, value in enumerate(values):
            found.setdefault(value, []).append(row)
        return found


class Md5(ExactSignal):
    NAME = "md5"
    LABEL = "MD5"
    HEX_LENGTH = 32
    COLUMN = "md5"
    STRENGTH = 2
    REASON = "MD5 exact match"


class Sha1(ExactSignal):
    NAME = "sha1"
    LABEL = "SHA-1"
    HEX_LENGTH = 40
    COLUMN = "sha1"
    STRENGTH = 1
    REASON = "SHA-1 exact match"


class Sha256(ExactSignal):
    NAME = "sha256"
    LABEL = "SHA-256"
    HEX_LENGTH = 64
    COLUMN = "sha256"
    STRENGTH = 0
    REASON = "SHA-256 exact match"


class Ed2k(ExactSignal):
    """eDonkey's MD4-of-chunks digest. Hash sets may carry it and the case computes it
    for shared files (``item_ed2k``), but matching does not record ed2k matches yet."""

    NAME = "ed2k"
    LABEL = "ED2K"
    HEX_LENGTH = 32
    COLUMN = "ed2k"
    STRENGTH = 3
    MATCHED = False
    REASON = "ED2K exact match"


class Pdq(Signal):
    """A picture's PDQ hash (256 bits): pictures match within a Hamming distance."""

    NAME = "pdq"
    LABEL = "PDQ"
    HEX_LENGTH = 64
    COLUMN = "pdq"
    EXACT = False
    STRENGTH = 4
    INDEX = "hamming"
    REASON = "PDQ distance {distance}"
    # PDQ's own quality score (0-100) below which a hash is not compared: near-featureless
    # pictures (flat colours, gradients) hash alike whatever they show.
    MIN_QUALITY: ClassVar[int] = 50

    @classmethod
    def threshold(cls, settings: Settings | None = None) -> int:
        return pdq_radius(settings)

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        """Bits that differ between two valid PDQ hashes (0-256)."""
        return int(np.bitwise_count(codes_from_hex([a]) ^ codes_from_hex([b])).sum())

    @classmethod
    def compare(cls, a: str, b: str, settings: Settings | None = None) -> Comparison:
        distance = cls.distance(a, b)
        return Comparison(distance <= cls.threshold(settings), distance)

    @classmethod
    def index(
        cls, values: Sequence[str], settings: Settings | None = None
    ) -> MultiIndex | FlatIndex:
        """An exact range index of the values at the threshold (rows in value order)."""
        return cls.index_codes(codes_from_hex(values), cls.threshold(settings))

    @staticmethod
    def index_codes(codes: U8, radius: int) -> MultiIndex | FlatIndex:
        """The same index from hashes already packed as ``(n, 32)`` bytes."""
        return build_index(codes, radius)


class PdqDihedral(Pdq):
    """A PDQ match found only after turning or mirroring the picture (one of its eight
    dihedral hashes other than the one as found)."""

    NAME = "pdq-dihedral"
    STRENGTH = 5
    REASON = "PDQ distance {distance} (rotated or mirrored)"


class VideoPdq(Pdq):
    """Video frames compared one by one with PDQ; the match carries the share of the
    video's usable frames within the threshold."""

    NAME = "video"
    LABEL = "video PDQ"
    STRENGTH = 6
    REASON = "video frames: {fraction:.0%} within PDQ distance, closest {distance}"


SIGNALS: Registry[type[Signal]] = Registry("signal types")
for _signal in (Md5, Sha1, Sha256, Ed2k, Pdq, PdqDihedral, VideoPdq):
    SIGNALS.register(_signal)


def by_strength(signals: Iterable[type[Signal]] = SIGNALS) -> list[type[Signal]]:
    """Signal types strongest first (exact digests, then PDQ as found, turned, video)."""
    return sorted(signals, key=lambda signal: signal.STRENGTH)


def matched() -> list[type[Signal]]:
    """The kinds a match may be recorded as, strongest first."""
    return [signal for signal in by_strength() if signal.MATCHED]


def exact_matched() -> tuple[str, ...]:
    """Names of the exact kinds matching compares case items by: SHA-256, SHA-1, MD5."""
    return tuple(signal.NAME for signal in matched() if signal.EXACT)


def get(name: str) -> type[Signal]:
    """The signal type stored as ``name``. Raises KeyError for an unknown kind."""
    return SIGNALS.get(name)
