"""Typed records that travel between sources, workers and the case store.

Everything here is picklable so that per-item work can run in another process (or on
another machine) and send back plain data to the single writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """Enough to reopen an evidence source anywhere: what it is and where it lies."""

    id: int
    kind: str
    path: str
    label: str
    # Keys for encrypted volumes, ``(volume, key)`` as given to ``unseen add --key``: kept
    # out of repr (logs, tracebacks) and of equality (the same source, whatever its keys).
    keys: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing a source enumerates: a file, folder, link or something unreadable.

    Attributes:
        path: display path relative to the source root, ``/``-separated.
        locator: what the source needs to reopen the entry (for a folder: the raw
            relative path bytes). Opaque to everything but the source.
        kind: ``file``, ``dir``, ``symlink`` or ``other`` (devices, sockets, FIFOs).
        size: size in bytes as the file system states it.
        mtime, atime, ctime: file-system times, seconds since 1970-01-01 UTC.
        errors: problems met while listing it (unreadable folder, bad name, ...).
        deleted: found in a disk image as a deleted file (its name survives).
        carved: recovered by carving unallocated space, not from file-system metadata.
        offset: byte offset of a carved item in the disk image that holds it.
        volume: the partition of a disk image the item lies in (``p2``), if any.
        snapshot: the volume shadow copy it was found in, if any (none are read yet).
    """

    path: str
    locator: bytes
    kind: str = "file"
    size: int | None = None
    mtime: float | None = None
    atime: float | None = None
    ctime: float | None = None
    link_target: str | None = None
    errors: tuple[str, ...] = ()
    deleted: bool = False
    carved: bool = False
    offset: int | None = None
    volume: str | None = None
    snapshot: int | None = None


@dataclass(frozen=True, slots=True)
class ItemTask:
    """A unit of per-item work: the item's id in the case and how to reopen it."""

    item_id: int
    source: SourceSpec
    path: str
    locator: bytes
    size: int | None


@dataclass(slots=True)
class ExifRecord:
    """What the camera wrote, normalised (decimal signed degrees, ISO 8601 times)."""

    make: str | None = None
    model: str | None = None
    serial: str | None = None
    lens: str | None = None
    software: str | None = None
    datetime_original: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_alt: float | None = None
    orientation: int | None = None
    thumbnail: bool = False
    # The tag the serial was read from: EXIF BodySerialNumber or a maker-note tag.
    serial_source: str | None = None


@dataclass(slots=True)
class ImageRecord:
    """Decoded-image facts: size, perceptual hash and how it was produced."""

    format: str | None = None
    mode: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    # Eight 64-hex PDQ hashes of the dihedral transforms (original first), for
    # matching rotated and mirrored copies without decoding again.
    pdq_dihedral: tuple[str, ...] | None = None
    pdq_policy: str | None = None
    jpeg_qtables: str | None = None
    jpeg_quality: int | None = None
    thumbnail: str | None = None


@dataclass(slots=True)
class VideoRecord:
    """Container facts of a video and the PDQ hashes of its sampled frames.

    ``frame_hashes`` holds ``(frame_index, timestamp_s, pdq_hex, quality)`` per sampled
    frame, as vPDQ writes them; ``contact_sheet`` is relative to the case's thumbs/.
    """

    duration: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    frames: int | None = None
    creation_time: str | None = None
    make: str | None = None
    model: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    gps_alt: float | None = None
    contact_sheet: str | None = None
    frame_hashes: list[tuple[int, float, str, int]] = field(default_factory=list)


@dataclass(slots=True)
class FileRecord:
    """Everything the fast pass learnt about one item, plus what went wrong.

    ``analysers`` maps each analyser that ran to its version, so the case records
    which code produced which facts. ``children`` are new items to add to the case.
    """

    item_id: int
    size: int | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    mime: str | None = None
    # The extension names another type than the content; None when it cannot say.
    extension_mismatch: bool | None = None
    image: ImageRecord | None = None
    exif: ExifRecord | None = None
    video: VideoRecord | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    analysers: dict[str, str] = field(default_factory=dict)
    # Entries found inside this item (archive members, files of an embedded disk
    # image); their locators and paths are complete (they include this item's).
    children: list[Entry] = field(default_factory=list)
    # Which worker analysed it (``host:pid``), for the run's per-worker progress.
    worker: str | None = None

    def error(self, analyser: str, message: str) -> None:
        """Record a problem against this item; processing of other facts goes on."""
        self.errors.append((analyser, message))
