"""``unseen validate --quick`` writes the report; the statistics are exact."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from unseen.validation.pdq import TRANSFORMS
from unseen.validation.stats import Rate, wilson


@pytest.mark.parametrize(
    ("hits", "trials", "expected"),
    [
        (0, 10, (0.0, 0.2775)),
        (10, 10, (0.7225, 1.0)),
        (5, 10, (0.2366, 0.7634)),
        (0, 1_001_820, (0.0, 0.0000038)),
    ],
)
def test_wilson_interval(hits: int, trials: int, expected: tuple[float, float]) -> None:
    low, high = wilson(hits, trials)
    assert (round(low, 4), round(high, 4 if trials < 1000 else 7)) == expected


def test_quick_report(tmp_path: Path, unseen_exe: Path) -> None:
    md, page = tmp_path / "v.md", tmp_path / "v.html"
    subprocess.run(
        [str(unseen_exe), "validate", "--quick", "--markdown", str(md), "--html", str(page)],
        check=True,
        capture_output=True,
    )
    text = md.read_text()
    assert text.startswith("# Validation report\n")
    assert "(quick run: too small to publish)" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and " / 12 |" in line]
    assert [row.split(" | ")[0][2:] for row in rows] == list(TRANSFORMS)
    # A turned or mirrored copy is the same picture to PDQ's dihedral hashes.
    for name in ("rotate 90", "mirror"):
        assert f"| {name} | 12 / 12 | 100.00 % |" in text
    # 60 distractor rooms of usable quality give at most 60 * 59 / 2 pairs.
    (false_row,) = [line for line in text.splitlines() if "every pair of" in line]
    kept = int(false_row.split("every pair of ")[1].split(" ")[0])
    assert f" / {kept * (kept - 1) // 2:,} |" in false_row
    assert "<h1>Validation report</h1>" in page.read_text()
    assert "## Same-room verification (scene grouping)" in text
    if "Not measured here" not in text:  # the scene extra is installed
        assert "| same room, pairs with: occluder over 20 % |" in text
        assert "| different rooms (false matches) |" in text
    assert Rate(3, 4).value == 0.75
