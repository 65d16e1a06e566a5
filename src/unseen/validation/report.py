"""``unseen validate``: measure, then write the report as Markdown and HTML.

The report is a list of sections (title, paragraphs, tables) rendered twice, so the
Markdown and the HTML page always say the same. Its first line after the title
(``version_line``) names the tool version and the thresholds measured; the summary
report quotes it with the file's SHA-256 as its provenance.
"""

from __future__ import annotations

import html
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import unseen
from unseen.core.settings import Settings
from unseen.correlation.scene import (
    MIN_TOP_BLOCK_NCC,
    MIN_TOP_INLIERS,
    MIN_UPPER_BLOCK_NCC,
    TOP_QUANTILE,
    UPPER_QUANTILE,
)
from unseen.validation import faces, ocr, prnu, scene
from unseen.validation.pdq import SIZE, TRANSFORMS, PdqResult, measure
from unseen.validation.stats import Rate

# PDQ originals, distractors (1,001,820 pairs); scene rooms; PRNU sensors and copies
# each; faces rooms and empty rooms; OCR signs.
FULL = {"pdq": (300, 1416), "scene": (40,), "prnu": (8, 10), "faces": (24, 300), "ocr": (20,)}
QUICK = {"pdq": (12, 60), "scene": (4,), "prnu": (2, 2), "faces": (2, 4), "ocr": (2,)}


@dataclass(frozen=True, slots=True)
class Report:
    pdq: PdqResult
    scene: scene.SceneResult | None
    scene_missing: str | None
    seconds: float
    quick: bool
    prnu: prnu.PrnuResult | None = None
    faces: faces.FaceResult | None = None
    ocr: ocr.OcrResult | None = None
    missing: dict[str, str] = field(default_factory=dict)  # signal -> why not measured


def run(quick: bool = False) -> Report:
    sizes = QUICK if quick else FULL
    started = time.perf_counter()
    originals, distractors = sizes["pdq"]
    result = measure(originals, distractors)
    missing: dict[str, str] = {}
    measured: dict[str, Any] = {}
    signals: dict[str, tuple[Callable[[], str | None], Callable[..., Any]]] = {
        "scene": (scene.unavailable, scene.measure),
        "prnu": (prnu.unavailable, prnu.measure),
        "faces": (faces.unavailable, faces.measure),
        "ocr": (ocr.unavailable, ocr.measure),
    }
    for name, (why_not, measure_it) in signals.items():
        reason = why_not()
        if reason is None:
            measured[name] = measure_it(*sizes[name])
        else:
            missing[name] = reason
    return Report(
        result,
        measured.get("scene"),
        missing.get("scene"),
        time.perf_counter() - started,
        quick,
        measured.get("prnu"),
        measured.get("faces"),
        measured.get("ocr"),
        missing,
    )


def version_line(report: Report) -> str:
    """The tool version and the thresholds the report measured (quoted by the summary)."""
    st = Settings()
    return (
        f"unseen {unseen.__version__}; thresholds: PDQ <= {report.pdq.threshold} bits, "
        f"scene cosine >= {st.scene_min_cosine:g}, inliers >= {st.scene_min_inliers}, "
        f"NCC >= {st.scene_min_ncc:g} or block NCC >= {st.scene_min_block_ncc:g} "
        f"(or its {100 * UPPER_QUANTILE:.0f} % point >= {MIN_UPPER_BLOCK_NCC:g}, or its "
        f"{100 * TOP_QUANTILE:.0f} % point >= {MIN_TOP_BLOCK_NCC:g} with >= {MIN_TOP_INLIERS} "
        f"inliers), sensor PCE > {st.sensor_pce_threshold:g}, "
        f"face distance <= {st.identity_pair_max:g}"
    )


def _pct(value: float) -> str:
    """A rate as a percentage; tiny non-zero bounds keep two significant digits."""
    if 0 < value < 0.0001:
        return f"{100 * value:.2g} %"
    return f"{100 * value:.2f} %"


def _rate_cells(rate: Rate) -> list[str]:
    low, high = rate.interval
    return [f"{rate.hits:,} / {rate.trials:,}", _pct(rate.value), f"{_pct(low)} - {_pct(high)}"]


Table = tuple[list[str], list[list[str]]]


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    level: int = 2
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None
    bullets: tuple[str, ...] = ()


def _facts(report: Report) -> list[str]:
    p = report.pdq
    return [
        version_line(report),
        f"pdqhash {version('pdqhash')}, Python {platform.python_version()}; "
        f"{os.cpu_count()} CPUs; {report.seconds:.0f} s"
        + (" (quick run: too small to publish)" if report.quick else ""),
        f"Threshold: PDQ distance <= {p.threshold} bits of 256 over the eight rotations and "
        f"mirrorings, copy's PDQ quality >= {p.min_quality} (the matcher's defaults).",
        f"Pictures: benign synthetic rooms (unseen.demo.synth.render_scene), {SIZE[0]} x "
        f"{SIZE[1]} px; {p.originals} originals, each transformed {len(TRANSFORMS)} ways.",
        "Intervals: Wilson score, 95 %.",
    ]


TRUE_HEAD = ["transformation", "matched", "true-match rate", "95 % interval"]
FALSE_HEAD = ["distractor pairs", "matched", "false-match rate", "95 % interval", "closest"]
PAIRS_HEAD = ["pairs", "counted", "rate", "95 % interval"]
FINDINGS = (
    "Rotations by 180 degrees and vertical flips rely on pdqhash's dihedral hashes, "
    "which for those four orientations differ from the hash of the actually turned "
    "picture by 12-14 bits at 640 x 480 and 24-28 bits at 320 x 240 (quarter turns "
    "right, horizontal mirrors and transposes agree exactly): such copies match near "
    "the threshold, and small pictures often miss it.",
    "Crops of 5 % and more, borders and small rotations defeat PDQ, as its authors "
    "document; the scene grouping (same room, other shot) is the signal for those.",
)


def _pdq_sections(report: Report) -> list[Section]:
    p = report.pdq
    true = [[name, *_rate_cells(rate)] for name, rate in p.true_match.items()]
    false = [
        [
            f"every pair of {p.distractors - p.low_quality:,} distractor rooms "
            f"({p.low_quality} left out for PDQ quality < {p.min_quality})",
            *_rate_cells(p.false_match),
            f"{p.closest_distractor_pair}",
        ]
    ]
    return [
        Section("PDQ near-duplicate matching"),
        Section("True matches", 3, table=(TRUE_HEAD, true)),
        Section("False matches", 3, table=(FALSE_HEAD, false)),
        Section("Findings", 3, bullets=FINDINGS),
    ]


def _scene_section(report: Report) -> Section:
    title = "Same scene (scene grouping)"
    r = report.scene
    if r is None:
        return Section(title, paragraphs=(f"Not measured here: {report.scene_missing}.",))
    st = Settings()
    lead = (
        f"{r.rooms} benign synthetic rooms ({scene.SIZE[0]} x {scene.SIZE[1]} px, rooms "
        f"{scene.ROOM_IDS:,} onwards), each shot {len(scene.SHOTS)} ways "
        f"({', '.join(scene.SHOTS)}). Pairs: every pair of pictures verified with the "
        f"grouping's ORB + RANSAC + photometric check (at least {st.scene_min_inliers} "
        f"inliers; aligned NCC >= {st.scene_min_ncc:g}, or median block NCC >= "
        f"{st.scene_min_block_ncc:g}, or the {100 * UPPER_QUANTILE:.0f} % point of block NCC >= "
        f"{MIN_UPPER_BLOCK_NCC:g}, or with at least {MIN_TOP_INLIERS} inliers its "
        f"{100 * TOP_QUANTILE:.0f} % point >= {MIN_TOP_BLOCK_NCC:g}). Grouping: the "
        "grouping's candidate search (each "
        f"picture's {st.scene_neighbours} nearest by embedding cosine >= "
        f"{st.scene_min_cosine:g}; a picture none of them verified, its "
        f"{st.scene_lone_neighbours} nearest among the pictures that verified, joined on "
        "two links to at least half of a cluster), verdict and joining gave "
        f"{r.clusters} clusters, counted "
        "by pairs of pictures in one cluster (a picture left alone groups no pair). "
        f"Verification and candidate settings were chosen on {scene.DEV_ROOMS} other "
        f"rooms ({scene.DEV_IDS:,} onwards), not on these."
    )
    rows = [["pairs of one room verified (recall)", *_rate_cells(r.recall)]]
    rows += [[f"... pairs with: {s}", *_rate_cells(v)] for s, v in r.recall_by_shot.items()]
    rows.append(["pairs of two rooms verified (false matches)", *_rate_cells(r.false_match)])
    rows.append(["verified pairs of one room (precision)", *_rate_cells(r.precision)])
    rows.append(["grouping: pairs of one room grouped (recall)", *_rate_cells(r.group_recall)])
    rows += [
        [f"... grouping, pairs with: {s}", *_rate_cells(v)]
        for s, v in r.group_recall_by_shot.items()
    ]
    rows.append(
        ["grouping: grouped pairs of one room (precision)", *_rate_cells(r.group_precision)]
    )
    return Section(title, paragraphs=(lead, _scene_target(r)), table=(PAIRS_HEAD, rows))


def _scene_target(r: scene.SceneResult) -> str:
    """Which of the measured rates fall short of the 0.9 the grouping aims at."""
    rates = {"pair recall": r.recall, "pair precision": r.precision}
    rates |= {f"pair recall with {s}": v for s, v in r.recall_by_shot.items()}
    rates |= {"grouping recall": r.group_recall, "grouping precision": r.group_precision}
    rates |= {f"grouping recall with {s}": v for s, v in r.group_recall_by_shot.items()}
    short = [f"{name} {_pct(rate.value)}" for name, rate in rates.items() if rate.value < 0.9]
    if not short:
        return "Every rate below is at or above the 0.9 aimed at."
    return (
        f"Below the 0.9 aimed at: {'; '.join(short)}. A false verification still joins a "
        "lone picture to another room's cluster; two clusters of several pictures join "
        "only on two verified pairs between them."
    )


def _prnu_section(report: Report) -> Section:
    title = "Same sensor (PRNU)"
    r = report.prnu
    if r is None:
        return Section(title, paragraphs=(f"Not measured here: {report.missing['prnu']}.",))
    lead = (
        f"{r.sensors} simulated sensors (pattern sigma {prnu.SIGMA:g}) and {prnu.STRANGERS} "
        f"more without a fingerprint, shooting benign synthetic rooms at {prnu.SIZE[0]} x "
        f"{prnu.SIZE[1]} px; a fingerprint from {prnu.ORIGINALS} camera originals (JPEG "
        f"quality 92) a sensor, as the grouping makes it; {r.copies} other pictures a "
        f"sensor in each form below. Link: PCE > {r.threshold:g} (the grouping's "
        "default). Simulated sensors, not real ones: real PRNU strength varies by camera."
    )
    rows = [[f"own sensor, {name}", *_rate_cells(rate)] for name, rate in r.true_link.items()]
    rows.append(
        [
            "another sensor's fingerprint, all forms (false links; highest PCE "
            f"{r.closest_false:g})",
            *_rate_cells(r.false_link),
        ]
    )
    return Section(title, paragraphs=(lead,), table=(PAIRS_HEAD, rows))


def _faces_section(report: Report) -> Section:
    title = "Face identities"
    r = report.faces
    if r is None:
        return Section(title, paragraphs=(f"Not measured here: {report.missing['faces']}.",))
    limit = Settings().identity_pair_max
    lead = (
        "A small set: the one benign face available offline here (a public-domain NASA "
        f"portrait crop, tests/correlation/data) pasted into {r.rooms} synthetic rooms, "
        "each picture transformed as below; a match is a face found within "
        f"{limit:g} (the identities grouping's same-person distance) of the plain "
        f"crop's. {r.empty_rooms} synthetic rooms with no one in them: {r.false_faces} "
        "faces found there. A false-match rate between different people is not "
        "measured: no picture of a second person is available offline; the threshold "
        "rests on dlib's own evaluation on LFW."
    )
    rows = [[f"same person, {name}", *_rate_cells(rate)] for name, rate in r.true_match.items()]
    rows.append(["empty rooms with a face matching (false matches)", *_rate_cells(r.false_match)])
    return Section(title, paragraphs=(lead,), table=(PAIRS_HEAD, rows))


def _ocr_section(report: Report) -> Section:
    title = "Text in pictures (OCR)"
    r = report.ocr
    if r is None:
        return Section(title, paragraphs=(f"Not measured here: {report.missing['ocr']}.",))
    lead = (
        f"{r.signs} generated benign signs (two lines: three common words and a number, "
        f"{ocr.TEXT_PX} px text on a light panel in a synthetic room, {ocr.SIZE[0]} x "
        f"{ocr.SIZE[1]} px) read by the ocr analyser (Tesseract, eng) in each form below. "
        "Characters: the drawn ones read in order (longest common subsequence, spaces "
        "ignored); words: drawn words read exactly. Intervals count characters and words "
        "as independent, which they are not quite."
    )
    rows = []
    for name in r.characters:
        rows.append([f"{name}: characters", *_rate_cells(r.characters[name])])
        rows.append([f"{name}: words", *_rate_cells(r.words[name])])
    return Section(
        title, paragraphs=(lead,), table=(["read", "right", "rate", "95 % interval"], rows)
    )


def sections(report: Report) -> list[Section]:
    return [
        *_pdq_sections(report),
        _scene_section(report),
        _prnu_section(report),
        _faces_section(report),
        _ocr_section(report),
    ]


def markdown(report: Report) -> str:
    lines = ["# Validation report", "", "Generated by `unseen validate`.", ""]
    lines += [f"- {fact}" for fact in _facts(report)]
    for section in sections(report):
        lines += ["", "#" * section.level + " " + section.title, ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        if section.table is not None:
            lines += _md_table(*section.table)
        lines += [f"- {b}" for b in section.bullets]
        if lines[-1] == "":
            lines.pop()
    return "\n".join(lines) + "\n"


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def html_page(report: Report) -> str:
    def table(head: list[str], rows: list[list[str]]) -> str:
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"

    def items(texts: tuple[str, ...] | list[str]) -> str:
        return "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in texts) + "</ul>"

    parts = [f"<h1>Validation report</h1>{items(_facts(report))}"]
    for s in sections(report):
        parts.append(f"<h{s.level}>{html.escape(s.title)}</h{s.level}>")
        parts += [f"<p>{html.escape(p)}</p>" for p in s.paragraphs]
        parts.append(table(*s.table) if s.table is not None else "")
        parts.append(items(s.bullets) if s.bullets else "")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>unseen validation report</title><style>body{font-family:sans-serif;"
        "max-width:60em;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:.2em .5em;text-align:left}</style></head><body>"
        + "".join(parts)
        + "</body></html>\n"
    )
