"""Identities: the faces of the case clustered into people, across pictures.

Reads the ``faces`` rows of the deep pass. Two faces are neighbours when their dlib
embeddings lie closer than ``identity_threshold`` (0.5: stricter than dlib's 0.6 same-person
line, because a false link sends an examiner after the wrong person). Chinese
whispers over that graph (Biemann 2006; dlib's own face clustering) forms the
communities: each face takes the label most of its neighbours carry, so two people
joined by one borderline pair stay apart. A community is then cut so that every two
faces of an identity are closer than ``identity_pair_max`` (complete linkage, greedily from
the community's centre outwards), so no chain of look-alikes can join two faces dlib
would call different people. An identity needs its faces in at least two pictures.

Deterministic: faces are visited in id order and ties go to the lowest label. Cost:
the neighbour search compares every pair of faces, one float32 matrix product per
block (5-15 s for 20,000 faces on two busy cores, growing with the square of the
count); a face keeps at most ``identity_max_neighbours`` nearest neighbours, and Chinese
whispers then takes under a second. The thresholds are the run's settings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import numpy as np
from sqlalchemy import Connection

from unseen.core.settings import Settings
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import ItemFacts
from unseen.correlation.search import FaceRow, load_faces, pairwise_distances

DEFAULT = Settings()
_BLOCK_CELLS = 4_000_000  # distance-matrix cells computed at once (16 MB of float32)


class IdentityGrouping(Grouping):
    NAME = "identities"
    VERSION = "1"
    KIND = "identity"
    DESCRIPTION = (
        f"faces clustered into people (dlib embeddings closer than {DEFAULT.identity_threshold:g})"
    )

    def group(self, facts: list[ItemFacts], conn: Connection) -> Iterator[Cluster]:
        present = {f.id for f in facts}
        faces = [f for f in load_faces(conn) if f.item_id in present]
        if len(faces) < 2:
            return
        vectors = np.stack([f.embedding for f in faces])
        found = cluster_faces(vectors, self.settings)
        groups = [g for g in found if len({faces[k].item_id for k in g}) >= 2]
        # F1 is the identity in most pictures; ties by the earliest face.
        groups.sort(key=lambda g: (-len({faces[k].item_id for k in g}), -len(g), g[0]))
        for number, group in enumerate(groups, 1):
            centre = vectors[group].mean(axis=0)
            spread = np.linalg.norm(vectors[group] - centre, axis=1)
            distances = [round(float(d), 4) for d in spread]
            threshold = self.settings.identity_threshold
            yield _cluster(
                self.KIND, f"F{number}", [faces[k] for k in group], distances, threshold
            )


Graph = list[list[tuple[int, float]]]  # per node: (neighbour, distance), nearest first


def neighbours(
    vectors: np.ndarray,
    threshold: float = DEFAULT.identity_threshold,
    keep: int = DEFAULT.identity_max_neighbours,
) -> Graph:
    """For each row, the ``keep`` nearest other rows closer than ``threshold``, with
    their distances."""
    # float32 halves the matrix products' time; distances stay within 1e-5.
    single = vectors.astype(np.float32)
    block = max(1, _BLOCK_CELLS // len(vectors))
    found: Graph = []
    for start in range(0, len(vectors), block):
        matrix = pairwise_distances(single[start : start + block], single)
        rows, cols = np.nonzero(matrix < threshold)
        bounds = np.cumsum(np.bincount(rows, minlength=len(matrix)))[:-1]
        for offset, close in enumerate(np.split(cols, bounds)):
            close = close[close != start + offset]
            near = matrix[offset, close]
            order = np.lexsort((close, near))[:keep]
            found.append(
                [(int(k), float(d)) for k, d in zip(close[order], near[order], strict=True)]
            )
    return found


def chinese_whispers(
    graph: Graph,
    threshold: float = DEFAULT.identity_threshold,
    passes: int = DEFAULT.identity_max_passes,
) -> list[int]:
    """A label per node: each node takes the label its neighbours vote for most.

    A neighbour's vote weighs ``threshold - distance``, so a borderline link counts
    little against a person's close matches; equal votes go to the lowest label.
    """
    links: list[dict[int, float]] = [dict(adjacent) for adjacent in graph]
    for node, adjacent in enumerate(graph):
        for other, distance in adjacent:
            links[other][node] = distance  # keeping k nearest can make links one-sided
    labels = list(range(len(graph)))
    for _ in range(passes):
        changed = False
        for node, linked in enumerate(links):
            votes: dict[int, float] = defaultdict(float)
            for other, distance in linked.items():
                votes[labels[other]] += threshold - distance
            if not votes:
                continue
            best = max(votes.values())
            if votes.get(labels[node], 0.0) >= best:
                continue
            labels[node] = min(label for label, vote in votes.items() if vote == best)
            changed = True
        if not changed:
            break
    return labels


def cluster_faces(vectors: np.ndarray, settings: Settings = DEFAULT) -> list[list[int]]:
    """Identities of at least two faces (row indices, ascending), by lowest member."""
    threshold = settings.identity_threshold
    graph = neighbours(vectors, threshold, settings.identity_max_neighbours)
    labels = chinese_whispers(graph, threshold, settings.identity_max_passes)
    communities: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        communities[label].append(index)
    groups = [
        group
        for members in communities.values()
        if len(members) >= 2
        for group in complete_link(vectors, members, settings.identity_pair_max)
    ]
    return sorted(groups, key=lambda g: g[0])


def complete_link(
    vectors: np.ndarray, members: list[int], pair_max: float = DEFAULT.identity_pair_max
) -> list[list[int]]:
    """``members`` cut into groups of at least two whose every pair is under ``pair_max``.

    Faces join the current group nearest the centre first when they are close enough
    to every face already in it; the rest start over, until fewer than two are left.
    """
    groups: list[list[int]] = []
    remaining = members
    while len(remaining) >= 2:
        centre = vectors[remaining].mean(axis=0)
        spread = np.linalg.norm(vectors[remaining] - centre, axis=1)
        order = [remaining[k] for k in np.lexsort((remaining, spread))]
        farthest = np.zeros(len(order))  # distance to the farthest face kept so far
        kept = np.zeros(len(order), dtype=bool)
        for k, member in enumerate(order):
            if farthest[k] < pair_max:
                kept[k] = True
                row = pairwise_distances(vectors[member][None, :], vectors[order])[0]
                farthest = np.maximum(farthest, row)
        if kept.sum() >= 2:
            groups.append(sorted(m for m, keep in zip(order, kept, strict=True) if keep))
        remaining = [m for m, keep in zip(order, kept, strict=True) if not keep]
    return groups


def _cluster(
    kind: str, name: str, faces: list[FaceRow], distances: list[float], threshold: float
) -> Cluster:
    by_item: dict[int, list[tuple[float, FaceRow]]] = defaultdict(list)
    for face, distance in zip(faces, distances, strict=True):
        by_item[face.item_id].append((distance, face))
    label = f"identity {name} ({len(faces)} faces in {len(by_item)} pictures)"
    members = []
    for item_id in sorted(by_item):
        distance, face = min(by_item[item_id], key=lambda pair: (pair[0], pair[1].id))
        x, y, w, h = face.box
        reason = f"face at {x},{y} ({w}x{h} px), distance {distance:.2f} to {name}'s centre"
        if len(by_item[item_id]) > 1:
            reason += f"; {len(by_item[item_id])} faces of {name} in this picture"
        members.append(Member(item_id, reason, round(1.0 - distance, 3)))
    first = min(faces, key=lambda f: (f.item_id, f.box))
    mean = sum(distances) / len(distances)
    return Cluster(
        kind,
        f"{first.item_id}:{','.join(map(str, first.box))}",
        label,
        round(max(0.0, 1.0 - mean), 2),
        tuple(members),
        {
            "name": name,
            "faces": len(faces),
            "pictures": len(by_item),
            "face_ids": [f.id for f in faces],
            "distances": distances,
            "mean_distance": round(mean, 4),
            "threshold": threshold,
        },
    )


GROUPINGS.register(IdentityGrouping)
