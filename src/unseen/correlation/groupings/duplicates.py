"""Exact duplicates: the same SHA-256 in several places is one picture to review."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import Connection

from unseen.correlation.base import GROUPINGS, Cluster, Grouping, SameReason
from unseen.correlation.facts import ItemFacts


class DuplicateGrouping(Grouping):
    NAME = "duplicates"
    VERSION = "1"
    KIND = "duplicate"
    DESCRIPTION = "identical content (same SHA-256) in several places"

    def group(self, facts: list[ItemFacts], conn: Connection) -> Iterator[Cluster]:
        by_hash: dict[str, list[ItemFacts]] = defaultdict(list)
        for f in facts:
            if f.sha256 and f.is_image:
                by_hash[f.sha256].append(f)
        for sha256, members in sorted(by_hash.items()):
            if len(members) < 2:
                continue
            yield Cluster(
                self.KIND,
                sha256,
                f"{len(members)} copies of {members[0].path}",
                1.0,
                SameReason((m.id for m in members), f"SHA-256 {sha256[:16]}…"),
            )


GROUPINGS.register(DuplicateGrouping)
