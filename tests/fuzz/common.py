"""What every fuzz harness shares: bounded examples, a hang guard, hostile byte strategies.

Each harness states, per parser, the error types that parser is allowed to raise on
bad input: the types the project records cleanly against the item. Anything else
(IndexError, struct.error, RecursionError...) is a finding: Hypothesis shrinks it to
a minimal input, which then becomes a regression test beside the fix.

CI runs a smoke (``FUZZ_EXAMPLES`` per property, derandomised so a failure is
reproducible); ``make fuzz`` sets ``UNSEEN_FUZZ_EXAMPLES`` high and explores at random.
"""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_LONG = "UNSEEN_FUZZ_EXAMPLES" in os.environ
FUZZ_EXAMPLES = int(os.environ.get("UNSEEN_FUZZ_EXAMPLES", "40"))
# A hang guard, not a speed test: one example taking this long means a loop that does
# not end (or a decompression that should have been refused), never a slow machine.
HANG_SECONDS = float(os.environ.get("UNSEEN_FUZZ_HANG_SECONDS", "30"))
MAX_BYTES = 4096  # random inputs; mutated seeds keep their own size

F = TypeVar("F", bound=Callable[..., Any])


def fuzz_settings(examples: int | None = None) -> Callable[[F], F]:
    """Hypothesis settings of a property: bounded count, no deadline, reproducible in CI."""
    return settings(
        max_examples=examples if examples is not None and not _LONG else FUZZ_EXAMPLES,
        deadline=None,
        derandomize=not _LONG,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
            HealthCheck.large_base_example,
        ],
    )


class Hang(BaseException):
    """An example ran past HANG_SECONDS (a BaseException: parsers must not swallow it)."""


@contextmanager
def bounded(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Raise ``Hang`` in the calling (main) thread after ``seconds``.

    Uses SIGALRM, like pytest-timeout: its pending timer is saved and put back.
    """

    def on_alarm(_signum: int, _frame: object) -> None:
        raise Hang(f"no result within {seconds} s")

    old_handler = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            left = max(0.001, old_delay - (time.monotonic() - start))
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


def read_everything(reader_name: str, data: bytes, limits: Any, members: int, read: int) -> None:
    """Open ``data`` with a container reader, list it and read up to ``members`` members
    (``read`` bytes each), as the fast pass would; within the reader contract, opening
    a member may fail with ``OSError`` or ``EvidenceError`` and the rest goes on."""
    from unseen.core.errors import EvidenceError
    from unseen.sources.containers import CONTAINERS

    try:
        reader = CONTAINERS.get(reader_name)(io.BytesIO(data))
    except EvidenceError:
        return
    for n, member in enumerate(reader.members(limits)):
        if n >= members:
            break
        try:
            with reader.open_member(member.entry.locator) as stream:
                stream.read(read)
        except (OSError, EvidenceError):
            continue


def only(allowed: tuple[type[BaseException], ...], call: Callable[[], object]) -> None:
    """Run ``call`` under the hang guard; an allowed error is fine, any other propagates."""
    with bounded(), suppress(allowed):
        call()


_EDITS = ("flip", "set", "insert", "delete", "truncate", "repeat")


def _apply(seed: bytes, edits: Sequence[tuple[str, int, bytes]]) -> bytes:
    data = bytearray(seed)
    for kind, where, chunk in edits:
        at = where % (len(data) + 1)
        if kind == "flip" and at < len(data):
            data[at] ^= chunk[0] or 0xFF
        elif kind == "set":
            data[at : at + len(chunk)] = chunk
        elif kind == "insert":
            data[at:at] = chunk
        elif kind == "delete":
            del data[at : at + chunk[0]]
        elif kind == "truncate":
            del data[at:]
        elif kind == "repeat":
            data[at:at] = bytes(data[at : at + 64]) * (1 + chunk[0] % 4)
    return bytes(data)


# Values that make length and count fields interesting.
_SPECIAL = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff\xff\xff", b"\x00\x00\x00\x80"]


def mutated(seed: bytes, max_edits: int = 6) -> st.SearchStrategy[bytes]:
    """``seed`` with a few byte edits: valid-looking input that goes wrong somewhere."""
    chunk = st.one_of(st.sampled_from(_SPECIAL), st.binary(min_size=1, max_size=8))
    edit = st.tuples(st.sampled_from(_EDITS), st.integers(0, max(len(seed), 1) * 2), chunk)
    return st.lists(edit, min_size=1, max_size=max_edits).map(lambda e: _apply(seed, e))


def hostile(*seeds: bytes, max_random: int = MAX_BYTES) -> st.SearchStrategy[bytes]:
    """Random bytes, a seed's own prefix, or a mutated seed."""
    options: list[st.SearchStrategy[bytes]] = [st.binary(max_size=max_random)]
    for seed in seeds:
        options.append(mutated(seed))
        options.append(st.integers(0, len(seed)).map(lambda n, s=seed: s[:n]))
    return st.one_of(*options)
