"""Fictitious camera bodies and the EXIF blocks they write (via piexif).

The bodies are real models with made-up serial numbers; the EXIF follows what each
kind of device records: DSLRs a body serial and no position, phones GPS and a UTC
offset but no serial.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import piexif
from PIL import Image

from unseen.core.jpeg import IJG_CHROMA, IJG_LUMA, ijg_table


@dataclass(frozen=True, slots=True)
class Camera:
    """A fictitious camera body as its EXIF and its memory card would show it.

    Attributes:
        key: stable short name used in the demo manifest.
        folder: the DCIM sub-folder the body writes to.
        pattern: file name pattern, formatted with ``n`` (shot number) and ``when``.
        table_quality: roughly the IJG quality the body's own tables correspond to.
        table_seed: makes the body's tables its own (never exactly an IJG table).
        subsampling: chroma subsampling as Pillow numbers it (1: 4:2:2, 2: 4:2:0).
    """

    key: str
    make: str
    model: str
    serial: str | None
    software: str | None
    lens: str | None
    folder: str
    pattern: str
    table_quality: int = 95
    table_seed: int = 0
    subsampling: int = 2

    def jpeg_params(self) -> dict[str, Any]:
        """Pillow JPEG save parameters that encode as this body does (its own tables)."""
        return {"qtables": camera_qtables(self), "subsampling": self.subsampling}


CAMERAS: dict[str, Camera] = {
    c.key: c
    for c in (
        Camera(
            "canon-80d", "Canon", "Canon EOS 80D", "183012345678", None,
            "EF-S18-55mm f/3.5-5.6 IS STM", "100CANON", "IMG_{n:04d}.JPG", 95, 1, 1,
        ),
        Camera(
            "iphone-12", "Apple", "iPhone 12", None, "16.1",
            "iPhone 12 back dual wide camera 4.2mm f/1.6", "100APPLE", "IMG_{n:04d}.JPG",
            92, 2, 2,
        ),
        Camera(
            "galaxy-s21", "samsung", "SM-G991B", None, "G991BXXU5CVLL", None,
            "Camera", "{when:%Y%m%d_%H%M%S}.jpg", 95, 3, 2,
        ),
        Camera(
            "nikon-d3500", "NIKON CORPORATION", "NIKON D3500", "6012345", "Ver.1.10",
            "18.0-55.0 mm f/3.5-5.6", "100D3500", "DSC_{n:04d}.JPG", 96, 4, 1,
        ),
    )
}  # fmt: skip


def camera_qtables(camera: Camera) -> list[list[int]]:
    """The body's own luma and chroma tables: IJG-like, nudged by -1/0/+1 per entry.

    Real cameras ship tables of their own, which is how software re-encoding is
    recognised (Pillow and web platforms write exact IJG tables).
    """
    tables = []
    for k, base in enumerate((IJG_LUMA, IJG_CHROMA)):
        scaled = ijg_table(base, camera.table_quality)
        nudge = [((5 * i + 3 * k + camera.table_seed) % 3) - 1 for i in range(64)]
        tables.append([min(255, max(1, v + d)) for v, d in zip(scaled, nudge, strict=True)])
    return tables


def _rational(value: float, denominator: int) -> tuple[int, int]:
    return (round(value * denominator), denominator)


def _dms(degrees: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Unsigned decimal degrees as EXIF degrees/minutes/seconds (seconds to 1/10000)."""
    value = abs(degrees)
    d = int(value)
    m = int((value - d) * 60)
    s = (value - d - m / 60) * 3600
    return ((d, 1), (m, 1), _rational(s, 10000))


def _offset_text(when: datetime) -> str:
    """The UTC offset of an aware time as EXIF writes it: ``+01:00``."""
    minutes = round((when.utcoffset() or timedelta()).total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _gps_ifd(gps: tuple[float, float, float], when: datetime) -> dict[int, object]:
    lat, lon, alt = gps
    utc = when.astimezone(UTC) if when.tzinfo else when
    return {
        piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
        piexif.GPSIFD.GPSLatitudeRef: b"N" if lat >= 0 else b"S",
        piexif.GPSIFD.GPSLatitude: _dms(lat),
        piexif.GPSIFD.GPSLongitudeRef: b"E" if lon >= 0 else b"W",
        piexif.GPSIFD.GPSLongitude: _dms(lon),
        piexif.GPSIFD.GPSAltitudeRef: 0 if alt >= 0 else 1,
        piexif.GPSIFD.GPSAltitude: _rational(abs(alt), 100),
        piexif.GPSIFD.GPSTimeStamp: ((utc.hour, 1), (utc.minute, 1), (utc.second, 1)),
        piexif.GPSIFD.GPSDateStamp: utc.strftime("%Y:%m:%d").encode(),
    }


def camera_exif(
    make: str,
    model: str,
    serial: str | None,
    when: datetime,
    gps: tuple[float, float, float] | None,
    lens: str | None = None,
    software: str | None = None,
    orientation: int = 1,
    thumbnail: bytes | None = None,
) -> bytes:
    """An EXIF block (``Exif\\0\\0`` + TIFF) as a camera would write it.

    Args:
        make, model: IFD0 Make and Model.
        serial: BodySerialNumber, or None (phones usually write none).
        when: DateTimeOriginal as the camera clock showed it; if ``when`` has a
            timezone its offset goes into OffsetTimeOriginal and GPS time is UTC.
        gps: (latitude, longitude, altitude in metres), signed decimal degrees.
        lens: LensModel. software: IFD0 Software (firmware).
        orientation: EXIF orientation 1-8 of the stored pixels.
        thumbnail: a small JPEG to embed as the IFD1 thumbnail.

    Returns:
        Bytes for Pillow's ``save(..., exif=...)``.
    """
    stamp = when.strftime("%Y:%m:%d %H:%M:%S").encode()
    zeroth: dict[int, object] = {
        piexif.ImageIFD.Make: make.encode(),
        piexif.ImageIFD.Model: model.encode(),
        piexif.ImageIFD.Orientation: orientation,
        piexif.ImageIFD.DateTime: stamp,
        piexif.ImageIFD.XResolution: (72, 1),
        piexif.ImageIFD.YResolution: (72, 1),
        piexif.ImageIFD.ResolutionUnit: 2,
    }
    if software:
        zeroth[piexif.ImageIFD.Software] = software.encode()
    exif: dict[int, object] = {
        piexif.ExifIFD.ExifVersion: b"0231",
        piexif.ExifIFD.DateTimeOriginal: stamp,
        piexif.ExifIFD.DateTimeDigitized: stamp,
    }
    if when.tzinfo is not None:
        exif[piexif.ExifIFD.OffsetTimeOriginal] = _offset_text(when).encode()
    if serial:
        exif[piexif.ExifIFD.BodySerialNumber] = serial.encode()
    if lens:
        exif[piexif.ExifIFD.LensModel] = lens.encode()
    tags: dict[str, object] = {"0th": zeroth, "Exif": exif}
    if gps is not None:
        tags["GPS"] = _gps_ifd(gps, when)
    if thumbnail is not None:
        tags["1st"] = {
            piexif.ImageIFD.Compression: 6,
            piexif.ImageIFD.XResolution: (72, 1),
            piexif.ImageIFD.YResolution: (72, 1),
            piexif.ImageIFD.ResolutionUnit: 2,
        }
        tags["thumbnail"] = thumbnail
    return bytes(piexif.dump(tags))


def exif_for(
    camera: Camera,
    when: datetime,
    gps: tuple[float, float, float] | None = None,
    orientation: int = 1,
    thumbnail: bytes | None = None,
) -> bytes:
    """:func:`camera_exif` filled in from a :data:`CAMERAS` body."""
    return camera_exif(
        camera.make,
        camera.model,
        camera.serial,
        when,
        gps,
        lens=camera.lens,
        software=camera.software,
        orientation=orientation,
        thumbnail=thumbnail,
    )


def jpeg_thumbnail(image: Image.Image, size: tuple[int, int] = (160, 120)) -> bytes:
    """A small baseline JPEG of ``image`` for embedding in EXIF (IFD1)."""
    thumb = image.copy()
    thumb.thumbnail(size)
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=75)
    return out.getvalue()


def save_camera_jpeg(
    path: Path | IO[bytes],
    image: Image.Image,
    exif_bytes: bytes | None,
    quality: int = 92,
    camera: Camera | None = None,
) -> None:
    """Write ``image`` (file or stream) as a baseline JPEG with an EXIF block (None: none).

    Args:
        path: file or binary stream to write.
        image: the pixels.
        exif_bytes: from :func:`camera_exif`, or None for no EXIF.
        quality: IJG quality, used when no ``camera`` is given.
        camera: encode with this body's own tables and subsampling instead.
    """
    params: dict[str, Any] = camera.jpeg_params() if camera else {"quality": quality}
    if exif_bytes:
        params["exif"] = exif_bytes
    image.save(path, "JPEG", **params)
