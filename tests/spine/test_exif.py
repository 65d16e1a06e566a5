"""EXIF written with piexif comes back normalised: text, ISO times, signed degrees."""

from __future__ import annotations

from .casework import spine_errors
from .conftest import Gallery


def test_south_west_below_sea_level_with_offset_and_thumbnail(gallery: Gallery) -> None:
    rec = gallery.records["exif/south_west.jpg"]
    assert rec["exif"] == {
        "make": "Synthetic Cam Co",
        "model": "SC-1000",
        "serial": "SN0042",
        "lens": "SynthLens 35mm f/1.8",
        "software": "unseen-test 1.0",
        "datetime_original": "2024-05-01T12:34:56+02:00",
        # 33 + 51/60 + 35.64/3600 and 70 + 39/60 + 23.4/3600, south and west negative
        "gps_lat": -33.8599,
        "gps_lon": -70.6565,
        "gps_alt": -42.35,  # altitude reference 1: below sea level
        "orientation": 1,
        "thumbnail": True,
        "serial_source": "EXIF BodySerialNumber (0xA431)",
    }
    assert spine_errors(rec) == []


def test_north_east_above_sea_level_without_offset_or_thumbnail(gallery: Gallery) -> None:
    rec = gallery.records["exif/north_east.jpg"]
    assert rec["exif"] == {
        "make": "Other Optics",
        "model": "OO-7",
        "serial": None,
        "lens": None,
        "software": None,
        "datetime_original": "2023-12-31T23:59:59",
        # 51 + 30/60 + 0.36/3600 = 51.5001; 7/60 + 39.9876/3600 = 0.12777433... (7 places)
        "gps_lat": 51.5001,
        "gps_lon": 0.1277743,
        "gps_alt": 123.5,
        "orientation": 6,
        "thumbnail": False,
        "serial_source": None,
    }
    assert spine_errors(rec) == []


def test_malformed_fields_are_errors_and_the_rest_survives(gallery: Gallery) -> None:
    rec = gallery.records["exif/malformed.jpg"]
    exif = rec["exif"]
    assert (exif["make"], exif["gps_lon"]) == ("Good Make", 2.2833333)
    assert (exif["orientation"], exif["datetime_original"], exif["gps_lat"]) == (None,) * 3
    assert spine_errors(rec) == [
        "exif: EXIF orientation malformed: orientation 9 outside 1-8",
        "exif: EXIF datetime_original malformed: malformed date '2024:13:45 25:61:00'",
        "exif: EXIF gps_lat malformed: not a finite number (zero denominator?)",
    ]
    assert rec["pdq"] and rec["thumbnail"]  # the picture itself is fine


def test_blank_date_means_unknown(gallery: Gallery) -> None:
    rec = gallery.records["exif/blank_date.jpg"]
    assert (rec["exif"]["model"], rec["exif"]["datetime_original"]) == ("Blank Clock", None)
    assert spine_errors(rec) == []


def test_images_without_exif_have_none(gallery: Gallery) -> None:
    assert gallery.records["formats/photo.png"]["exif"] is None
    assert gallery.records["formats/photo.jpg"]["exif"] is None
