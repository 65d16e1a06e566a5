"""Video container metadata: codecs, size, rate, creation time, device and place.

Read from the keys FFmpeg exposes for QuickTime/MP4 (``creation_time``, ``location``
from the ``©xyz`` atom, ``com.apple.quicktime.*`` keys, Android's ``com.android.*``)
and the other containers. Locations are ISO 6709 strings such as
``+47.3769+008.5417+408.000/`` (degrees; DDMM and DDMMSS forms are accepted too).
"""

from __future__ import annotations

import re
from datetime import datetime
from fractions import Fraction
from typing import Any

from unseen.core.models import VideoRecord
from unseen.core.timeconv import unix_to_iso

_LOCATION_KEYS = ("com.apple.quicktime.location.iso6709", "location", "location-eng")
_MAKE_KEYS = ("com.apple.quicktime.make", "make", "com.android.manufacturer")
_MODEL_KEYS = ("com.apple.quicktime.model", "model", "com.android.model")
_TIME_KEYS = ("creation_time", "com.apple.quicktime.creationdate", "date")
_ISO6709 = re.compile(r"([+-]\d+(?:\.\d*)?)([+-]\d+(?:\.\d*)?)([+-]\d+(?:\.\d*)?)?")


def parse_iso6709(text: str) -> tuple[float, float, float | None] | None:
    """Latitude, longitude (signed degrees) and altitude (m) of an ISO 6709 string."""
    found = _ISO6709.match(text.strip())
    if not found:
        return None
    lat, lon = _angle(found[1], 2), _angle(found[2], 3)
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    return lat, lon, float(found[3]) if found[3] else None


def _angle(text: str, degree_digits: int) -> float | None:
    sign = -1.0 if text[0] == "-" else 1.0
    whole, _, frac = text[1:].partition(".")
    frac = "0." + (frac or "0")
    d = degree_digits
    if len(whole) == d:  # degrees
        value = int(whole) + float(frac)
    elif len(whole) == d + 2:  # degrees, minutes
        value = int(whole[:d]) + (int(whole[d:]) + float(frac)) / 60
    elif len(whole) == d + 4:  # degrees, minutes, seconds
        value = (
            int(whole[:d])
            + int(whole[d : d + 2]) / 60
            + (int(whole[d + 2 :]) + float(frac)) / 3600
        )
    else:
        return None
    return round(sign * value, 7)


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    lowered = {k.lower(): v for k, v in meta.items()}
    return next((lowered[k].strip() for k in keys if lowered.get(k, "").strip()), None)


def _time(text: str | None) -> str | None:
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        return None  # a local time of unknown zone: not turned into UTC
    return unix_to_iso(stamp.timestamp())


def rate(stream: Any) -> float:
    """Frames per second as vPDQ takes it: average rate, else the base rate."""
    for value in (stream.average_rate, stream.base_rate, stream.guessed_rate):
        if value:
            return float(Fraction(value))
    return 0.0


def read_metadata(container: Any, rec: VideoRecord) -> Any:
    """Fill ``rec`` from the container; return its first video stream (or None)."""
    meta: dict[str, str] = dict(container.metadata)
    video = container.streams.video[0] if container.streams.video else None
    audio = container.streams.audio[0] if container.streams.audio else None
    for stream in (video, audio):
        if stream is not None:
            meta = {**stream.metadata, **meta}  # container keys win
    if container.duration:
        rec.duration = container.duration / 1_000_000  # AV_TIME_BASE: microseconds
    elif video is not None and video.duration and video.time_base:
        rec.duration = float(video.duration * video.time_base)
    if video is not None:
        rec.video_codec = video.codec_context.name
        rec.width, rec.height = video.codec_context.width, video.codec_context.height
        rec.fps = rate(video) or None
    if audio is not None:
        rec.audio_codec = audio.codec_context.name
    rec.creation_time = next((t for k in _TIME_KEYS if (t := _time(_first(meta, (k,))))), None)
    rec.make, rec.model = _first(meta, _MAKE_KEYS), _first(meta, _MODEL_KEYS)
    location = _first(meta, _LOCATION_KEYS)
    place = parse_iso6709(location) if location else None
    if place:
        rec.gps_lat, rec.gps_lon, rec.gps_alt = place
    return video
