"""``unseen validate --quick`` writes the report; the statistics are exact."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from unseen.validation import ocr, scene
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
    (false_row,) = [line for line in text.splitlines() if line.startswith("| every pair of")]
    kept = int(false_row.split("every pair of ")[1].split(" ")[0])
    assert f" / {kept * (kept - 1) // 2:,} |" in false_row
    assert "<h1>Validation report</h1>" in page.read_text()
    assert "## Same scene (scene grouping)" in text
    if "Not measured here" not in text.split("## Same scene")[1].split("##")[0]:
        assert "| ... pairs with: occluders over a third |" in text
        assert "| pairs of two rooms verified (false matches) |" in text
        assert "| grouping: grouped pairs of one room (precision) |" in text
    for title in ("## Same sensor (PRNU)", "## Face identities", "## Text in pictures (OCR)"):
        assert title in text
    assert text.splitlines()[4] == f"- {version_line_of(text)}"
    assert Rate(3, 4).value == 0.75


def version_line_of(text: str) -> str:
    """The version line as the report writes it (tool version first)."""
    line = text.splitlines()[4][2:]
    assert line.startswith("unseen ") and "thresholds: PDQ <= 31 bits" in line
    return line


def test_scene_counts_pairs_and_clusters() -> None:
    """Two rooms of three shots each: pairs verified, and the clusters counted by pairs
    (room 0 all in one cluster; room 1 split, its third shot alone; one wrong union)."""
    keys = [(0, "reference"), (0, "70 % crop"), (0, "other viewpoint")]
    keys += [(1, "reference"), (1, "70 % crop"), (1, "other viewpoint")]
    verified = {(i, j): False for i in range(6) for j in range(i + 1, 6)}
    for pair in ((0, 1), (1, 2), (3, 4), (2, 3)):  # (2, 3): two rooms, a false match
        verified[pair] = True
    label = [0, 0, 0, 0, 0, -1]  # what the union of the verified candidates made
    r = scene._count(keys, verified, label, 2)
    assert (r.recall, r.false_match, r.precision) == (Rate(3, 6), Rate(1, 9), Rate(3, 4))
    # Grouped: C(5, 2) = 10 pairs, of which room 0's 3 and room 1's (3, 4) are right.
    assert (r.group_precision, r.group_recall, r.clusters) == (Rate(4, 10), Rate(4, 6), 1)
    assert r.recall_by_shot["70 % crop"] == Rate(3, 4)  # (0, 1), (1, 2), (3, 4); not (4, 5)
    assert r.group_recall_by_shot["other viewpoint"] == Rate(2, 4)


def test_ocr_scores_characters_in_order_and_whole_words() -> None:
    assert ocr.common("NoRth", "xNxoRtyh") == 5
    drawn = "Garden Market Bridge\nNo 42"
    # In drawn order: "Garden", "Bri?ge" less its misread letter, "No", "42" = 15 of 22
    # letters ("MARKET" is read out of order and in the wrong case); 3 of 5 words.
    assert ocr.score(drawn, ["MARKET", "Garden", "Bridqe", "No", "42"]) == (15, 22, 3, 5)
