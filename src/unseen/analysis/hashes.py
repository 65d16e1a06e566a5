"""Cryptographic hashes of the whole content: MD5, SHA-1, SHA-256 in one read."""

from __future__ import annotations

import hashlib

from unseen.analysis.base import ANALYSERS, FileAnalyser, ItemContext

CHUNK = 1024 * 1024


class HashAnalyser(FileAnalyser):
    NAME = "hashes"
    VERSION = "1"
    DESCRIPTION = "MD5, SHA-1 and SHA-256 of the content, and its true size"
    DEPENDS_ON = ("filetype",)

    def analyse(self, ctx: ItemContext) -> None:
        md5, sha1, sha256 = hashlib.md5(), hashlib.sha1(), hashlib.sha256()
        parts: list[bytes] = [ctx.head]
        size = len(ctx.head)
        for h in (md5, sha1, sha256):
            h.update(ctx.head)
        limit = ctx.settings.max_image_bytes
        while chunk := ctx.stream.read(CHUNK):
            size += len(chunk)
            for h in (md5, sha1, sha256):
                h.update(chunk)
            if ctx.keep_content:
                parts.append(chunk)
                if size > limit:  # the file grew past what its size promised
                    ctx.keep_content, parts = False, []
        if ctx.keep_content:
            ctx.data = b"".join(parts)
        rec = ctx.record
        rec.size, rec.md5, rec.sha1, rec.sha256 = (
            size,
            md5.hexdigest(),
            sha1.hexdigest(),
            sha256.hexdigest(),
        )


ANALYSERS.register(HashAnalyser)
