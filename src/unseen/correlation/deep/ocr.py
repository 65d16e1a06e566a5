"""Deep analyser ``ocr``: readable text in the upright picture (signs, uniforms, papers).

Tesseract (the Debian ``tesseract-ocr`` program, through ``pytesseract``) reads the
picture in grey; words under ``MIN_WORD_CONF`` or without a letter or digit are
dropped as noise, and a picture keeps a row in ``ocr_text`` only when what is left
has at least ``MIN_CHARS`` letters and digits. ``search.search_text`` searches the
rows and the ``texts`` grouping gives such pictures a ``text`` lead reason.

Cost: tesseract is the most expensive deep analyser, about 0.25-0.5 s a picture of
a few hundred thousand pixels and several seconds for a 12-megapixel photo. So a
cheap gate (a few ms: ``looks_like_text``) first skips pictures without the dense
fine contrast that letters make (flat graphics, sky, walls, blur); pictures are read
at a long side of at most ``MAX_SIDE`` px; and a picture that takes longer than
``TIMEOUT_S`` is stopped and recorded as an error. Textured photos still pass the
gate and cost the full price. Switch it off with ``--skip ocr``; the deep pass reads
the best leads first either way.

Needs the ``ocr`` extra (pytesseract) and ``tesseract-ocr`` with the language data
(``tesseract-ocr-eng``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from sqlalchemy import Table

from unseen.correlation.deep.base import DEEP_ANALYSERS, DeepAnalyser, DeepContext, DeepRow
from unseen.correlation.facts import ItemFacts
from unseen.store import schema as s

LANG = "eng"
MIN_SIDE = 24  # px: smaller pictures (icons) hold no readable text
MAX_SIDE = 2400  # px: longest side tesseract reads (bounds the time a photo takes)
TIMEOUT_S = 30.0  # a picture that takes longer is stopped and recorded as an error
MIN_WORD_CONF = 60.0  # tesseract's word confidence (0-100); below it is mostly noise
MIN_CHARS = 3  # letters and digits a picture needs for its text to count as readable
# The gate: letters make many strong left-right contrast steps close together. A block
# of GATE_BLOCK pixels (rows x columns) counts as text-like when its rows average at
# least GATE_STEPS steps of more than GATE_CONTRAST grey levels; printed text measures
# 12-18, flat drawn shapes at most 2.
GATE_BLOCK = (16, 64)
GATE_CONTRAST = 32
GATE_STEPS = 4.0


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    conf: float
    box: tuple[int, int, int, int]  # x, y, w, h in upright-picture pixels
    line: tuple[int, int, int]  # tesseract's block, paragraph and line numbers


@cache
def _language_problem(program: str) -> str | None:
    """Why ``program`` cannot read ``LANG``, asked of tesseract itself, once a process.

    Not through pytesseract: importing it imports pandas where installed, a quarter of
    a second of every ``unseen status`` and every run, even with the deep pass off.
    """
    try:
        done = subprocess.run(
            [program, "--list-langs"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"tesseract does not run: {exc}"
    if done.returncode != 0:
        reason = done.stderr.strip()[:200] or f"exit status {done.returncode}"
        return f"tesseract does not run: {reason}"
    languages = {line.strip() for line in done.stdout.splitlines()[1:]}  # after a title
    if LANG not in languages:
        return f"tesseract has no '{LANG}' language data (Debian: tesseract-ocr-{LANG})"
    return None


class OcrAnalyser(DeepAnalyser):
    NAME = "ocr"
    VERSION = "1"
    DESCRIPTION = f"text in pictures (Tesseract, language {LANG})"
    TABLES: ClassVar[tuple[Table, ...]] = (s.ocr_text,)

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("pytesseract") is None:
            return "needs pytesseract (install unseen[ocr])"
        program = shutil.which("tesseract")
        if program is None:
            return "needs the tesseract program (Debian: tesseract-ocr tesseract-ocr-eng)"
        return _language_problem(program)

    def applies_to(self, facts: ItemFacts) -> bool:
        return facts.is_image and min(facts.width or 0, facts.height or 0) >= MIN_SIDE

    def analyse(self, ctx: DeepContext) -> list[DeepRow]:
        words = read_words(ctx.upright())
        if sum(_chars(w.text) for w in words) < MIN_CHARS:
            return []
        values = {
            "text": "\n".join(" ".join(w.text for w in line) for line in _lines(words)),
            "confidence": round(sum(w.conf for w in words) / len(words), 1),
            "words": json.dumps([{"text": w.text, "conf": w.conf, "box": w.box} for w in words]),
            "lang": LANG,
        }
        return [DeepRow("ocr_text", values)]


def read_words(picture: Image.Image) -> list[Word]:
    """The confident words tesseract reads in ``picture``, in reading order."""
    import pytesseract

    # Tesseract's OpenMP threads would fight the deep pass's worker processes for the
    # cores: one thread a process measured 0.35 s against 1.5 s for a 900 x 260 page.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    scale = min(1.0, MAX_SIDE / max(picture.size))
    grey = picture.convert("L")
    if scale < 1.0:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.LANCZOS)
    if not looks_like_text(grey):
        return []
    try:
        data = pytesseract.image_to_data(
            grey, lang=LANG, output_type=pytesseract.Output.DICT, timeout=TIMEOUT_S
        )
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise TimeoutError(f"tesseract ran longer than {TIMEOUT_S:g} s") from exc
        raise
    return list(_words(data, scale))


def looks_like_text(grey: Image.Image) -> bool:
    """Whether some block of the grey picture has the contrast steps of letters."""
    pixels = np.asarray(grey, dtype=np.int16)
    steps = np.abs(np.diff(pixels, axis=1)) > GATE_CONTRAST
    rows, cols = GATE_BLOCK
    height, width = steps.shape[0] // rows, steps.shape[1] // cols
    if not (height and width):  # narrower than one block: let tesseract decide
        return True
    blocks = steps[: height * rows, : width * cols].reshape(height, rows, width, cols)
    return bool((blocks.sum(axis=(1, 3)) >= GATE_STEPS * rows).any())


def _words(data: dict[str, list[Any]], scale: float) -> Iterator[Word]:
    for i, raw in enumerate(data["text"]):
        text, conf = str(raw).strip(), float(data["conf"][i])
        if conf < MIN_WORD_CONF or not _chars(text):
            continue
        x, y, w, h = (round(int(data[k][i]) / scale) for k in ("left", "top", "width", "height"))
        line = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        yield Word(text, round(conf, 1), (x, y, w, h), line)


def _lines(words: list[Word]) -> list[list[Word]]:
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    return list(lines.values())


def _chars(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


DEEP_ANALYSERS.register(OcrAnalyser)
