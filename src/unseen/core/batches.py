"""Cutting long sequences into batches: executemany calls, worker batches, IN lists."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")

# Ids per ``IN (...)`` list: far below SQLite's bound-parameter limit, and few
# round trips.
IN_LIST = 500


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items (``itertools.batched`` is 3.12+)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def id_lists(ids: Iterable[int], size: int = IN_LIST) -> Iterator[list[int]]:
    """The distinct ``ids`` in ascending order, as ``IN (...)`` lists of at most ``size``."""
    return batched(sorted(set(ids)), size)
