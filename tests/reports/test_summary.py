"""The court summary: counts per source and category (total and distinct), hash set
or reviewer, the sets and thresholds used, the case database digest; all escaped."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select

import unseen
from unseen.core.schemes import load_scheme
from unseen.engine.runner import process_case
from unseen.matching.library import Library
from unseen.review.decisions import categorise
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

HOSTILE = 'EV<script>alert(1)</script>&"x"'


def scene(seed: int) -> Image.Image:
    """A smooth synthetic 640 x 480 picture (blurred colour field and soft shapes)."""
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), "RGB")
    img = img.resize((640, 480), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(10):
        x, y, r = rng.uniform(0, 640), rng.uniform(0, 480), rng.uniform(20, 120)
        draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3))
        )
    return img.filter(ImageFilter.GaussianBlur(2))


def encode(img: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def pdq(img: Image.Image) -> str:
    bits, _quality = pdqhash.compute(np.ascontiguousarray(np.asarray(img)))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class Tables(HTMLParser):
    """Each table's rows by ``data-code``, cells by ``data-col``; and id'd text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, dict[str, int]]] = {}
        self.text: dict[str, str] = {}
        self._table = self._row = self._col = self._id = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = {}
        elif tag == "tr" and self._table and a.get("data-code") is not None:
            self._row = a["data-code"]
            self.tables[self._table][self._row] = {}
        elif tag == "td" and self._row is not None:
            self._col = a.get("data-col")
        if a.get("id"):
            self._id = a["id"]
            self.text.setdefault(self._id, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = self._row = None
        elif tag == "td":
            self._col = None

    def handle_data(self, data: str) -> None:
        if self._table and self._row is not None and self._col:
            self.tables[self._table][self._row][self._col] = int(data)
        if self._id and data.strip():
            self.text[self._id] += data.strip()
            self._id = None


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, unseen_exe: Path) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("summary")
    a, near, b, good, conflict = (scene(n) for n in (1, 1, 2, 3, 5))
    ev1, ev2 = root / "ev1<i>", root / "ev2"
    files = {
        ev1 / "a.png": encode(a),
        ev1 / "a_copy.png": encode(a),
        ev1 / "a_q20.jpg": encode(near, "JPEG", quality=20),
        ev1 / "b.png": encode(b),
        ev1 / "good.png": encode(good),
        ev1 / "conflict.png": encode(conflict),
        ev1 / "unmatched.png": encode(scene(40)),
        ev1 / "clip.mp4": b"\x00\x00\x00\x18ftypmp42 synthetic, not a real video",
        ev1 / "notes.txt": b"known good text, not a picture\n",
        ev2 / "a.png": encode(a),
        ev2 / "override.png": encode(a.resize((320, 240))),  # hash set A, reviewer B
        ev2 / "reviewed.png": encode(scene(41)),  # reviewer C
    }
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    home = root / "library"
    lib = Library.open(home)
    caid = root / "caid.csv"
    caid.write_text(
        "md5,pdq,category\n"
        f"{md5(files[ev1 / 'a.png'])},{pdq(a)},A\n"
        f",{pdq(b)},B\n,{pdq(conflict)},A\n"
        f"{md5(files[ev1 / 'clip.mp4'])},,C\n"
    )
    lib.import_file(caid, "CAID-TEST", fmt="csv", scheme="uk")
    vic = root / "vic.csv"
    vic.write_text(f"pdq,category\n{pdq(conflict)},CAT-5\n")
    lib.import_file(vic, "VIC-TEST", fmt="csv", scheme="us")
    nsrl = root / "nsrl.txt"
    nsrl.write_text(f"{md5(files[ev1 / 'good.png'])}  g\n{md5(files[ev1 / 'notes.txt'])}  n\n")
    lib.import_file(nsrl, "NSRL-TEST", fmt="md5list", known_good=True)
    lib.close()
    case = Case.create(root / "case", name="SUM<b>", examiner="Test Examiner")
    repo.add_source(case, "folder", str(ev1), HOSTILE, "Test Examiner")
    repo.add_source(case, "folder", str(ev2), "EV02", "Test Examiner")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UNSEEN_HOME", str(home))
        process_case(case, workers=0)
    with case.engine.begin() as conn:
        ids = dict(conn.execute(select(s.items.c.path, s.items.c.id)).all())
        scheme = load_scheme("uk")
        categorise(conn, scheme, "reviewer1", [ids["override.png"]], "B")
        categorise(conn, scheme, "reviewer1", [ids["reviewed.png"]], "C")
    case.close()
    out = root / "summary.html"
    done = subprocess.run(
        [str(unseen_exe), "report", str(root / "case"), "--kind", "summary", "-o", str(out)],
        capture_output=True, text=True, timeout=120, env=os.environ,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out.read_text(), root


def parsed(html: str) -> Tables:
    tables = Tables()
    tables.feed(html)
    return tables


COLUMNS = ("image", "image_distinct", "video", "video_distinct", "hashset", "reviewer")


def row(*values: int) -> dict[str, int]:
    return dict(zip(COLUMNS, values, strict=True))


ZERO = row(0, 0, 0, 0, 0, 0)


def test_counts_for_all_sources(report: tuple[str, Path]) -> None:
    counts = parsed(report[0]).tables["counts-all"]
    assert counts == {
        "A": row(4, 2, 0, 0, 4, 0),  # a.png twice + its copy (one content), and a_q20
        "B": row(2, 2, 0, 0, 1, 1),  # b.png by hash set, override.png by the reviewer
        "C": row(1, 1, 1, 1, 1, 1),  # reviewed.png (reviewer), clip.mp4 (hash set)
        "NI": ZERO,
        "U": ZERO,
        "~conflict": row(1, 1, 0, 0, 1, 0),
        "~known-good": row(1, 1, 0, 0, 1, 0),  # notes.txt is known good but no picture
        "~matched": ZERO,
        "~none": row(1, 1, 0, 0, 0, 0),
        "~total": row(10, 8, 1, 1, 8, 2),
    }


def test_counts_per_source(report: tuple[str, Path]) -> None:
    tables = parsed(report[0]).tables
    first, second = tables["counts-source-1"], tables["counts-source-2"]
    assert first["A"] == row(3, 2, 0, 0, 3, 0)
    assert first["B"] == row(1, 1, 0, 0, 1, 0)
    assert first["C"] == row(0, 0, 1, 1, 1, 0)
    assert first["~total"] == row(7, 6, 1, 1, 7, 0)
    assert second["A"] == row(1, 1, 0, 0, 1, 0)
    assert second["B"] == row(1, 1, 0, 0, 0, 1)
    assert second["C"] == row(1, 1, 0, 0, 0, 1)
    assert second["~total"] == row(3, 3, 0, 0, 1, 2)


def test_sets_thresholds_and_provenance(report: tuple[str, Path]) -> None:
    html, root = report
    found = parsed(html)
    assert found.text["max-distance"] == "31" and found.text["min-quality"] == "50"
    assert found.text["low-quality"] == "0"
    for name in ("caid.csv", "vic.csv", "nsrl.txt"):
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() in html
    assert "<td>CAID-TEST</td><td>1</td>" in html and "<td>NSRL-TEST</td><td>1</td>" in html
    assert "a 1 % crop moves the PDQ hash by 8-26 bits and a 2 % crop by 16-56" in html
    assert "rotation by 90, 180 or 270 degrees and mirroring" in html
    assert f"unseen {unseen.__version__}" in html and "Test Examiner" in html
    digest = hashlib.sha256((root / "case" / "case.db").read_bytes()).hexdigest()
    assert found.text["db-sha256"] == digest


def test_everything_is_escaped_and_self_contained(report: tuple[str, Path]) -> None:
    html = report[0]
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "EV&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#34;x&#34;" in html
    assert "SUM&lt;b&gt;" in html and "ev1&lt;i&gt;" in html
    for external in ("http://", "https://", "src=", "<link", "url(", "@import"):
        assert external not in html


def test_a_case_never_matched_says_so(tmp_path: Path) -> None:
    from unseen.reports.summary import SummaryReport

    case = Case.create(tmp_path / "case", name="EMPTY")
    out = io.StringIO()
    SummaryReport().render(case, out)
    found = parsed(out.getvalue())
    assert "no-run" in found.text
    assert found.tables["counts-all"]["~total"] == ZERO
    case.close()


def test_audit_head_is_printed(report: tuple[str, Path]) -> None:
    from unseen.store.audit import audit_head
    from unseen.store.case import Case

    html, root = report
    case = Case.open(root / "case")
    with case.engine.connect() as conn:
        head = audit_head(conn)
    case.close()
    assert len(head) == 64
    assert parsed(html).text["audit-head"] == head
