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
up to ``identity_exact_max`` faces the neighbour search compares every pair, one
float32 matrix product per block (5-15 s for 20,000 faces on two busy cores, growing
with the square of the count). Beyond it the candidates come from an inverted file
(FAISS IVF-Flat, about n^1.5: each face is compared with the faces of its 8 nearest
of 4 x sqrt(n) cells; an HNSW graph was measured slower to build and to miss more of
the tight groups a person's faces form); either way each candidate is measured again
in float64, so the graph differs only where a face's neighbour lies outside the cells
searched (none of 360,000 links on 40,000 generated faces; and a face's community
still forms through its other neighbours). A face keeps at most
``identity_max_neighbours`` nearest neighbours, and Chinese whispers then takes
seconds at a million faces. The thresholds are the run's settings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import faiss
import numpy as np
from sqlalchemy import Connection

from unseen.core.settings import Settings
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import Facts
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

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        present = facts  # the items with content
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
    exact_max: int = DEFAULT.identity_exact_max,
) -> Graph:
    """For each row, the ``keep`` nearest other rows closer than ``threshold``, with
    their distances: all pairs compared up to ``exact_max`` rows, else candidates from
    an inverted file.

    Either search only proposes candidates (in float32, which halves the matrix
    products' time); each candidate is then measured in float64, one pair at a time,
    and that distance alone decides the threshold and the order, so both searches give
    the same graph wherever they propose the same candidates.
    """
    double = np.asarray(vectors, dtype=np.float64)
    single = np.ascontiguousarray(double, dtype=np.float32)
    search = _inverted_file_candidates if len(single) > exact_max else _all_pairs_candidates
    return [
        _measured(double, node, close, threshold, keep)
        for node, close in enumerate(search(single, threshold + _SLACK, keep))
    ]


_SLACK = 1e-3  # float32 candidates within this of the threshold are measured too
_CELLS_PER_ROOT = 4  # inverted-file cells: 4 x sqrt(faces)
_PROBES = 8  # cells searched per face
_TRAIN_PER_CELL = 64  # faces sampled per cell to place the cells
_BATCH = 4096  # queries searched at once


def _all_pairs_candidates(single: np.ndarray, within: float, keep: int) -> Iterator[np.ndarray]:
    """Every other row closer than ``within``, one distance-matrix block at a time."""
    block = max(1, _BLOCK_CELLS // len(single))
    for start in range(0, len(single), block):
        matrix = pairwise_distances(single[start : start + block], single)
        rows, cols = np.nonzero(matrix < within)
        bounds = np.cumsum(np.bincount(rows, minlength=len(matrix)))[:-1]
        yield from np.split(cols, bounds)


def _inverted_file_candidates(
    single: np.ndarray, within: float, keep: int
) -> Iterator[np.ndarray]:
    """The ``keep + 1`` nearest rows (the row itself among them) by an inverted file
    (FAISS IVF-Flat): faces are put in ``4 x sqrt(n)`` cells around k-means centres,
    and a face's neighbours are looked for in its ``_PROBES`` nearest cells only."""
    # k-means wants some 40 faces per cell to place it: fewer cells for few faces.
    cells = max(1, min(int(_CELLS_PER_ROOT * np.sqrt(len(single))), len(single) // 40))
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(single.shape[1]), single.shape[1], cells)
    picked = np.random.default_rng(0).permutation(len(single))[: _TRAIN_PER_CELL * cells]
    index.train(single[np.sort(picked)])
    index.add(single)
    index.nprobe = min(cells, _PROBES)
    for start in range(0, len(single), _BATCH):
        squared, found = index.search(single[start : start + _BATCH], keep + 1)
        for row, dist in zip(found, squared, strict=True):
            yield row[(row >= 0) & (dist < within * within)]


def _measured(
    double: np.ndarray, node: int, close: np.ndarray, threshold: float, keep: int
) -> list[tuple[int, float]]:
    close = np.unique(close[close != node])
    near = np.linalg.norm(double[close] - double[node], axis=1)
    inside = near < threshold
    close, near = close[inside], near[inside]
    order = np.lexsort((close, near))[:keep]
    return [(int(k), float(d)) for k, d in zip(close[order], near[order], strict=True)]


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
    graph = neighbours(
        vectors, threshold, settings.identity_max_neighbours, settings.identity_exact_max
    )
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
