"""Whether OCR can run is asked of the tesseract program itself, and said plainly."""

from __future__ import annotations

from pathlib import Path

from unseen.correlation.deep import ocr


def fake_tesseract(folder: Path, script: str) -> str:
    program = folder / "tesseract"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(0o755)
    return str(program)


def test_a_tesseract_without_the_language(tmp_path: Path) -> None:
    listing = "echo 'List of available languages in \"/x/\" (1):'\necho osd\n"
    program = fake_tesseract(tmp_path, listing)
    assert ocr._language_problem(program) == (
        "tesseract has no 'eng' language data (Debian: tesseract-ocr-eng)"
    )


def test_a_tesseract_that_fails(tmp_path: Path) -> None:
    program = fake_tesseract(tmp_path, "echo 'libtesseract.so.5: cannot open' >&2\nexit 127\n")
    assert ocr._language_problem(program) == (
        "tesseract does not run: libtesseract.so.5: cannot open"
    )
    (tmp_path / "other").mkdir()
    silent = fake_tesseract(tmp_path / "other", "exit 3\n")
    assert ocr._language_problem(silent) == "tesseract does not run: exit status 3"


def test_a_tesseract_with_the_language(tmp_path: Path) -> None:
    listing = "echo 'List of available languages in \"/x/\" (2):'\necho eng\necho osd\n"
    assert ocr._language_problem(fake_tesseract(tmp_path, listing)) is None
