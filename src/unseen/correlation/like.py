"""More like this: the pictures of the case that resemble a picture or a group.

From one item (or the members of a cluster) the case is ranked by every kind of
likeness the case records: the same room (scene embedding), the same face, the same
camera (serial, or model and JPEG tables), the same sensor (a sensor-noise cluster)
and the same picture altered (PDQ). Each hit says which likenesses it has and how
strong each is, so an examiner can judge the ranking; the score is their sum, each
likeness worth at most 1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
from sqlalchemy import Connection, select

from unseen.core.settings import Settings
from unseen.correlation.near import pack, within
from unseen.correlation.search import SAME_PERSON, load_faces
from unseen.store import schema as s

KINDS = ("scene", "face", "camera", "sensor", "pdq")
SCENE_MIN_COSINE = 0.80  # below this two rooms rarely look alike to a person
_BLOCK = 4096  # scene embeddings compared per block: bounded memory on large cases


@dataclass(frozen=True, slots=True)
class LikeHit:
    item_id: int
    path: str
    score: float
    why: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "item_id": self.item_id,
            "path": self.path,
            "score": self.score,
            "why": list(self.why),
        }


class _Tally:
    """Per candidate item: the best strength of each likeness and how it reads."""

    def __init__(self) -> None:
        self.best: dict[int, dict[str, tuple[float, str]]] = defaultdict(dict)

    def add(self, item_id: int, kind: str, strength: float, why: str) -> None:
        old = self.best[item_id].get(kind)
        if old is None or strength > old[0]:
            self.best[item_id][kind] = (strength, why)


def more_like(
    conn: Connection,
    seeds: Sequence[int],
    kinds: Iterable[str] = KINDS,
    limit: int = 100,
    settings: Settings | None = None,
) -> list[LikeHit]:
    """Items most like ``seeds`` (which are left out), best first. Pictures are alike by
    PDQ within ``settings``' radius (default settings when not given)."""
    chosen = set(kinds)
    unknown = chosen - set(KINDS)
    if unknown:
        raise ValueError(f"unknown likeness {sorted(unknown)} (one of {', '.join(KINDS)})")
    seed_set = set(seeds)
    tally = _Tally()
    for kind, finder in (
        ("scene", _scene),
        ("face", _face),
        ("camera", _camera),
        ("sensor", _sensor),
        ("pdq", partial(_pdq, radius=(settings or Settings()).pdq_radius)),
    ):
        if kind in chosen:
            finder(conn, seed_set, tally)
    ranked = sorted(
        (
            (round(sum(v[0] for v in found.values()), 3), item_id, found)
            for item_id, found in tally.best.items()
            if item_id not in seed_set
        ),
        key=lambda x: (-x[0], x[1]),
    )[:limit]
    paths = _paths(conn, [item_id for _, item_id, _ in ranked])
    return [
        LikeHit(
            item_id,
            paths.get(item_id, ""),
            score,
            tuple(why for _, why in sorted(found.values(), key=lambda v: -v[0])),
        )
        for score, item_id, found in ranked
    ]


def cluster_members(conn: Connection, cluster_id: int, most: int = 500) -> list[int]:
    """A cluster's members to search from (at most ``most``, evenly spread)."""
    m = s.cluster_members
    query = select(m.c.item_id).where(m.c.cluster_id == cluster_id).order_by(m.c.item_id)
    ids = [int(i) for i in conn.execute(query).scalars()]
    step = max(1, -(-len(ids) // most))
    return ids[::step]


def _scene(conn: Connection, seeds: set[int], tally: _Tally) -> None:
    t = s.scene_features
    probes = [
        _unit(np.frombuffer(blob, dtype=np.float16))
        for blob in conn.execute(
            select(t.c.embedding).where(t.c.item_id.in_(sorted(seeds)))
        ).scalars()
    ]
    if not probes:
        return
    queries = np.stack(probes)
    block: list[tuple[int, bytes]] = []
    rows = conn.execute(select(t.c.item_id, t.c.embedding).order_by(t.c.item_id))
    for row in rows:
        block.append((int(row[0]), bytes(row[1])))
        if len(block) == _BLOCK:
            _scene_block(block, queries, tally)
            block = []
    _scene_block(block, queries, tally)


def _scene_block(block: list[tuple[int, bytes]], queries: np.ndarray, tally: _Tally) -> None:
    if not block:
        return
    vectors = np.stack([_unit(np.frombuffer(b, dtype=np.float16)) for _, b in block])
    if vectors.shape[1] != queries.shape[1]:
        return
    cosine = (vectors @ queries.T).max(axis=1)
    for (item_id, _), cos in zip(block, cosine, strict=True):
        if cos >= SCENE_MIN_COSINE:
            tally.add(item_id, "scene", float(cos), f"same room? embedding cosine {cos:.2f}")


def _unit(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _face(conn: Connection, seeds: set[int], tally: _Tally) -> None:
    probes = load_faces(conn, seeds)
    if not probes:
        return
    queries = np.stack([f.embedding for f in probes])
    for face in load_faces(conn):
        distance = float(np.linalg.norm(queries - face.embedding, axis=1).min())
        if distance < SAME_PERSON:
            strength = 1.0 - distance / (2 * SAME_PERSON)
            tally.add(face.item_id, "face", strength, f"same face? distance {distance:.2f}")


def _camera(conn: Connection, seeds: set[int], tally: _Tally) -> None:
    ex, im = s.exif, s.images
    query = select(ex.c.item_id, ex.c.make, ex.c.model, ex.c.serial, im.c.jpeg_qtables).join(
        im, im.c.item_id == ex.c.item_id, isouter=True
    )
    rows = [r for r in conn.execute(query) if r.make or r.model]
    seeded = [r for r in rows if r.item_id in seeds]
    serials = {(r.make, r.model, r.serial) for r in seeded if r.serial}
    tables = {(r.make, r.model, r.jpeg_qtables) for r in seeded if r.jpeg_qtables}
    models = {(r.make, r.model) for r in seeded}
    for r in rows:
        name = " ".join(p for p in (r.make, r.model) if p)
        if r.serial and (r.make, r.model, r.serial) in serials:
            tally.add(r.item_id, "camera", 1.0, f"same camera: {name} serial {r.serial}")
        elif r.jpeg_qtables and (r.make, r.model, r.jpeg_qtables) in tables:
            tally.add(r.item_id, "camera", 0.7, f"same camera model and JPEG tables: {name}")
        elif (r.make, r.model) in models:
            tally.add(r.item_id, "camera", 0.3, f"same camera model: {name}")


def _sensor(conn: Connection, seeds: set[int], tally: _Tally) -> None:
    c, m = s.clusters, s.cluster_members
    clusters = conn.execute(
        select(c.c.id, c.c.label)
        .join(m, m.c.cluster_id == c.c.id)
        .where(c.c.kind == "sensor", m.c.item_id.in_(sorted(seeds)))
    ).all()
    for cluster_id, label in clusters:
        rows = conn.execute(
            select(m.c.item_id, m.c.score).where(m.c.cluster_id == cluster_id)
        ).all()
        for item_id, score in rows:
            tally.add(int(item_id), "sensor", min(float(score), 1.0), f"same sensor: {label}")


def _pdq(conn: Connection, seeds: set[int], tally: _Tally, radius: int) -> None:
    im = s.images
    rows = conn.execute(
        select(im.c.item_id, im.c.pdq, im.c.pdq_dihedral).where(im.c.pdq.is_not(None))
    ).all()
    probes = [
        h for r in rows if r.item_id in seeds for h in (r.pdq_dihedral or r.pdq).split(",") if h
    ]
    others = [r for r in rows if len(r.pdq) == 64]
    if not probes or not others:
        return
    for _, j, d in within(pack([r.pdq for r in others]), pack(probes), radius):
        tally.add(others[j].item_id, "pdq", 1.0 - d / 64, f"PDQ {d} bits")


def _paths(conn: Connection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    i = s.items
    return {
        int(k): str(p) for k, p in conn.execute(select(i.c.id, i.c.path).where(i.c.id.in_(ids)))
    }
