"""Content type from the bytes (libmagic), never from the file name."""

from __future__ import annotations

import magic

from unseen.analysis.base import ANALYSERS, FileAnalyser, ItemContext

HEAD_BYTES = 64 * 1024
EMPTY = "application/x-empty"  # what libmagic calls no content at all

_magic: magic.Magic | None = None


def sniff(head: bytes) -> str:
    """MIME type of content from its first bytes, e.g. ``image/jpeg``."""
    global _magic
    if not head:
        return EMPTY
    if _magic is None:
        _magic = magic.Magic(mime=True)
    return str(_magic.from_buffer(head))


# Extensions that honestly name each picture and video type. A picture or video under
# any other name (holiday.txt, track01.mp3) is a classic way of hiding it.
EXTENSIONS: dict[str, frozenset[str]] = {
    "image/jpeg": frozenset({"jpg", "jpeg", "jpe", "jfif", "jif", "thm"}),
    "image/png": frozenset({"png", "apng"}),
    "image/gif": frozenset({"gif"}),
    "image/bmp": frozenset({"bmp", "dib"}),
    "image/x-ms-bmp": frozenset({"bmp", "dib"}),
    "image/tiff": frozenset({"tif", "tiff", "dng", "nef", "cr2", "arw"}),
    "image/webp": frozenset({"webp"}),
    "image/heic": frozenset({"heic", "heif", "hif"}),
    "image/heif": frozenset({"heic", "heif", "hif"}),
    "video/mp4": frozenset({"mp4", "m4v", "mp4v", "3gp", "mov"}),
    "video/quicktime": frozenset({"mov", "qt", "mp4", "m4v"}),
    "video/3gpp": frozenset({"3gp", "3gpp", "mp4"}),
    "video/x-msvideo": frozenset({"avi"}),
    "video/x-matroska": frozenset({"mkv", "mka"}),
    "video/webm": frozenset({"webm", "mkv"}),
    "video/x-ms-asf": frozenset({"wmv", "asf"}),
    "video/x-flv": frozenset({"flv"}),
}
MEDIA_EXTENSIONS = frozenset().union(*EXTENSIONS.values())


def extension_mismatch(path: str, mime: str) -> bool | None:
    """Whether the name hides what the content is: a known picture or video type under
    another extension, or a picture/video extension on other content. None: no opinion
    (types we hold no list for, empty files under other names)."""
    name = path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name.strip(".") else ""
    if mime in EXTENSIONS:
        return ext not in EXTENSIONS[mime]
    # An empty file under a picture or video name hides nothing, but it is not what
    # its name says either (wiped or never written): flagged like other non-pictures.
    return True if ext in MEDIA_EXTENSIONS else None


class FileTypeAnalyser(FileAnalyser):
    NAME = "filetype"
    VERSION = "2"
    DESCRIPTION = "MIME type sniffed from the content with libmagic; names that hide it"

    def analyse(self, ctx: ItemContext) -> None:
        ctx.record.mime = sniff(ctx.head)
        ctx.record.extension_mismatch = extension_mismatch(ctx.task.path, ctx.record.mime)
        size = ctx.task.size or 0
        ctx.keep_content = (
            ctx.record.mime.startswith("image/") and size <= ctx.settings.max_image_bytes
        )


ANALYSERS.register(FileTypeAnalyser)
