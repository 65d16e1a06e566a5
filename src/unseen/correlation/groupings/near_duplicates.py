"""Near-duplicates: pictures whose PDQ hashes are within the PDQ radius (``Settings``:
31 bits unless the case sets another; resized,
recompressed, lightly edited, rotated or mirrored copies: the eight dihedral hashes
are compared too), collapsed so each picture is reviewed once."""

from __future__ import annotations

from array import array
from collections.abc import Iterator

import numpy as np
from sqlalchemy import Connection

from unseen.core.batches import batched
from unseen.core.settings import Settings
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import Facts, dihedral_lists
from unseen.correlation.groupings.duplicates import LABELS
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

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        # Each hashed picture's id and packed PDQ: 40 bytes a picture.
        ids, packed = array("q"), bytearray()
        for f in facts.scan("pdq", "pdq_quality"):
            if f.pdq and (f.pdq_quality or 0) >= MIN_QUALITY and Pdq.is_valid(f.pdq):
                ids.append(f.id)
                packed += bytes.fromhex(f.pdq)
        codes = np.frombuffer(bytes(packed), dtype=np.uint8).reshape(-1, 32)
        del packed
        radius = self.settings.pdq_radius
        own = ((i, codes[k].tobytes().hex()) for k, i in enumerate(ids))
        links = pairs_within(codes, radius, dihedral_lists(conn, own))
        uf = UnionFind()
        closest: dict[int, int] = {}
        for i, j, d in links:
            a, b = ids[i], ids[j]
            uf.union(a, b)
            closest[a] = min(closest.get(a, 256), d)
            closest[b] = min(closest.get(b, 256), d)
        # One string per distance, shared by the members at it.
        said = {d: f"PDQ within {d} bits of another member" for d in range(radius + 1)}
        groups = [g for g in uf.groups() if len(g) > 1]
        for chunk in batched(groups, LABELS):
            first = facts.get(g[0] for g in chunk)
            for group in chunk:
                lead = first[group[0]]
                yield Cluster(
                    self.KIND,
                    lead.pdq or "",
                    f"{len(group)} near-identical pictures like {lead.path}",
                    1.0,
                    tuple(Member(i, said[closest[i]]) for i in group),
                    {"radius": radius, "min_quality": MIN_QUALITY},
                )


GROUPINGS.register(NearDuplicateGrouping)
