"""VICS JSON (Project VIC), 1.x and 2.0, hash-set (``#Media``) and case (``#Cases``) shapes.

See anchors.md section 3.2. The context URL (``@odata.context`` in 2.0,
``odata.metadata`` in 1.x) must come before ``value`` (OData puts it first); it gives
the shape and the profile (``.../2.0.xml/UK/$metadata#Cases``). Records are streamed
with ijson (its C backend when installed): memory stays flat however long the file.
``Category`` stays a number here; the library reads it through the profile's table.

JSON cannot be resynchronised after a syntax error, so a truncated or malformed file
fails whole, naming the last record read; a record that is well-formed JSON but
unusable (bad hash, non-numeric category) is rejected on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import ijson

from unseen.matching.formats.base import (
    FORMATS,
    MAX_EXTRA_TEXT,
    BadFile,
    BadRecord,
    FileHeader,
    HashSetFormat,
    RawEntry,
    Rejected,
    keep_value,
    make_entry,
)

CONTEXT_KEYS = ("@odata.context", "odata.metadata")
_CONTEXT = re.compile(
    r"DataModels/(?P<version>\d+(?:\.\d+)*)\.xml"
    r"(?:/(?P<profile>[^/$#]+))?/?(?:\$metadata)?#(?P<entity>\w+)"
)
_SCALARS = (str, int, float, bool)
PREFIXES = {"Media": "value.item", "Cases": "value.item.Media.item"}
_MAX_HEADER_EVENTS = 100_000  # top-level events read looking for the context
# Media keys stored in their own columns, or not worth keeping per entry.
_NOT_EXTRA = {"MD5", "SHA1", "SHA256", "Category", "Series", "AlternativeHashes",
              "MediaFiles", "MediaMetadata", "Exifs"}  # fmt: skip


class VicsFormat(HashSetFormat):
    NAME = "vics"
    DESCRIPTION = "Project VIC VICS JSON 1.x/2.0 (#Media hash sets or #Cases exports)"
    NUMBERED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._entity = "Media"

    @staticmethod
    def sniff(head: bytes) -> bool:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return text.startswith(b"{") and any(f'"{k}"'.encode() in head for k in CONTEXT_KEYS)

    def header(self) -> FileHeader:
        context = self._context()
        match = _CONTEXT.search(context)
        if match is None:
            raise BadFile("header", f"unrecognised VICS context {context[:200]!r}")
        entity = match["entity"]
        if entity not in PREFIXES:
            raise BadFile("header", f"VICS entity set {entity!r} is not Media or Cases")
        self._entity = entity
        return FileHeader(profile=match["profile"], has_categories=True)

    def _context(self) -> str:
        with self.path.open("rb") as stream:
            try:
                events = ijson.parse(stream)
                for count, (prefix, event, value) in enumerate(events):
                    if count > _MAX_HEADER_EVENTS or (prefix, value) == ("", "value"):
                        break
                    if prefix in CONTEXT_KEYS and event == "string":
                        return str(value)
            except (ijson.JSONError, ValueError) as exc:
                raise BadFile("header", f"not JSON: {exc}") from exc
        raise BadFile("header", "no @odata.context or odata.metadata before 'value'")

    def records(self) -> Iterator[RawEntry | Rejected]:
        number = 0
        with self.path.open("rb") as stream:
            try:
                for media in ijson.items(stream, PREFIXES[self._entity], use_float=True):
                    number += 1
                    ref = f"record {number}"
                    try:
                        yield _entry(ref, media)
                    except BadRecord as exc:
                        yield Rejected(ref, str(exc))
            except (ijson.JSONError, ValueError) as exc:
                raise BadFile(
                    f"record {number + 1}",
                    f"malformed or truncated JSON after record {number}: {exc}",
                ) from exc


def _entry(ref: str, media: object) -> RawEntry:
    if not isinstance(media, dict):
        raise BadRecord("Media record is not a JSON object")
    hashes: dict[str, object] = {
        "md5": media.get("MD5"),
        "sha1": media.get("SHA1"),
        "sha256": media.get("SHA256"),
    }
    # OData annotations (odata.id, ...@odata.navigationLinkUrl) are lower case by spec.
    extra: dict[str, Any] = {
        key: keep_value(value) if type(value) is str and len(value) > MAX_EXTRA_TEXT else value
        for key, value in media.items()
        if isinstance(value, _SCALARS) and key not in _NOT_EXTRA and "odata" not in key
    }
    _alternative_hashes(media.get("AlternativeHashes"), hashes, extra)
    files = media.get("MediaFiles")
    if isinstance(files, list):
        extra["MediaFiles"] = len(files)  # instances in the exporting case
    return make_entry(ref, hashes, _category(media.get("Category")), media.get("Series"), extra)


def _alternative_hashes(
    alternatives: object, hashes: dict[str, object], extra: dict[str, Any]
) -> None:
    """VICS 1.x keeps SHA-1 (and PhotoDNA) in ``AlternativeHashes``."""
    if not isinstance(alternatives, list):
        return
    for alt in alternatives:
        if not isinstance(alt, dict):
            continue
        name = str(alt.get("HashName", "")).lower().replace("-", "")
        if name in hashes and not hashes[name]:
            hashes[name] = alt.get("HashValue")
        elif name == "photodna" and "PhotoDNA" not in extra:
            extra["PhotoDNA"] = keep_value(alt.get("HashValue"))


def _category(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}\s*", value):
        return int(value)
    raise BadRecord(f"Category {str(value)[:40]!r} is not a number")


FORMATS.register(VicsFormat)
