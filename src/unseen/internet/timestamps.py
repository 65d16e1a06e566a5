"""Raw application timestamps to UTC, keeping the raw value and the name of its epoch.

Every record keeps what the application wrote (``raw``), which clock it counts from
(``epoch``) and our reading of it (``utc``), so an examiner can check the conversion.
``utc`` always has six fractional digits so stored values sort as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_1601 = datetime(1601, 1, 1, tzinfo=UTC)
_1970 = datetime(1970, 1, 1, tzinfo=UTC)
_2001 = datetime(2001, 1, 1, tzinfo=UTC)

# Epoch name -> (base, microseconds per raw unit). Units:
#   webkit_us_1601  Chromium: microseconds since 1601-01-01 UTC
#   filetime        Windows FILETIME: 100-nanosecond ticks since 1601-01-01 UTC
#   unix_s          seconds since 1970-01-01 UTC (BitTorrent clients, eMule)
#   unix_ms         milliseconds since 1970-01-01 UTC
#   unix_us         microseconds since 1970-01-01 UTC (Firefox PRTime)
#   mac_absolute_s  seconds since 2001-01-01 UTC (Safari, Cocoa NSDate)
EPOCHS: dict[str, tuple[datetime, float]] = {
    "webkit_us_1601": (_1601, 1.0),
    "filetime": (_1601, 0.1),
    "unix_s": (_1970, 1_000_000.0),
    "unix_ms": (_1970, 1_000.0),
    "unix_us": (_1970, 1.0),
    "mac_absolute_s": (_2001, 1_000_000.0),
}
# Readings outside these years are kept raw but given no UTC value: they are zero
# fillers, corruption or another epoch, and would mislead a timeline.
MIN_YEAR = 1980
MAX_YEAR = 2100


@dataclass(frozen=True, slots=True)
class Stamp:
    """A timestamp as the application stored it, and in UTC.

    Attributes:
        raw: the stored number, unchanged.
        epoch: the clock it counts from (a key of ``EPOCHS``).
        utc: ISO 8601 UTC with microseconds (``2024-05-01T10:00:00.000000Z``), or None
            when the value is outside the plausible range.
    """

    raw: int | float
    epoch: str
    utc: str | None


def iso(moment: datetime) -> str:
    """A UTC datetime as sortable ISO 8601 text with microseconds and ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_datetime(raw: int | float, epoch: str) -> datetime | None:
    """The UTC moment of a raw value, or None when it is implausible or unreadable."""
    base, unit_us = EPOCHS[epoch]
    try:
        if isinstance(raw, int) and unit_us >= 1:
            moment = base + timedelta(microseconds=raw * int(unit_us))
        elif isinstance(raw, int):
            moment = base + timedelta(microseconds=raw // round(1 / unit_us))
        else:
            moment = base + timedelta(microseconds=raw * unit_us)
    except (OverflowError, ValueError):
        return None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return None
    return moment


def stamp(raw: object, epoch: str) -> Stamp | None:
    """A ``Stamp`` for a stored value; None when nothing was stored (None or 0).

    Example:
        >>> stamp(13_350_000_000_000_000, "webkit_us_1601").utc
        '2024-01-17T21:20:00.000000Z'
    """
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw == 0:
        return None
    if raw != raw:  # NaN from a corrupt REAL column
        return None
    moment = to_datetime(raw, epoch)
    return Stamp(raw, epoch, iso(moment) if moment else None)


def utc_of(raw: object, epoch: str) -> str | None:
    """Just the UTC text of a stored value (for secondary times kept in record data)."""
    found = stamp(raw, epoch)
    return found.utc if found else None
