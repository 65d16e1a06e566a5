"""Search what the deep pass found: text read in pictures, and faces by example.

Also the per-item reads that exports use: ``faces_of`` and ``text_of``. Every
function reads only, and returns nothing (rather than failing) on a case whose deep
pass has not made the ``faces`` or ``ocr_text`` tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from unseen.core.batches import id_lists
from unseen.core.errors import UserError
from unseen.store import schema as s

SAME_PERSON = 0.6  # dlib's same-person distance: the default for searching by example
EMBEDDING = np.dtype("<f4")  # faces.embedding: 128 little-endian float32


@dataclass(frozen=True, slots=True)
class FaceRow:
    id: int
    item_id: int
    box: tuple[int, int, int, int]  # x, y, w, h in upright-picture pixels
    score: float
    embedding: np.ndarray


@dataclass(frozen=True, slots=True)
class TextHit:
    item_id: int
    path: str
    lines: tuple[str, ...]  # the lines that hold a search term
    confidence: float  # mean word confidence of the picture's text, 0-100
    boxes: tuple[tuple[int, int, int, int], ...]  # the matching words, x, y, w, h

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FaceHit:
    face_id: int
    item_id: int
    path: str
    box: tuple[int, int, int, int]
    distance: float  # to the nearest query face; under 0.6 dlib calls it the same person
    query_face_id: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decode(blob: bytes) -> np.ndarray:
    """A stored face embedding as a float64 vector."""
    return np.frombuffer(blob, dtype=EMBEDDING).astype(np.float64)


def load_faces(conn: Connection, item_ids: Iterable[int] | None = None) -> list[FaceRow]:
    """Faces of the case (or of ``item_ids``) in face-id order."""
    f = s.faces
    query = select(f.c.id, f.c.item_id, f.c.x, f.c.y, f.c.w, f.c.h, f.c.score, f.c.embedding)
    batches = (
        [conn.execute(query.order_by(f.c.id))]
        if item_ids is None
        else [conn.execute(query.where(f.c.item_id.in_(ids))) for ids in id_lists(item_ids)]
    )
    rows = [
        FaceRow(r.id, r.item_id, (r.x, r.y, r.w, r.h), r.score, decode(r.embedding))
        for batch in batches
        for r in batch
    ]
    return sorted(rows, key=lambda row: row.id)


def search_text(conn: Connection, query: str, limit: int = 100) -> list[TextHit]:
    """Pictures whose text holds every word of ``query``, ignoring case, by item id.

    Raises:
        UserError: the query has no words.
    """
    terms = [t.casefold() for t in query.split()]
    if not terms:
        raise UserError("the text query is empty")
    o, i = s.ocr_text, s.items
    sql = select(o.c.item_id, o.c.text, o.c.confidence, o.c.words, i.c.path).join(
        i, i.c.id == o.c.item_id
    )
    # LIKE narrows the rows in the database; it folds ASCII case only (SQLite), so
    # terms with other letters are checked after casefold() below.
    for term in terms:
        if term.isascii():
            sql = sql.where(o.c.text.ilike(f"%{_escape(term)}%", escape="\\"))
    hits: list[TextHit] = []
    for row in conn.execute(sql.order_by(o.c.item_id)):
        folded = row.text.casefold()
        if not all(t in folded for t in terms):
            continue
        lines = tuple(ln for ln in row.text.splitlines() if any(t in ln.casefold() for t in terms))
        boxes = tuple(
            tuple(w["box"])
            for w in json.loads(row.words)
            if any(t in w["text"].casefold() for t in terms)
        )
        hits.append(TextHit(row.item_id, row.path, lines, row.confidence, boxes))
        if len(hits) >= limit:
            break
    return hits


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_faces(
    conn: Connection,
    item_id: int | None = None,
    face_id: int | None = None,
    threshold: float = SAME_PERSON,
    limit: int = 100,
) -> list[FaceHit]:
    """Faces closer than ``threshold`` to a face (``face_id``) or to any face of a picture.

    Hits are sorted by distance; the query faces themselves are left out.

    Raises:
        UserError: neither or both of item_id and face_id given, or no such face.
    """
    if (item_id is None) == (face_id is None):
        raise UserError("give a picture (item id) or a face id to search by")
    faces = load_faces(conn)
    if face_id is not None:
        queries = [f for f in faces if f.id == face_id]
        if not queries:
            raise UserError(f"no face with id {face_id}")
    else:
        queries = [f for f in faces if f.item_id == item_id]
        if not queries:
            raise UserError(f"no faces found in item {item_id} (has the deep pass run?)")
    asked = {q.id for q in queries}
    others = [f for f in faces if f.id not in asked]
    if not others:
        return []
    matrix = pairwise_distances(
        np.stack([q.embedding for q in queries]), np.stack([f.embedding for f in others])
    )
    nearest = matrix.argmin(axis=0)
    paths = _paths(conn, {f.item_id for f in others})
    hits = [
        FaceHit(f.id, f.item_id, paths[f.item_id], f.box, round(d, 4), queries[q].id)
        for f, q, d in zip(others, nearest, matrix.min(axis=0).tolist(), strict=True)
        if d < threshold
    ]
    hits.sort(key=lambda h: (h.distance, h.face_id))
    return hits[:limit]


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of ``a`` and of ``b`` (len(a) x len(b))."""
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    result: np.ndarray = np.sqrt(np.maximum(squared, 0.0))
    return result


def _paths(conn: Connection, item_ids: Iterable[int]) -> dict[int, str]:
    i = s.items
    return {
        r.id: r.path
        for ids in id_lists(item_ids)
        for r in conn.execute(select(i.c.id, i.c.path).where(i.c.id.in_(ids)))
    }


def faces_of(conn: Connection, item_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Faces per item for exports: box, score and identity cluster (embeddings left out)."""
    identity = _identities(conn)
    found: dict[int, list[dict[str, Any]]] = {}
    for f in load_faces(conn, item_ids):
        found.setdefault(f.item_id, []).append(
            {"face_id": f.id, "box": list(f.box), "score": f.score, "identity": identity.get(f.id)}
        )
    return found


def _identities(conn: Connection) -> dict[int, dict[str, Any]]:
    """Face id -> {cluster_id, name} of the identity cluster it belongs to."""
    c = s.clusters
    rows = conn.execute(select(c.c.id, c.c.details).where(c.c.kind == "identity"))
    found: dict[int, dict[str, Any]] = {}
    for cluster_id, details in rows:
        d = json.loads(details)
        for face_id in d.get("face_ids", []):
            found[int(face_id)] = {"cluster_id": cluster_id, "name": d.get("name")}
    return found


def text_of(
    conn: Connection, item_ids: Iterable[int], words: bool = False
) -> dict[int, dict[str, Any]]:
    """Text read per item for exports: text, confidence, language (and words if asked)."""
    o = s.ocr_text
    found: dict[int, dict[str, Any]] = {}
    for ids in id_lists(item_ids):
        for r in conn.execute(select(o).where(o.c.item_id.in_(ids))):
            entry: dict[str, Any] = {"text": r.text, "confidence": r.confidence, "lang": r.lang}
            if words:
                entry["words"] = json.loads(r.words)
            found[r.item_id] = entry
    return dict(sorted(found.items()))
