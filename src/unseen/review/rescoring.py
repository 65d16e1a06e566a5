"""Decisions on big groups re-scored in the background of the review server.

A decision whose groups hold many members is queued by ``feedback.rescore_or_queue``
instead of re-scored inside the reviewer's click; each server process drains the
queue in a thread of its own, computing outside the write lock (given ``read``) and
writing in short transactions, so the reviewer gets the answer at once, a further
decision waits for one batch at most, and the leads catch up in seconds.

The same thread keeps big groups' best pictures again when the leads page had to
rank them (``correlation.candidates.refill``), a group per write transaction: after
an upgrade no group has any kept, and ranking 200 camera-sized groups in the page's
own write transaction would hold the write lock for seconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import Connection

from unseen.correlation import candidates, feedback

log = logging.getLogger(__name__)


class Rescorer:
    """Drains the re-scoring queue in one background thread per process, on demand."""

    def __init__(
        self,
        write: Callable[[], AbstractContextManager[Connection]],
        read: Callable[[], AbstractContextManager[Connection]] | None = None,
    ) -> None:
        """``read``: connections for computing (without it, computing holds the write
        lock of a ``write`` transaction)."""
        self._write = write
        self._read = read
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self._groups: set[int] = set()  # big groups whose best pictures to keep again

    def keep_again(self, groups: list[int]) -> None:
        """Keep these groups' best pictures again, in the background."""
        if groups:
            with self._lock:
                self._groups.update(groups)
            self.wake()

    def wake(self) -> None:
        """Drain the queue now (in the background); if draining, look once more after."""
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        threading.Thread(target=self._run, name="unseen-rescore", daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                feedback.drain(self._write, self._read)
                self._keep_groups()
            except Exception:
                # The entry stays queued (its transaction rolled back) and the leads
                # page keeps saying so; the next decision or start tries again.
                log.exception("re-scoring a queued decision or keeping a group failed")
                with self._lock:
                    self._running = self._again = False
                return
            with self._lock:
                if not self._again:
                    self._running = False
                    return
                self._again = False

    def _keep_groups(self) -> None:
        while True:
            with self._lock:
                if not self._groups:
                    return
                group = self._groups.pop()
            with self._write() as conn:
                candidates.refill(conn, [group])
