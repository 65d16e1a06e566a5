"""Phone application clocks to UTC, keeping the raw value and its epoch's name.

Apple's message databases count from 2001-01-01 UTC, in seconds before iOS 11 and in
nanoseconds since (the same column); Android apps count milliseconds since 1970. The
UTC text has the sortable form of the internet artefacts' (``timestamps.iso``:
microseconds and ``Z``), computed with ``isoformat`` because a phone holds millions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from unseen.internet.timestamps import MAX_YEAR, MIN_YEAR

# (utc text, the raw value as stored, its epoch's name)
Reading = tuple[str | None, int | float | None, str | None]
_1970 = datetime(1970, 1, 1)  # naive UTC: isoformat then has no offset to strip
_2001 = datetime(2001, 1, 1)
# Above this, an Apple time cannot be seconds (it would be after the year 5000).
_APPLE_NS_FLOOR = 100_000_000_000
_NONE: Reading = (None, None, None)


def _utc(base: datetime, microseconds: int | float) -> str | None:
    try:
        moment = base + timedelta(microseconds=microseconds)
    except OverflowError:
        return None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return None
    return moment.isoformat(timespec="microseconds") + "Z"


def _number(raw: object) -> bool:
    if type(raw) is int:  # the common case first: millions of rows
        return raw != 0
    return isinstance(raw, float) and raw == raw and raw != 0


def apple(raw: object) -> Reading:
    """(utc, raw, epoch) of a 2001-epoch time in seconds or nanoseconds, told apart
    by magnitude as iOS itself changed it.

    Example:
        >>> apple(694_224_000_000_000_000)[0], apple(694_224_000.5)[0]
        ('2023-01-01T00:00:00.000000Z', '2023-01-01T00:00:00.500000Z')
    """
    if not _number(raw):
        return _NONE
    assert isinstance(raw, int | float)
    if abs(raw) >= _APPLE_NS_FLOOR:
        return _utc(_2001, int(raw) // 1000), raw, "mac_absolute_ns"
    return _utc(_2001, raw * 1_000_000), raw, "mac_absolute_s"


def unix_ms(raw: object) -> Reading:
    """(utc, raw, epoch) of Android milliseconds since 1970.

    Example:
        >>> unix_ms(1_709_290_800_123)
        ('2024-03-01T11:00:00.123000Z', 1709290800123, 'unix_ms')
    """
    if not _number(raw):
        return _NONE
    assert isinstance(raw, int | float)
    return _utc(_1970, raw * 1000), raw, "unix_ms"


_BASES = {"mac_absolute_ns": (_2001, 0.001), "mac_absolute_s": (_2001, 1_000_000.0),
          "unix_ms": (_1970, 1000.0), "unix_s": (_1970, 1_000_000.0)}  # fmt: skip


def utc_of(raw: object, epoch: str | None) -> str | None:
    """The UTC text of a raw value in one of this module's epochs (None if unknown).

    Example:
        >>> utc_of(1_709_290_800_123, "unix_ms"), utc_of(730_944_000, "mac_absolute_s")
        ('2024-03-01T11:00:00.123000Z', '2024-03-01T00:00:00.000000Z')
    """
    if epoch not in _BASES or not _number(raw):
        return None
    assert isinstance(raw, int | float)
    base, unit = _BASES[epoch]
    if epoch == "mac_absolute_ns":
        return _utc(base, int(raw) // 1000)
    return _utc(base, raw * unit)
