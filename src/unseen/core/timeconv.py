"""Time conversions. Stored times are ISO 8601 UTC strings or Unix seconds."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """Now as ISO 8601 UTC with microseconds, e.g. ``2026-11-25T12:00:00.000001Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def unix_to_iso(seconds: float | None) -> str | None:
    """Unix seconds (file-system time) as ISO 8601 UTC; None stays None.

    Sub-second precision is kept to the microsecond where the file system has it.
    """
    if seconds is None:
        return None
    try:
        stamp = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"
