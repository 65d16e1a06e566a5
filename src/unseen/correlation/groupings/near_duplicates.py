"""Near-duplicates: pictures whose PDQ hashes are within the PDQ radius (``Settings``:
31 bits unless the case sets another; resized,
recompressed, lightly edited, rotated or mirrored copies: the eight dihedral hashes
are compared too), collapsed so each picture is reviewed once."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection

from unseen.core.settings import Settings
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import ItemFacts, dihedral_lists
from unseen.correlation.near import pairs_within
from unseen.correlation.unionfind import UnionFind
from unseen.matching.signals import Pdq

MIN_QUALITY = Pdq.MIN_QUALITY  # below this PDQ is unreliable (featureless pictures)


class NearDuplicateGrouping(Grouping):
    NAME = "near_duplicates"
    VERSION = "1"
    KIND = "near_duplicate"
    # The default radius: a case that sets its own groups (and records) by that one.
    DESCRIPTION = (
        f"PDQ within {Settings().pdq_radius} bits, rotations and mirrors too "
        f"(quality >= {MIN_QUALITY})"
    )

    def group(self, facts: list[ItemFacts], conn: Connection) -> Iterator[Cluster]:
        hashed = [f for f in facts if f.pdq and (f.pdq_quality or 0) >= MIN_QUALITY]
        radius = self.settings.pdq_radius
        variants = dihedral_lists(conn, hashed)
        links = pairs_within([f.pdq for f in hashed if f.pdq], radius, variants)
        uf = UnionFind()
        closest: dict[int, int] = {}
        for i, j, d in links:
            a, b = hashed[i].id, hashed[j].id
            uf.union(a, b)
            closest[a] = min(closest.get(a, 256), d)
            closest[b] = min(closest.get(b, 256), d)
        by_id = {f.id: f for f in hashed}
        # One string per distance, shared by the members at it.
        said = {d: f"PDQ within {d} bits of another member" for d in range(radius + 1)}
        for group in uf.groups():
            if len(group) < 2:
                continue
            first = by_id[group[0]]
            yield Cluster(
                self.KIND,
                first.pdq or "",
                f"{len(group)} near-identical pictures like {first.path}",
                1.0,
                tuple(Member(i, said[closest[i]]) for i in group),
                {"radius": radius, "min_quality": MIN_QUALITY},
            )


GROUPINGS.register(NearDuplicateGrouping)
