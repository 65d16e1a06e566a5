"""Phone application clocks to UTC, keeping the raw value and its epoch's name.

Apple's message databases count from 2001-01-01 UTC, in seconds before iOS 11 and in
nanoseconds since (the same column); Android apps count milliseconds since 1970. The
UTC text has the same sortable form as the internet artefacts' (``timestamps.iso``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from unseen.internet.timestamps import MAX_YEAR, MIN_YEAR, iso, stamp

_2001 = datetime(2001, 1, 1, tzinfo=UTC)
# Above this, an Apple time cannot be seconds (it would be after the year 5000).
_APPLE_NS_FLOOR = 100_000_000_000


def apple(raw: object) -> tuple[str | None, str | None, str | None]:
    """(utc, raw, epoch) of a 2001-epoch time in seconds or nanoseconds, told apart
    by magnitude as iOS itself changed it.

    Example:
        >>> apple(694_224_000_000_000_000)[0]
        '2023-01-01T00:00:00.000000Z'
    """
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw == 0 or raw != raw:
        return None, None, None
    if abs(raw) >= _APPLE_NS_FLOOR:
        epoch = "mac_absolute_ns"
        try:
            moment = _2001 + timedelta(microseconds=int(raw) // 1000)
        except OverflowError:
            return None, str(raw), epoch
        ok = MIN_YEAR <= moment.year <= MAX_YEAR
        return (iso(moment) if ok else None), str(raw), epoch
    found = stamp(raw, "mac_absolute_s")
    return (found.utc if found else None), str(raw), "mac_absolute_s"


def unix_ms(raw: object) -> tuple[str | None, str | None, str | None]:
    """(utc, raw, epoch) of Android milliseconds since 1970."""
    found = stamp(raw, "unix_ms")
    if found is None:
        return None, None, None
    return found.utc, str(found.raw), found.epoch
