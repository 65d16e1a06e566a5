"""Every application clock the internet parsers use, against its documented origin and
unit, and each parser against the clock its application documents."""

from __future__ import annotations

import pytest

from unseen.internet.parsers import chromium, firefox, safari
from unseen.internet.timestamps import EPOCHS, stamp

# (epoch, raw value, UTC): each clock's origin and one documented moment.
DOCUMENTED = [
    # Chromium base::Time: microseconds since 1601-01-01 (time/time.h); the Unix epoch
    # is 11644473600 s later (1980-01-01, the earliest moment kept, is 315532800 s Unix).
    ("webkit_us_1601", 11_960_006_400_000_000, "1980-01-01T00:00:00.000000Z"),
    ("webkit_us_1601", 13_350_000_000_000_000, "2024-01-17T21:20:00.000000Z"),
    # Windows FILETIME: 100 ns ticks since 1601-01-01 (MS-DTYP 2.3.3).
    ("filetime", 119_600_064_000_000_000, "1980-01-01T00:00:00.000000Z"),
    ("filetime", 133_537_608_000_000_000, "2024-03-01T10:00:00.000000Z"),
    # Unix time in seconds, milliseconds and microseconds (Firefox PRTime: prtime.h).
    ("unix_s", 1_709_287_200, "2024-03-01T10:00:00.000000Z"),
    ("unix_ms", 1_709_287_200_123, "2024-03-01T10:00:00.123000Z"),
    ("unix_us", 1_709_287_200_123_456, "2024-03-01T10:00:00.123456Z"),
    # Cocoa NSDate reference date: seconds since 2001-01-01 (Safari, plists).
    ("mac_absolute_s", 730_980_000, "2024-03-01T10:00:00.000000Z"),
    ("mac_absolute_s", 730_980_000.25, "2024-03-01T10:00:00.250000Z"),
]


@pytest.mark.parametrize(("epoch", "raw", "utc"), DOCUMENTED)
def test_documented_moments(epoch: str, raw: float, utc: str) -> None:
    found = stamp(raw, epoch)
    assert found is not None and (found.utc, found.epoch, found.raw) == (utc, epoch, raw)


def test_every_clock_is_covered() -> None:
    assert {e for e, _, _ in DOCUMENTED} == set(EPOCHS)


def test_each_parser_uses_its_applications_clock() -> None:
    assert chromium.EPOCH == "webkit_us_1601"
    assert chromium.LEGACY_DOWNLOAD_EPOCH == "unix_s"  # downloads.full_path schema
    assert firefox.EPOCH == "unix_us"
    assert safari.EPOCH == "mac_absolute_s"
