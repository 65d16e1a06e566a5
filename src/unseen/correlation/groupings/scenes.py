"""Same scene / series: pictures of one place or one set of objects.

Reads what the ``scene`` deep analyser stored. Candidates: each picture's
``scene_neighbours`` nearest pictures by embedding cosine, if at least ``scene_min_cosine``
(FAISS inner-product search when installed, exact numpy blocks otherwise). Each
candidate pair is verified geometrically and photometrically
(:func:`unseen.correlation.scene.verify`); verified pairs are joined into clusters. A
picture none of whose candidates verified is then compared with its
``scene_lone_neighbours`` nearest pictures among those that verified (an occluded shot
of a room embeds far from the room's other shots).

Bounded on a large case: at most ``scene_neighbours`` candidates a picture and at most
``scene_max_verify`` verifications a run, most similar pairs first; verdicts are kept in
this process, so the correlation reruns of one deep pass continue where the last
stopped instead of starting over. The thresholds are the run's settings.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from unseen.core.settings import Settings
from unseen.correlation import scene
from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import Facts, ItemFacts
from unseen.correlation.unionfind import UnionFind
from unseen.store import schema as s

DEFAULT = Settings()
NLIST, NPROBE, TRAIN_SAMPLE = 1024, 16, 50_000
_CACHE_LIMIT = 2_000_000
LONE_LINKS = 2  # verified links a lone picture needs into one cluster (second search)
# (SHA-256 a, SHA-256 b, min inliers) -> (inliers, ncc, blocks, upper, top): content,
# not item ids, which every case reuses (the inlier threshold decides how far
# verification goes).
_verdicts: dict[tuple[str, str, int], tuple[int, float, float, float, float]] = {}

faiss: Any
try:
    import faiss
except ImportError:  # pragma: no cover - exact numpy search instead
    faiss = None


class SceneGrouping(Grouping):
    NAME = "scenes"
    VERSION = "2"
    KIND = "scene"
    DESCRIPTION = (
        f"same scene: embedding cosine >= {DEFAULT.scene_min_cosine:g}, then the same background "
        "verified by local features (ORB + RANSAC) and aligned pixels"
    )

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        if importlib.util.find_spec("cv2") is None:  # the scene extra: nothing to verify with
            return
        featured = conn.execute(select(s.scene_features.c.item_id)).scalars()
        by_id = {i: f for i, f in facts.get(featured).items() if f.is_image}
        ids, vectors, turned, owners = _embeddings(conn, by_id)
        st = self.settings
        pairs = candidate_pairs(
            vectors, st.scene_neighbours, st.scene_min_cosine, turned, owners, st.scene_exact_limit
        )
        sha = [by_id[i].sha256 or f"item {i}" for i in ids]
        least = st.scene_min_inliers
        budget = _verify(conn, ids, sha, pairs, least, st.scene_max_verify)
        verified = _same(pairs, sha, st)
        linked = sorted({k for _, i, j, _ in verified for k in (i, j)})
        lone = sorted(set(range(len(ids))) - set(linked))
        asked = {(i, j) for _, i, j in pairs}
        more = lone_pairs(
            vectors, lone, linked, st.scene_lone_neighbours, st.scene_min_cosine, asked
        )
        _verify(conn, ids, sha, more, least, budget)
        found = _same(more, sha, st)
        kept = set(
            lone_links([(i, j) for _, i, j, _ in verified], [(i, j) for _, i, j, _ in found])
        )
        verified += [p for p in found if (p[1], p[2]) in kept]
        verified.sort(key=lambda p: (-p[0], p[1], p[2]))
        links: list[tuple[int, int]] = []
        best: dict[int, tuple[float, int, int, float]] = {}  # item -> (ncc, other, inl, cos)
        for cos, i, j, (inliers, ncc) in verified:
            a, b = ids[i], ids[j]
            links.append((a, b))
            for one, other in ((a, b), (b, a)):
                if ncc > best.get(one, (-2.0, 0, 0, 0.0))[0]:
                    best[one] = (ncc, other, inliers, cos)
        for group in join(links).groups():
            if len(group) < 2:
                continue
            lead = by_id[group[0]]
            nccs = sorted(best[i][0] for i in group)
            yield Cluster(
                self.KIND,
                lead.sha256 or str(lead.id),
                f"scene of {lead.path}, {len(group)} pictures",
                round(nccs[len(nccs) // 2], 2),
                tuple(Member(i, _reason(best[i], by_id), best[i][0]) for i in group),
                {
                    "min_cosine": st.scene_min_cosine,
                    "min_inliers": st.scene_min_inliers,
                    "min_ncc": st.scene_min_ncc,
                    "min_block_ncc": st.scene_min_block_ncc,
                },
            )


def _verify(
    conn: Connection,
    ids: list[int],
    sha: list[str],
    pairs: list[tuple[float, int, int]],
    least: int,
    budget: int,
) -> int:
    """Verify the pairs not verified yet, at most ``budget`` of them, keeping the
    verdicts; returns the budget left."""
    todo = [(i, j) for _, i, j in pairs if (sha[i], sha[j], least) not in _verdicts]
    todo = todo[: max(0, budget)]
    features = _features(conn, sorted({ids[k] for pair in todo for k in pair}))
    for i, j in todo:
        first, second = features.get(ids[i]), features.get(ids[j])
        if first is not None and second is not None:
            verdict = scene.verify(first, second, least)
            if len(_verdicts) >= _CACHE_LIMIT:
                _verdicts.clear()
            _verdicts[(sha[i], sha[j], least)] = (
                verdict.inliers,
                verdict.ncc,
                verdict.blocks,
                verdict.upper,
                verdict.top,
            )
    return budget - len(todo)


def _same(
    pairs: list[tuple[float, int, int]], sha: list[str], settings: Settings
) -> list[tuple[float, int, int, tuple[int, float]]]:
    """The pairs whose kept verdict says same scene (unverified: not), each with its
    inliers and NCC."""
    out = []
    for cos, i, j in pairs:
        found = _verdicts.get((sha[i], sha[j], settings.scene_min_inliers))
        if found is not None and scene.Verdict(*found).same_under(settings):
            out.append((cos, i, j, (found[0], found[1])))
    return out


def join(links: list[tuple[int, int]]) -> UnionFind:
    """Clusters of verified links, most similar first. A link joins a lone picture to
    a cluster, but two clusters of several pictures join only on at least two links
    between them: one false verification then no longer merges two rooms whole (on
    benchmarks/leads.py, with 12 candidates a picture, pairwise precision 0.83 with
    plain union, 0.95 with this; recall 1.0 both; the dev rooms of
    unseen.validation.scene are unchanged, grouping recall 0.96)."""
    uf = UnionFind()
    size: dict[int, int] = {}
    held: list[tuple[int, int]] = []

    def merge(a: int, b: int) -> None:
        total = size.get(uf.find(a), 1) + size.get(uf.find(b), 1)
        uf.union(a, b)
        size[uf.find(a)] = total

    for a, b in links:
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        if min(size.get(ra, 1), size.get(rb, 1)) == 1:
            merge(a, b)
        else:
            held.append((a, b))
    joined = True
    while joined:
        joined = False
        between: Counter[tuple[int, int]] = Counter()
        for a, b in held:
            ra, rb = uf.find(a), uf.find(b)
            if ra != rb:
                between[(min(ra, rb), max(ra, rb))] += 1
        for (ra, rb), count in sorted(between.items()):
            if count >= 2 and uf.find(ra) != uf.find(rb):
                merge(ra, rb)
                joined = True
    return uf


def _reason(link: tuple[float, int, int, float], by_id: dict[int, ItemFacts]) -> str:
    ncc, other, inliers, cos = link
    return (
        f"same background as {by_id[other].path}: {inliers} features agree in one "
        f"geometry, aligned pixels correlate {ncc:.2f} (embedding cosine {cos:.2f})"
    )


def _embeddings(
    conn: Connection, by_id: dict[int, ItemFacts]
) -> tuple[list[int], np.ndarray, np.ndarray, list[int]]:
    """Ids and unit embeddings, plus the quarter-turned embeddings and their rows."""
    t = s.scene_features
    ids: list[int] = []
    rows: list[np.ndarray] = []
    turned: list[np.ndarray] = []
    owners: list[int] = []
    query = select(t.c.item_id, t.c.embedding, t.c.turned).order_by(t.c.item_id)
    for item_id, blob, extra in conn.execute(query):
        if item_id in by_id:
            if extra:
                more = np.frombuffer(extra, dtype=np.float16).reshape(-1, len(blob) // 2)
                turned.extend(more)
                owners.extend([len(ids)] * len(more))
            ids.append(item_id)
            rows.append(np.frombuffer(blob, dtype=np.float16))
    return ids, _unit(rows), _unit(turned), owners


def _unit(rows: list[np.ndarray]) -> np.ndarray:
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    vectors = np.stack(rows).astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


def candidate_pairs(
    vectors: np.ndarray,
    k: int,
    min_cosine: float,
    extra: np.ndarray | None = None,
    owners: list[int] | None = None,
    exact_limit: int = DEFAULT.scene_exact_limit,
) -> list[tuple[float, int, int]]:
    """(cosine, i, j) with i < j for each row's ``k`` nearest rows, most similar first.

    ``extra`` rows (owned by ``owners[r]``) are further queries for their owner: its
    quarter-turned embeddings. Up to ``exact_limit`` rows the search is exact.
    """
    n = len(vectors)
    if n < 2:
        return []
    k = min(k, n - 1)
    queries, owner = vectors, np.arange(n)
    if extra is not None and owners and len(extra):
        queries, owner = np.vstack([vectors, extra]), np.concatenate([owner, owners])
    found: dict[tuple[int, int], float] = {}
    for start, sims, idx in _knn(vectors, queries, k + 1, exact_limit):
        for row in range(len(idx)):
            i = int(owner[start + row])
            for sim, j in zip(sims[row], idx[row], strict=True):
                if j != i and j >= 0 and sim >= min_cosine:
                    key = (min(i, int(j)), max(i, int(j)))
                    found[key] = max(found.get(key, -1.0), round(float(sim), 4))
    return sorted(((c, i, j) for (i, j), c in found.items()), key=lambda p: (-p[0], p[1], p[2]))


def lone_pairs(
    vectors: np.ndarray,
    lone: list[int],
    linked: list[int],
    k: int,
    min_cosine: float,
    asked: set[tuple[int, int]],
    exact_limit: int = DEFAULT.scene_exact_limit,
) -> list[tuple[float, int, int]]:
    """(cosine, i, j) with i < j for each ``lone`` row's ``k`` nearest ``linked`` rows,
    most similar first, leaving out the pairs already ``asked``.

    A picture none of whose candidates verified may still be a shot of a room whose
    other shots verified among themselves: someone in front of a third of it moves
    its embedding further from them than other rooms. Only pictures that verified are
    searched, so a case of unrelated pictures costs little more.
    """
    if not lone or not linked or k < 1:
        return []
    targets = np.asarray(linked)
    found: dict[tuple[int, int], float] = {}
    nearest = _knn(vectors[targets], vectors[lone], min(k, len(targets)), exact_limit)
    for start, sims, idx in nearest:
        for row in range(len(idx)):
            i = lone[start + row]
            for sim, t in zip(sims[row], idx[row], strict=True):
                if t >= 0 and sim >= min_cosine:
                    j = int(targets[t])
                    key = (min(i, j), max(i, j))
                    if key not in asked:
                        found[key] = max(found.get(key, -1.0), round(float(sim), 4))
    return sorted(((c, i, j) for (i, j), c in found.items()), key=lambda p: (-p[0], p[1], p[2]))


def lone_links(links: list[tuple[int, int]], more: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ``more`` links (each from a picture of no link to one of ``links``, found by
    :func:`lone_pairs`) whose lone picture links into the same cluster of ``links`` at
    least ``LONE_LINKS`` times and to at least half of its pictures.

    Searching further verifies more pairs of different rooms, and a false verification
    with one shot of a room often comes with another with its near twin: on
    benchmarks/leads.py (48 more candidates) scene precision fell from 0.95 to 0.78
    joining on one link and to 0.91 on two; an occluded shot verifies with most of
    its room's other shots.
    """
    clusters = join(links)
    linked = {k for pair in links for k in pair}
    size = Counter(clusters.find(k) for k in linked)
    keys = [(j, clusters.find(i)) if i in linked else (i, clusters.find(j)) for i, j in more]
    count = Counter(keys)
    return [
        pair
        for pair, key in zip(more, keys, strict=True)
        if count[key] >= max(LONE_LINKS, size[key[1]] / 2)
    ]


def _knn(
    vectors: np.ndarray, queries: np.ndarray, k: int, exact_limit: int
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Blocks of (first query row, similarities, indexes) of each query's ``k`` best."""
    if faiss is not None:
        index = _faiss_index(vectors, exact_limit)
        for start in range(0, len(queries), 4096):
            sims, idx = index.search(queries[start : start + 4096], k)
            yield start, sims, idx
        return
    for start in range(0, len(queries), 1024):
        sims = queries[start : start + 1024] @ vectors.T
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        yield start, np.take_along_axis(sims, idx, axis=1), idx


def _faiss_index(vectors: np.ndarray, exact_limit: int) -> Any:
    """Exact inner-product search up to ``exact_limit`` pictures, inverted lists above.

    Exact search costs n^2 dot products (minutes at 100,000 pictures, hours at
    250,000); the inverted-file index visits ``NPROBE`` of ``NLIST`` lists, which
    misses a few true neighbours but keeps a whole-case run to about a minute.
    """
    dim = vectors.shape[1]
    if len(vectors) <= exact_limit:
        flat = faiss.IndexFlatIP(dim)
        flat.add(vectors)
        return flat
    quantiser = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantiser, dim, NLIST, faiss.METRIC_INNER_PRODUCT)
    sample = vectors[np.linspace(0, len(vectors) - 1, TRAIN_SAMPLE).astype(int)]
    index.train(sample)
    index.add(vectors)
    index.nprobe = NPROBE
    return index


def _features(conn: Connection, ids: list[int]) -> dict[int, scene.Features]:
    t = s.scene_features
    cols = (t.c.item_id, t.c.points, t.c.descriptors, t.c.grey, t.c.grey_width, t.c.grey_height)
    found: dict[int, scene.Features] = {}
    for start in range(0, len(ids), 500):
        query = select(*cols).where(t.c.item_id.in_(ids[start : start + 500]))
        for r in conn.execute(query):
            found[r.item_id] = scene.unpack(
                bytes(r.points), bytes(r.descriptors), bytes(r.grey), r.grey_width, r.grey_height
            )
    return found


GROUPINGS.register(SceneGrouping)
