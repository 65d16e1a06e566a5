"""Text in pictures through the real pipeline: text rendered in DejaVu Sans, read by
Tesseract, stored, grouped, searched and given as a lead reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

from unseen import plugins
from unseen.cli.main import app
from unseen.core.settings import Settings
from unseen.correlation.deep import ocr
from unseen.correlation.deep.base import DEEP_ANALYSERS
from unseen.correlation.search import search_text, text_of
from unseen.engine.runner import process_case
from unseen.store import repo
from unseen.store.case import Case

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian fonts-dejavu-core
PAGE = "Hotel Bellevue Room 214\nParkstrasse 12, 8001 Zurich"
INVOICE = "Invoice No. 2024-0173  Total CHF 129.50"

pytestmark = [
    pytest.mark.skipif(
        bool(ocr.OcrAnalyser().unavailable()),
        reason=f"OCR not available: {ocr.OcrAnalyser().unavailable()}",
    ),
    pytest.mark.skipif(not FONT.is_file(), reason="needs Debian fonts-dejavu-core"),
]


def page(lines: list[str], size: tuple[int, int], paper: tuple[int, int, int]) -> Image.Image:
    img = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 40)
    for n, line in enumerate(lines):
        draw.text((30, 20 + 80 * n), line, font=font, fill=(0, 0, 0))
    return img


def scene(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (640, 480), tuple(int(v) for v in rng.integers(40, 200, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x, y = (int(v) for v in rng.integers(0, 600, 2))
        w, h = (int(v) for v in rng.integers(20, 200, 2))
        draw.rectangle((x, y, x + w, y + h), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return img


def sign() -> Image.Image:
    """A scene with a small sign on it that repeats the page's first line."""
    img = scene(3)
    draw = ImageDraw.Draw(img)
    draw.rectangle((120, 180, 520, 240), fill=(250, 250, 245))
    font = ImageFont.truetype(str(FONT), 28)
    draw.text((135, 192), "Hotel Bellevue Room 214", font=font, fill=(20, 20, 60))
    return img


def only_ocr() -> Settings:
    plugins.load()
    return Settings(skip=tuple(n for n in DEEP_ANALYSERS.names() if n != "ocr"))


def make_case(root: Path, pictures: dict[str, Image.Image]) -> Case:
    ev = root / "ev"
    ev.mkdir()
    for name, picture in pictures.items():
        picture.save(ev / name)
    case = Case.create(root / "case")
    repo.add_source(case, "folder", str(ev), "EV1", "tester")
    process_case(case, workers=0, settings=only_ocr())
    return case


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    pictures = {
        "page.png": page(PAGE.splitlines(), (900, 180), (255, 255, 255)),
        "invoice.png": page([INVOICE], (900, 100), (235, 235, 235)),
        "sign.png": sign(),
        "plain.png": scene(5),
        "tiny.png": Image.new("RGB", (16, 16), (255, 255, 255)),
    }
    return make_case(tmp_path_factory.mktemp("ocr"), pictures)


def rows(case: Case, sql: str) -> list[tuple[Any, ...]]:
    with case.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


def test_text_is_read_exactly_with_word_boxes(case: Case) -> None:
    found = rows(
        case,
        "SELECT i.path, o.text, o.confidence, o.words, o.lang FROM ocr_text o "
        "JOIN items i ON i.id = o.item_id ORDER BY i.path",
    )
    texts = {path: text for path, text, *_ in found}
    # Tesseract gives words, so the double space in the invoice comes back single.
    assert texts == {
        "invoice.png": "Invoice No. 2024-0173 Total CHF 129.50",
        "page.png": PAGE,
        "sign.png": "Hotel Bellevue Room 214",
    }
    for _, _, confidence, _, lang in found:
        assert lang == "eng"
        assert 90 <= float(confidence) <= 100
    words = json.loads(str(dict((p, w) for p, _, _, w, _ in found)["page.png"]))
    assert [w["text"] for w in words] == PAGE.split()
    # Reference boxes measured once with tesseract 5.3 (bookworm); glyphs drawn at x=30.
    reference = {"Hotel": (34, 28, 98, 30), "Parkstrasse": (34, 108, 225, 30)}
    for w in words:
        if w["text"] in reference:
            want = reference[w["text"]]
            assert max(abs(g - r) for g, r in zip(w["box"], want, strict=True)) <= 4, w


def test_pictures_without_text_have_no_row_and_tiny_ones_are_not_read(case: Case) -> None:
    done = rows(
        case,
        "SELECT i.path FROM job_done d JOIN items i ON i.id = d.item_id "
        "WHERE d.job = 'ocr' ORDER BY i.path",
    )
    assert done == [("invoice.png",), ("page.png",), ("plain.png",), ("sign.png",)]
    assert rows(case, "SELECT count(*) FROM item_errors WHERE analyser = 'ocr'") == [(0,)]


def test_shared_lines_group_pictures_and_text_is_a_lead_reason(case: Case) -> None:
    clusters = rows(case, "SELECT label, key FROM clusters WHERE kind = 'text' ORDER BY label")
    assert clusters == [
        ("'Hotel Bellevue Room 214' in 2 pictures", "hotel bellevue room 214"),
        ("'Invoice No. 2024-0173 Total CHF 129.50'", "invoice no 2024 0173 total chf 129 50"),
    ]
    confidence = dict(
        rows(case, "SELECT i.path, o.confidence FROM ocr_text o JOIN items i ON i.id = o.item_id")
    )
    reasons = dict(
        rows(
            case,
            "SELECT i.path, l.reasons FROM leads l JOIN items i ON i.id = l.target_id "
            "WHERE l.target_kind = 'item'",
        )
    )

    def text(name: str) -> list[tuple[float, str]]:
        found = json.loads(str(reasons[name]))
        return [(r["weight"], r["detail"]) for r in found if r["signal"] == "text"]

    shared = round((confidence["page.png"] + confidence["sign.png"]) / 2 / 100, 2)
    hotel = "text in picture: 'Hotel Bellevue Room 214' in 2 pictures"
    assert text("page.png") == [(0.5 * shared, hotel)]
    assert text("sign.png") == [(0.5 * shared, hotel)]
    own = round(float(confidence["invoice.png"]) / 100, 2)
    assert text("invoice.png") == [
        (0.5 * own, "text in picture: 'Invoice No. 2024-0173 Total CHF 129.50'")
    ]
    assert text("plain.png") == []


def test_search_text_and_text_of(case: Case) -> None:
    ids = dict(rows(case, "SELECT path, id FROM items"))
    with case.engine.connect() as conn:
        hits = search_text(conn, "BELLEVUE room")
        zurich = search_text(conn, "zurich")
        read = text_of(conn, [ids["page.png"], ids["plain.png"]])
    assert [(h.path, h.lines) for h in hits] == [
        ("page.png", ("Hotel Bellevue Room 214",)),
        ("sign.png", ("Hotel Bellevue Room 214",)),
    ]
    assert len(hits[0].boxes) == 2  # the words Bellevue and Room
    assert [(h.path, h.lines) for h in zurich] == [("page.png", ("Parkstrasse 12, 8001 Zurich",))]
    assert list(read) == [ids["page.png"]]
    assert read[ids["page.png"]]["text"] == PAGE


def test_cli_search_text(case: Case) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["search", str(case.root), "--text", "hotel", "--json"])
    assert result.exit_code == 0, result.output
    assert [h["path"] for h in json.loads(result.output)] == ["page.png", "sign.png"]
    table = runner.invoke(app, ["search", str(case.root), "--text", "invoice"])
    assert table.exit_code == 0, table.output
    assert "invoice.png" in table.output and "2024-0173" in table.output
    none = runner.invoke(app, ["search", str(case.root), "--text", "nowhere"])
    assert none.exit_code == 0 and "no hits" in none.output


def test_a_picture_that_takes_too_long_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ocr, "TIMEOUT_S", 0.001)  # in-process run (workers=0)
    case = make_case(tmp_path, {"page.png": page(PAGE.splitlines(), (900, 180), (255,) * 3)})
    assert rows(case, "SELECT analyser, message FROM item_errors") == [
        ("ocr", "tesseract ran longer than 0.001 s")
    ]
    assert rows(case, "SELECT count(*) FROM ocr_text") == [(0,)]


def test_the_gate_skips_flat_pictures_and_lets_text_and_photos_through() -> None:
    grey = {
        "page": page(PAGE.splitlines(), (900, 180), (255, 255, 255)),
        "sign": sign(),
        "photo": Image.open(Path(__file__).with_name("data") / "astronaut_face.jpg"),
        **{f"shapes {seed}": scene(seed) for seed in range(8)},
        "narrow": Image.new("RGB", (40, 40), (255, 255, 255)),
    }
    passed = {name: ocr.looks_like_text(img.convert("L")) for name, img in grey.items()}
    assert passed == {
        "page": True,
        "sign": True,
        "photo": True,  # natural texture: tesseract decides (and finds nothing)
        **{f"shapes {seed}": False for seed in range(8)},
        "narrow": True,
    }
