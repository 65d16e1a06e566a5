"""A test-only analyser that crashes its worker process on one file, like a decoder
dereferencing a bad pointer would. It is registered only inside the pool's workers."""

from __future__ import annotations

import ctypes
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing import get_context

from unseen.analysis.base import ANALYSERS, FileAnalyser, ItemContext

CRASH_ON = "boom.bin"


class SegfaultOnOneFile(FileAnalyser):
    NAME = "test_segfault_on_one_file"
    VERSION = "1"
    DESCRIPTION = "test only: reads address 0 (SIGSEGV) on the file named boom.bin"

    def analyse(self, ctx: ItemContext) -> None:
        if ctx.task.path.rsplit("/", 1)[-1] == CRASH_ON:
            ctypes.string_at(0)  # a real segmentation fault: the process dies at once


def _register_in_worker() -> None:
    ANALYSERS.register(SegfaultOnOneFile)


def crashing_pool(workers: int) -> Executor:
    """A process pool (fresh interpreters) whose workers run the crashing analyser."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=_register_in_worker
    )
