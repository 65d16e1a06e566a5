"""Evidence paths as a worker on another machine sees them.

A cluster's workers may mount the evidence elsewhere than the client (``--path-map
/cases=/mnt/cases``). Every task handed to a remote worker goes through ``map_task``,
which rewrites each evidence source it holds (anywhere in its fields) to the worker's
path, and refuses the task with ``SourceUnreachable`` when this worker cannot see the
source at all, so the cluster can try it on another.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Callable
from typing import Any, TypeVar

from unseen.core.models import SourceSpec

T = TypeVar("T")
R = TypeVar("R")
PathMap = tuple[tuple[str, str], ...]


class SourceUnreachable(Exception):
    """This worker cannot see a source at all (a missing mount): another worker may.

    Raised out of the task rather than recorded on the items, so the executor can run
    it elsewhere; the main process records it only when no worker could.
    """


class TaskLost(Exception):
    """The cluster ended a task with neither its result nor its error (cancelled by
    the scheduler, as when the worker it ran on died): the fan-out runs it again,
    alone, and records it on the item if it is lost alone too."""


def mapped(path: str, path_map: PathMap) -> str:
    """``path`` as a worker sees it: the first (here, there) prefix pair that fits."""
    for here, there in path_map:
        if path == here or path.startswith(here.rstrip("/") + "/"):
            return there.rstrip("/") + path[len(here.rstrip("/")) :]
    return path


def map_source(source: SourceSpec, path_map: PathMap) -> SourceSpec:
    """The source as this worker sees it; ``SourceUnreachable`` if it sees none."""
    path = mapped(source.path, path_map)
    if not os.path.exists(path):
        raise SourceUnreachable(
            f"worker {socket.gethostname()} pid {os.getpid()} cannot reach source "
            f"{source.label} at {path}"
        )
    return dataclasses.replace(source, path=path)


def map_task(task: Any, path_map: PathMap) -> Any:
    """``task`` with every ``SourceSpec`` in it (in dataclass fields and tuples, at any
    depth) mapped for this worker; everything else is returned as it is."""
    if isinstance(task, SourceSpec):
        return map_source(task, path_map)
    if isinstance(task, tuple):
        return tuple(map_task(part, path_map) for part in task)
    if dataclasses.is_dataclass(task) and not isinstance(task, type):
        changes = {}
        for f in dataclasses.fields(task):
            value = getattr(task, f.name)
            new = map_task(value, path_map)
            if new is not value:
                changes[f.name] = new
        return dataclasses.replace(task, **changes) if changes else task
    return task


def remote_batch(work: Callable[[list[T]], list[R]], path_map: PathMap, tasks: list[T]) -> list[R]:
    """``work`` on a remote worker: the tasks' sources mapped to its paths first."""
    return work([map_task(task, path_map) for task in tasks])
