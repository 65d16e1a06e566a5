"""Exact duplicates: the same SHA-256 in several places is one picture to review."""

from __future__ import annotations

from array import array
from collections.abc import Iterator

import numpy as np
from sqlalchemy import Connection

from unseen.core.batches import batched
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, SameReason
from unseen.correlation.facts import Facts

LABELS = 500  # groups whose first member's path is read at once


class DuplicateGrouping(Grouping):
    NAME = "duplicates"
    VERSION = "1"
    KIND = "duplicate"
    DESCRIPTION = "identical content (same SHA-256) in several places"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        for copies in batched(_copies(facts), LABELS):
            found = facts.get(ids[0] for _, ids in copies)
            for sha256, ids in copies:
                yield Cluster(
                    self.KIND,
                    sha256,
                    f"{len(ids)} copies of {found[ids[0]].path}",
                    1.0,
                    SameReason(ids, f"SHA-256 {sha256[:16]}…"),
                )


def _copies(facts: Facts) -> Iterator[tuple[str, array[int]]]:
    """Each SHA-256 that several pictures have, in hash order, with their ids in id
    order: sorted as 64 bytes and an id a picture (a dict of a million hashes as
    strings held a quarter of a gigabyte)."""
    hashes, ids = bytearray(), array("q")
    for f in facts.scan("sha256", "mime"):
        if f.sha256 and f.is_image:
            hashes += f.sha256.encode().ljust(64)[:64]
            ids.append(f.id)
    keys = np.frombuffer(bytes(hashes), dtype="S64")
    order = np.argsort(keys, kind="stable")  # ids ascend within a hash
    keys, sorted_ids = keys[order], np.frombuffer(ids, dtype=np.int64)[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if end - start > 1:
            yield keys[start].decode().rstrip(), array("q", sorted_ids[start:end].tolist())


GROUPINGS.register(DuplicateGrouping)
