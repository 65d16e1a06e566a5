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


class FileTypeAnalyser(FileAnalyser):
    NAME = "filetype"
    VERSION = "1"
    DESCRIPTION = "MIME type sniffed from the content with libmagic"

    def analyse(self, ctx: ItemContext) -> None:
        ctx.record.mime = sniff(ctx.head)
        size = ctx.task.size or 0
        ctx.keep_content = (
            ctx.record.mime.startswith("image/") and size <= ctx.settings.max_image_bytes
        )


ANALYSERS.register(FileTypeAnalyser)
