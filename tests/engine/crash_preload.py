"""Preloaded into Dask workers by the poison-item test: an analyser that kills its
worker process (a real segmentation fault) on one file, as a broken decoder would."""

from __future__ import annotations

import ctypes

from unseen.analysis.base import ANALYSERS, FileAnalyser, ItemContext

CRASH_ON = "boom.bin"


class SegfaultOnOneFile(FileAnalyser):
    NAME = "test_segfault_on_one_file"
    VERSION = "1"
    DESCRIPTION = "test only: reads address 0 (SIGSEGV) on the file named boom.bin"

    def analyse(self, ctx: ItemContext) -> None:
        if ctx.task.path.rsplit("/", 1)[-1] == CRASH_ON:
            ctypes.string_at(0)


if "test_segfault_on_one_file" not in ANALYSERS.names():
    ANALYSERS.register(SegfaultOnOneFile)
