"""Identity clustering on embeddings with known distances (no dlib needed).

Embeddings are built from unit vectors, so every distance is known exactly: faces
``0.1 * e_k`` of one person are 0.141 apart and 0.087 from their centre.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unseen.core.settings import Settings
from unseen.correlation.deep.faces import encode
from unseen.correlation.groupings.identities import chinese_whispers, cluster_faces, neighbours
from unseen.correlation.stage import CorrelationStage
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case

E = np.eye(128)


def test_two_people_joined_by_one_borderline_pair_stay_apart() -> None:
    # Person A around the origin, person B 0.9 away; A's face 3 and B's face 4 are
    # 0.41 apart (neighbours), every other pair across is farther than 0.5.
    a = [0.07 * E[k] for k in range(3)] + [0.25 * E[50] + 0.07 * E[3]]
    b = [0.65 * E[50] + 0.07 * E[60]] + [0.9 * E[50] + 0.07 * E[61 + k] for k in range(3)]
    vectors = np.stack(a + b)
    graph = neighbours(vectors)
    assert [n for n, _ in graph[3]] == [0, 1, 2, 4]  # linked across, as one chain would be
    assert chinese_whispers(graph) == [1, 1, 1, 1, 6, 6, 6, 6]
    assert cluster_faces(vectors) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_a_chain_of_look_alikes_is_cut_to_pairs_dlib_calls_one_person() -> None:
    # Five faces on a line, 0.4 apart: each is a neighbour of the next, but the ends
    # are 1.6 apart. No identity may hold two faces 0.6 or more apart.
    chain = [5 * E[110] + 0.4 * i * E[120] for i in range(5)]
    person = [0.1 * E[k] for k in range(4)]
    vectors = np.stack(person + chain)
    assert cluster_faces(vectors) == [[0, 1, 2, 3], [5, 6], [7, 8]]


def test_lone_faces_form_no_identity() -> None:
    vectors = np.stack([E[0], E[1], E[2]])  # 1.41 apart
    assert cluster_faces(vectors) == []


# picture -> faces (embedding, box)
FACES: dict[str, list[tuple[np.ndarray, tuple[int, int, int, int]]]] = {
    "p1.png": [(0.1 * E[0], (10, 20, 30, 40))],
    "p2.png": [(0.1 * E[1], (11, 21, 31, 41))],
    "p3.png": [(0.1 * E[2], (12, 22, 32, 42)), (0.1 * E[3], (50, 22, 32, 42))],
    "p4.png": [(E[100] + 0.1 * E[10], (13, 23, 33, 43))],
    # Person B once more, and person C twice in one picture: C is no identity.
    "p5.png": [
        (E[100] - 0.1 * E[10], (14, 24, 34, 44)),
        (3 * E[70], (60, 5, 20, 20)),
        (3 * E[70] + 0.1 * E[71], (90, 5, 20, 20)),
    ],
    "solo.png": [(-2 * E[5], (15, 25, 35, 45))],
    "none.png": [],
}


@pytest.fixture()
def case(tmp_path: Path) -> Case:
    ev = tmp_path / "ev"
    ev.mkdir()
    for n, name in enumerate(FACES):
        Image.new("RGB", (64, 48), (20 * n, 100, 200 - 20 * n)).save(ev / name)
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "tester")
    process_case(case, workers=0, settings=Settings(skip=("deep",)))
    with case.engine.begin() as conn:
        ids = dict(conn.exec_driver_sql("SELECT path, id FROM items").all())
        for name, faces in FACES.items():
            for vector, (x, y, w, h) in faces:
                conn.exec_driver_sql(
                    "INSERT INTO faces (item_id, x, y, w, h, score, embedding, model) "
                    "VALUES (?, ?, ?, ?, ?, 1.0, ?, 'test')",
                    (ids[name], x, y, w, h, encode(vector)),
                )
    CorrelationStage().run(case, Settings(), 0)
    return case


def test_identities_are_stored_with_labels_reasons_and_lead_reasons(case: Case) -> None:
    with case.engine.connect() as conn:
        clusters = conn.exec_driver_sql(
            "SELECT id, label, confidence, details FROM clusters WHERE kind = 'identity' "
            "ORDER BY label"
        ).all()
        members = {
            cid: conn.exec_driver_sql(
                "SELECT i.path, m.reason, m.score FROM cluster_members m "
                "JOIN items i ON i.id = m.item_id WHERE m.cluster_id = ? ORDER BY i.path",
                (cid,),
            ).all()
            for cid, *_ in clusters
        }
        leads = dict(
            conn.exec_driver_sql(
                "SELECT i.path, l.reasons FROM leads l JOIN items i ON i.id = l.target_id "
                "WHERE l.target_kind = 'item'"
            ).all()
        )
    (f1, label1, conf1, det1), (f2, label2, conf2, det2) = clusters
    assert (label1, conf1) == ("identity F1 (4 faces in 3 pictures)", 0.91)
    assert (label2, conf2) == ("identity F2 (2 faces in 2 pictures)", 0.9)
    assert json.loads(det1)["face_ids"] == [1, 2, 3, 4]
    assert json.loads(det2)["face_ids"] == [5, 6]
    assert members[f1] == [
        ("p1.png", "face at 10,20 (30x40 px), distance 0.09 to F1's centre", 0.913),
        ("p2.png", "face at 11,21 (31x41 px), distance 0.09 to F1's centre", 0.913),
        (
            "p3.png",
            "face at 12,22 (32x42 px), distance 0.09 to F1's centre; "
            "2 faces of F1 in this picture",
            0.913,
        ),
    ]
    assert members[f2] == [
        ("p4.png", "face at 13,23 (33x43 px), distance 0.10 to F2's centre", 0.9),
        ("p5.png", "face at 14,24 (34x44 px), distance 0.10 to F2's centre", 0.9),
    ]

    def identity(name: str) -> list[tuple[float, str]]:
        reasons = json.loads(leads[name])
        return [(r["weight"], r["detail"]) for r in reasons if r["signal"] == "identity"]

    assert identity("p1.png") == [(2.0 * 0.91, "a face that recurs: " + label1)]
    assert identity("p5.png") == [(2.0 * 0.9, "a face that recurs: " + label2)]
    assert identity("solo.png") == []
    assert identity("none.png") == []


def test_beyond_the_exact_limit_an_inverted_file_finds_the_same_neighbours_and_people() -> None:
    # 150 people with 12 faces each and 400 strangers, as dlib embeddings spread them:
    # a person's faces about 0.35 apart, people and strangers about 1.2 apart.
    rng = np.random.default_rng(7)
    centres = rng.normal(0.0, 0.1, (150, 128))
    faces = np.repeat(centres, 12, axis=0) + rng.normal(0.0, 0.018, (1800, 128))
    vectors = np.vstack([faces, rng.normal(0.0, 0.1, (400, 128))])
    vectors = vectors[rng.permutation(len(vectors))]
    exact, approximate = neighbours(vectors), neighbours(vectors, exact_max=100)
    assert [[n for n, _ in row] for row in approximate] == [[n for n, _ in row] for row in exact]
    assert np.allclose(
        [d for row in approximate for _, d in row], [d for row in exact for _, d in row], atol=1e-5
    )
    assert sum(len(row) for row in exact) == 1800 * 11  # every face linked to its person's
    people = cluster_faces(vectors)
    assert len(people) == 150 and all(len(p) == 12 for p in people)
    assert cluster_faces(vectors, Settings(identity_exact_max=100)) == people
