"""Search semantics on stored rows (as the ocr and faces analysers write them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from unseen.cli.main import app
from unseen.core.errors import UserError
from unseen.core.settings import Settings
from unseen.correlation.deep.faces import encode
from unseen.correlation.search import TextHit, faces_of, search_faces, search_text, text_of
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case

E = np.eye(128)
TEXTS = {
    "a.png": "Hotel Bellevue Room 214\nParkstrasse 12, 8001 Zürich",
    "b.png": "ZÜRICH HAUPTBAHNHOF",
    "c.png": "100% cotton_blend",
    "d.png": "Room service",
}
FACES = {  # picture -> embeddings: a and b show one person, c another
    "a.png": [0.1 * E[0]],
    "b.png": [0.1 * E[1], 0.1 * E[2] + 0.3 * E[3]],
    "c.png": [E[50]],
}


@pytest.fixture()
def case(tmp_path: Path) -> Case:
    ev = tmp_path / "ev"
    ev.mkdir()
    for n, name in enumerate(TEXTS):
        Image.new("RGB", (64, 48), (40 * n, 90, 90)).save(ev / name)
    case = Case.create(tmp_path / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "tester")
    process_case(case, workers=0, settings=Settings(skip=("deep",)))
    with case.engine.begin() as conn:
        ids = dict(conn.exec_driver_sql("SELECT path, id FROM items").all())
        for name, text in TEXTS.items():
            words = [
                {"text": w, "conf": 90.0, "box": [k, 0, 5, 5]} for k, w in enumerate(text.split())
            ]
            conn.exec_driver_sql(
                "INSERT INTO ocr_text (item_id, text, confidence, words, lang) "
                "VALUES (?, ?, 90.0, ?, 'eng')",
                (ids[name], text, json.dumps(words)),
            )
        for name, vectors in FACES.items():
            for k, vector in enumerate(vectors):
                conn.exec_driver_sql(
                    "INSERT INTO faces (item_id, x, y, w, h, score, embedding, model) "
                    "VALUES (?, ?, 0, 10, 10, 1.0, ?, 'test')",
                    (ids[name], 20 * k, encode(vector)),
                )
    return case


def paths(hits: list[TextHit]) -> list[str]:
    return [h.path for h in hits]


def test_text_search_ignores_case_and_order_and_needs_every_word(case: Case) -> None:
    with case.engine.connect() as conn:
        assert paths(search_text(conn, "room")) == ["a.png", "d.png"]
        assert paths(search_text(conn, "214 HOTEL")) == ["a.png"]
        assert paths(search_text(conn, "room service")) == ["d.png"]
        assert paths(search_text(conn, "zürich")) == ["a.png", "b.png"]  # beyond ASCII
        assert paths(search_text(conn, "room", limit=1)) == ["a.png"]
        hit = search_text(conn, "zürich")[1]
    assert hit.lines == ("ZÜRICH HAUPTBAHNHOF",)
    assert hit.boxes == ((0, 0, 5, 5),)


def test_text_search_treats_like_wildcards_as_text(case: Case) -> None:
    with case.engine.connect() as conn:
        assert paths(search_text(conn, "100%")) == ["c.png"]
        assert paths(search_text(conn, "%")) == ["c.png"]
        assert paths(search_text(conn, "n_b")) == ["c.png"]
        assert paths(search_text(conn, "o_t")) == []
        with pytest.raises(UserError, match="empty"):
            search_text(conn, "   ")


def test_face_search_by_picture_and_by_face(case: Case) -> None:
    with case.engine.connect() as conn:
        ids = dict(conn.exec_driver_sql("SELECT path, id FROM items").all())
        by_item = search_faces(conn, item_id=ids["a.png"])
        by_face = search_faces(conn, face_id=2)
        loose = search_faces(conn, face_id=1, threshold=1.5)
        with pytest.raises(UserError, match="no faces found"):
            search_faces(conn, item_id=ids["d.png"])
        with pytest.raises(UserError, match="no face with id 99"):
            search_faces(conn, face_id=99)
        with pytest.raises(UserError, match="give a picture"):
            search_faces(conn)
    # |0.1 e0 - 0.1 e1| = 0.1414; |0.1 e0 - (0.1 e2 + 0.3 e3)| = 0.3317; e50: 1.005.
    assert [(h.face_id, h.path, h.distance, h.query_face_id) for h in by_item] == [
        (2, "b.png", 0.1414, 1),
        (3, "b.png", 0.3317, 1),
    ]
    assert [(h.face_id, h.distance) for h in by_face] == [(1, 0.1414), (3, 0.3317)]
    assert [(h.face_id, h.distance) for h in loose] == [(2, 0.1414), (3, 0.3317), (4, 1.005)]


def test_export_reads(case: Case) -> None:
    with case.engine.connect() as conn:
        ids = dict(conn.exec_driver_sql("SELECT path, id FROM items").all())
        faces = faces_of(conn, [ids["b.png"], ids["d.png"]])
        texts = text_of(conn, [ids["d.png"]], words=True)
    assert faces == {
        ids["b.png"]: [
            {"face_id": 2, "box": [0, 0, 10, 10], "score": 1.0, "identity": None},
            {"face_id": 3, "box": [20, 0, 10, 10], "score": 1.0, "identity": None},
        ]
    }
    assert texts == {
        ids["d.png"]: {
            "text": "Room service",
            "confidence": 90.0,
            "lang": "eng",
            "words": [
                {"text": "Room", "conf": 90.0, "box": [0, 0, 5, 5]},
                {"text": "service", "conf": 90.0, "box": [1, 0, 5, 5]},
            ],
        }
    }


def test_cli_search_needs_exactly_one_query(case: Case) -> None:
    runner = CliRunner()
    for args in ([], ["--text", "room", "--face", "1"]):
        result = runner.invoke(app, ["search", str(case.root), *args])
        assert result.exit_code == 2
        assert "give exactly one of --text, --face, --face-id, --like or" in result.output
    result = runner.invoke(app, ["search", str(case.root), "--face-id", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert [h["face_id"] for h in json.loads(result.output)] == [2, 3]
