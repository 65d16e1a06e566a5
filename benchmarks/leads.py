"""Leads benchmark: groupings and ranking on a generated, benign case with ground truth.

Builds a synthetic "seized device" whose truth is known by construction:

* camera bodies with simulated sensors (each multiplies the rendered scene by
  ``1 + K``, its own fixed PRNU pattern, sigma 0.015 or ``--prnu-sigma``), two of
  them the same model with different serials; per body several *series* (one
  synthetic room each) of camera originals with EXIF (phones with GPS in Leeds,
  Zurich or Lyon), plus copies of the same room without EXIF: re-encoded at the
  sensor's size, turned a quarter, resized, cropped;
* "strangers": sensors never seen with EXIF, whose stripped pictures have the same
  size as the bodies' (the negatives of sensor linking);
* background: many single, unrelated rooms saved as web images (standard libjpeg
  tables, no EXIF), of varied sizes, some of the bodies' size.

It runs ``process_case`` (fast pass, correlation, deep pass) and prints the pairwise
precision and recall of the camera, session, place and scene groupings, the sensor
linking recall and false-link rate (at the grouping's PCE threshold, and at the
threshold that allows 1 % false links), and where the planted first-generation items
(the camera originals) rank among the item leads. Targets: scene and camera
>= 0.9 precision and recall; sensor recall >= 0.9 at <= 1 % false links; every
first-generation item in the top 10 % of leads.

Ranking (``--part ranking``): the generated cases of ``unseen.demo.scenarios`` (the
owner's holiday pictures against unknown pictures from the camera and room of known
abuse material, in five variants) with an agency hash set holding the known pictures.
For each variant it prints precision@k (k = the number of associated unknown pictures),
the average precision and the reciprocal rank of the first associated picture (each
1.0 when the associated material leads), and the worst rank of an associated picture,
before and after simulated reviewer decisions (the top associated lead categorised A,
the best-ranked holiday burst marked not indecent). Target: precision@k >= 0.9 on every variant.

Faces: no public-domain face picture ships in an installed package here (scikit-image
is not a dependency), so no face is composited; face identities are measured where the
faces analyser lives. Always exits 0: a benchmark, not a test.

Usage: ``.venv/bin/python benchmarks/leads.py [--quick] [--workers N] [--keep DIR]
[--prnu-sigma S] [--skip faces,ocr] [--part groupings|ranking|all]
[--variants base,cameras,...]``
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import select

from unseen.core.schemes import load_scheme
from unseen.core.settings import Settings
from unseen.correlation.facts import load_facts
from unseen.correlation.groupings.sensor import PCE_THRESHOLD, all_scores
from unseen.correlation.queries import top_leads
from unseen.demo import scenarios
from unseen.demo.synth import CAMERAS, Camera, exif_for, jpeg_thumbnail, render_scene
from unseen.engine.runner import process_case
from unseen.review import decisions
from unseen.store import repo
from unseen.store import schema as st
from unseen.store.case import Case

PLACES = {
    "Leeds": (53.7997, -1.5492, 63.0),
    "Zurich": (47.3769, 8.5417, 408.0),
    "Lyon": (45.764, 4.8357, 170.0),
}
PRNU_SIGMA = 0.015  # strength of the simulated sensor pattern (--prnu-sigma)
WEB_SIZES = ((320, 240), (400, 300), (500, 375), (640, 480), (480, 360))


@dataclasses.dataclass(frozen=True)
class Body:
    camera: Camera
    sensor: int
    phone: bool


def bodies(quick: bool) -> list[Body]:
    canon = CAMERAS["canon-80d"]
    found = [
        Body(canon, 11, False),
        Body(dataclasses.replace(canon, key="canon-80d-b", serial="183099999999"), 12, False),
        Body(CAMERAS["nikon-d3500"], 13, False),
        Body(CAMERAS["iphone-12"], 14, True),
        Body(CAMERAS["galaxy-s21"], 15, True),
    ]
    return [found[i] for i in (0, 2, 3)] if quick else found


def sensor_pixels(
    sigma: float,
    scene: int,
    size: tuple[int, int],
    sensor: int | None,
    view: int = 0,
    lighting: float = 1.0,
) -> Image.Image:
    """A room as seen through simulated sensor ``sensor`` (PRNU of strength ``sigma``)."""
    img = render_scene(scene, size, view, lighting)
    if sensor is None:
        return img
    rng = np.random.default_rng([sensor, 0x9E5])
    pattern = rng.normal(0.0, sigma, (size[1], size[0]))
    exposed = np.asarray(img, dtype=np.float32) * (1.0 + pattern.astype(np.float32))[..., None]
    return Image.fromarray(np.clip(exposed, 0, 255).astype(np.uint8), "RGB")


class Builder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.truth: dict[str, dict[str, Any]] = {}

    def save(self, rel: str, img: Image.Image, truth: dict[str, Any], **params: Any) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        out = io.BytesIO()
        img.save(out, "JPEG", **params)
        path.write_bytes(out.getvalue())
        self.truth[rel] = truth


def build(root: Path, quick: bool, sigma: float) -> dict[str, dict[str, Any]]:
    """Write the evidence under ``root``; return the ground truth per relative path."""
    b = Builder(root)
    size = (384, 288) if quick else (640, 480)
    n_series = 2 if quick else 3
    scene = 1000
    for k, body in enumerate(bodies(quick)):
        cam = body.camera
        for s in range(n_series):
            scene += 1
            place = list(PLACES)[s % len(PLACES)] if body.phone else None
            start = datetime(2024, 3, 1, 10, 0) + timedelta(days=10 * k + 3 * s)
            truth = {
                "scene": scene,
                "sensor": body.sensor,
                "session": f"{cam.key}/{s}",
                "place": place,
            }
            for shot, (view, light) in enumerate(((0, 1.0), (1, 0.85), (2, 1.15))):
                img = sensor_pixels(sigma, scene, size, body.sensor, view, light)
                when = start + timedelta(minutes=4 * shot)
                gps = PLACES[place] if place else None
                if gps:
                    gps = (gps[0] + 1e-4 * shot, gps[1] + 1e-4 * shot, gps[2])
                thumb = None if body.phone else jpeg_thumbnail(img)
                exif = exif_for(cam, when, gps, thumbnail=thumb)
                rel = f"DCIM/{cam.key}/{cam.folder}/IMG_{s * 10 + shot:04d}.JPG"
                fg = {**truth, "body": f"{cam.key}", "first_generation": True}
                b.save(rel, img, fg, exif=exif, **cam.jpeg_params())
            copies = f"Pictures/shared/{cam.key}_{s}"
            plain = {**truth, "session": None, "place": None}
            b.save(
                f"{copies}_a.jpg",
                sensor_pixels(sigma, scene, size, body.sensor, 3, 0.75),
                plain,
                quality=90,
            )
            turned = sensor_pixels(sigma, scene, size, body.sensor, 4).transpose(
                Image.Transpose.ROTATE_90
            )
            b.save(f"{copies}_b.jpg", turned, plain, quality=90)
            small = sensor_pixels(sigma, scene, size, body.sensor, 5, 1.25)
            small = small.resize((size[0] * 7 // 10, size[1] * 7 // 10))
            b.save(f"{copies}_c.jpg", small, {**plain, "sensor": None}, quality=85)
            w, h = size
            crop = sensor_pixels(sigma, scene, size, body.sensor, 2).crop((w // 10, h // 10, w, h))
            b.save(f"{copies}_d.jpg", crop, {**plain, "sensor": None}, quality=85)
    for stranger in range(2 if quick else 3):
        for n in range(3 if quick else 4):
            scene += 1
            img = sensor_pixels(sigma, scene, size, 90 + stranger)
            truth = {"scene": scene, "sensor": 90 + stranger, "stranger": True}
            b.save(f"Downloads/chat/stranger{stranger}_{n}.jpg", img, truth, quality=90)
    for n in range(150 if quick else 420):
        scene += 1
        img = render_scene(scene, WEB_SIZES[n % len(WEB_SIZES)])
        b.save(f"Downloads/web/img_{n:04d}.jpg", img, {"scene": scene}, quality=75)
    return b.truth


# ---------------------------------------------------------------------------- scoring


def pairwise(
    groups: dict[str, set[str]], truth: dict[str, Any], universe: Iterable[str]
) -> tuple[float, float, int, int]:
    """Pairwise precision and recall of predicted groups against truth labels."""
    universe = set(universe)
    predicted = {tuple(sorted(p)) for g in groups.values() for p in combinations(g & universe, 2)}
    by_label: dict[Any, list[str]] = defaultdict(list)
    for path in universe:
        if truth.get(path) is not None:
            by_label[truth[path]].append(path)
    actual = {tuple(sorted(p)) for g in by_label.values() for p in combinations(g, 2)}
    hits = len(predicted & actual)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(actual) if actual else 1.0
    return precision, recall, len(predicted), len(actual)


def clusters(case: Case, kind: str) -> dict[str, set[str]]:
    with case.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.id, i.path FROM clusters c JOIN cluster_members m ON m.cluster_id = c.id "
            "JOIN items i ON i.id = m.item_id WHERE c.kind = ?",
            (kind,),
        ).all()
    found: dict[str, set[str]] = defaultdict(set)
    for cluster_id, path in rows:
        found[str(cluster_id)].add(path)
    return found


def sensor_report(case: Case, truth: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Linking at the grouping's threshold, and the PCE of every (picture, body) pair.

    The PCEs are the grouping's own (:func:`all_scores`: the same fingerprints, the
    same originals left out for pictures that copy them).
    """
    with case.engine.connect() as conn:
        facts = load_facts(conn)
        scored = all_scores(facts, conn)
    path = {f.id: f.path for f in facts}
    linked = {p: cid for cid, paths in clusters(case, "sensor").items() for p in paths}
    with case.engine.connect() as conn:
        labels = dict(conn.exec_driver_sql("SELECT id, label FROM clusters").all())
    sensor_of = {body.label: truth[path[body.originals[0]]]["sensor"] for body, _ in scored}
    positives, negatives = [], []
    candidates: set[str] = set()
    for body, found in scored:
        for item_id, (pce, _, _) in found.items():
            candidates.add(path[item_id])
            right = sensor_of[body.label] == truth[path[item_id]].get("sensor")
            (positives if right else negatives).append(pce)
    fingerprinted = set(sensor_of.values())
    positive = [p for p in candidates if truth[p].get("sensor") in fingerprinted]
    hits = sum(
        1
        for p in positive
        if p in linked and sensor_of[labels[int(linked[p])]] == truth[p]["sensor"]
    )
    wrong = sum(1 for p in linked if sensor_of[labels[int(linked[p])]] != truth[p].get("sensor"))
    neg = np.array(negatives or [0.0])
    at_1pct = float(np.quantile(neg, 0.99))
    return {
        "positive pictures": len(positive),
        "negative pairs": len(negatives),
        "recall at PCE>60": hits / max(len(positive), 1),
        "false links at PCE>60": wrong / max(len(negatives), 1),
        "min positive PCE": float(min(positives or [0.0])),
        "max negative PCE": float(neg.max()),
        "PCE at 1% false links": at_1pct,
        "recall at 1% false links": float(np.mean(np.array(positives) > at_1pct))
        if positives
        else 0.0,
    }


def lead_ranks(case: Case, truth: dict[str, dict[str, Any]]) -> tuple[list[float], int]:
    with case.engine.connect() as conn:
        ranks = dict(
            conn.exec_driver_sql(
                "SELECT i.path, l.rank FROM leads l JOIN items i ON i.id = l.target_id "
                "WHERE l.target_kind = 'item'"
            ).all()
        )
    total = len(ranks)
    planted = [p for p, t in truth.items() if t.get("first_generation")]
    return sorted(100.0 * ranks.get(p, total) / total for p in planted), total


# ---------------------------------------------------------------------------- ranking


def ranking_quality(case: Case, relevant: set[str]) -> tuple[float, float, float, int]:
    """Precision@k (k = len(relevant)), average precision, the reciprocal rank of the
    first relevant item, and the worst rank of a relevant item (undecided leads only)."""
    with case.engine.connect() as conn:
        order = [r["item"] for r in top_leads(conn, "item", 1_000_000)]
    ranks = sorted(order.index(p) + 1 for p in relevant if p in order)
    k = len(relevant)
    precision = len(set(order[:k]) & relevant) / k if k else 1.0
    average = sum((n + 1) / r for n, r in enumerate(ranks)) / k if k else 1.0
    first = 1.0 / ranks[0] if ranks else 0.0
    return precision, average, first, max(ranks, default=0)


def decide(case: Case, sc: scenarios.Scenario) -> str:
    """What a reviewer does first: grade the top associated lead A, and mark the first
    three pictures of the best-ranked holiday burst not indecent."""
    with case.engine.connect() as conn:
        order = [r["item"] for r in top_leads(conn, "item", 1_000_000)]
        ids = {p: int(i) for i, p in conn.execute(select(st.items.c.id, st.items.c.path))}
    associated = set(sc.of_role("associated"))
    first = next((p for p in order if p in associated), None)
    holiday = next(
        (p for p in order if sc.truth.get(p, scenarios.Planted("")).role == "holiday"), None
    )
    scheme = load_scheme("uk")
    with case.engine.begin() as conn:
        if first:
            decisions.categorise(conn, scheme, "bench", [ids[first]], "A")
        if holiday:
            burst = [
                p for p in sc.of_role("holiday") if sc.truth[p].burst == sc.truth[holiday].burst
            ]
            decisions.categorise(conn, scheme, "bench", [ids[p] for p in burst[:3]], "NI")
    return f"A on {first}; NI on 3 of burst {sc.truth[holiday].burst if holiday else '-'}"


def ranking(root: Path, variants: list[str], workers: int, size: tuple[int, int]) -> None:
    print(f"ranking: {', '.join(variants)} at {size[0]}x{size[1]} px")
    cols = f"{'P@k':>6} {'AP':>6} {'RR':>6} {'worst':>6}"
    print(f"{'variant':14} {'k':>3} {cols}   after decisions: {cols}  target")
    for variant in variants:
        base = root / variant
        shutil.rmtree(base, ignore_errors=True)
        sc = scenarios.build_with_library(base, variant, size)
        os.environ["UNSEEN_HOME"] = str(base / "home")
        case = Case.create(base / "case")
        repo.add_source(case, "folder", str(base / "ev"), "EV1", "benchmark")
        deep = variant in ("second_camera", "stripped")
        skip = ("faces", "ocr", "internet") if deep else ("deep", "internet")
        process_case(case, workers=workers, settings=Settings(skip=skip))
        relevant = set(sc.of_role("associated"))
        before = ranking_quality(case, relevant)
        decide(case, sc)
        after = ranking_quality(case, relevant - _decided(case))
        ok = "ok" if min(before[0], after[0]) >= 0.9 else "MISSED"
        print(
            f"{variant:14} {len(relevant):3d} {_quality(before)}   after decisions: "
            f"{_quality(after)}  {ok}"
        )
        case.close()


def _quality(q: tuple[float, float, float, int]) -> str:
    return f"{q[0]:6.3f} {q[1]:6.3f} {q[2]:6.3f} {q[3]:6d}"


def _decided(case: Case) -> set[str]:
    with case.engine.connect() as conn:
        rows = conn.execute(
            select(st.items.c.path).join(
                st.review_state, st.review_state.c.item_id == st.items.c.id
            )
        )
        return {str(p) for p in rows.scalars()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="CI-size case (about a minute)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--keep", type=Path, help="build the case here and keep it")
    parser.add_argument(
        "--skip", default="", help="stages or deep analysers to switch off, e.g. faces,ocr"
    )
    parser.add_argument(
        "--prnu-sigma", type=float, default=PRNU_SIGMA, help="simulated PRNU strength"
    )
    parser.add_argument("--part", choices=("groupings", "ranking", "all"), default="all")
    parser.add_argument("--variants", default=",".join(scenarios.VARIANTS))
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="unseen-leads-"))
    if args.part in ("ranking", "all"):
        size = (320, 240) if args.quick else (640, 480)
        ranking(root / "ranking", args.variants.split(","), args.workers, size)
    if args.part in ("groupings", "all"):
        groupings(root, args)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def groupings(root: Path, args: argparse.Namespace) -> None:
    shutil.rmtree(root / "ev", ignore_errors=True)
    shutil.rmtree(root / "case", ignore_errors=True)
    started = time.perf_counter()
    truth = build(root / "ev", args.quick, args.prnu_sigma)
    built = time.perf_counter()
    case = Case.create(root / "case")
    repo.add_source(case, "folder", str(root / "ev"), "EV1", "benchmark")
    skip = tuple(name for name in args.skip.split(",") if name)
    summary = process_case(case, workers=args.workers, settings=Settings(skip=skip))
    done = time.perf_counter()
    print(
        f"case: {len(truth)} pictures generated in {built - started:.1f} s, processed in "
        f"{done - built:.1f} s with {args.workers} workers"
    )
    for stage, note in summary.stages.items():
        print(f"  stage {stage}: {note}")
    exif = [p for p, t in truth.items() if t.get("first_generation")]
    checks = [
        ("camera", "camera", {p: truth[p]["body"] for p in exif}, exif, 0.9),
        ("session", "session", {p: t.get("session") for p, t in truth.items()}, truth, None),
        ("place", "place", {p: t.get("place") for p, t in truth.items()}, truth, None),
        ("scene", "scene", {p: t["scene"] for p, t in truth.items()}, truth, 0.9),
    ]
    print(f"{'grouping':10} {'precision':>9} {'recall':>7} {'pairs':>7} {'true':>7}  target")
    for name, kind, labels, universe, target in checks:
        p, r, n_pred, n_true = pairwise(clusters(case, kind), labels, universe)
        verdict = "" if target is None else ("ok" if min(p, r) >= target else "MISSED")
        print(f"{name:10} {p:9.3f} {r:7.3f} {n_pred:7d} {n_true:7d}  {verdict}")
    sensor = sensor_report(case, truth)
    print("sensor (PRNU) linking:")
    for key, value in sensor.items():
        print(f"  {key:26} {value:.4g}" if isinstance(value, float) else f"  {key:26} {value}")
    ok = sensor["recall at PCE>60"] >= 0.9 and sensor["false links at PCE>60"] <= 0.01
    print(
        f"  target recall >= 0.9 at <= 1 % false links (threshold {PCE_THRESHOLD:g}): "
        f"{'ok' if ok else 'MISSED'}"
    )
    percentiles, total = lead_ranks(case, truth)
    inside = sum(1 for p in percentiles if p <= 10.0)
    print(
        f"first-generation items: {len(percentiles)} planted among {total} item leads; "
        f"{inside} in the top 10 %; worst at {percentiles[-1]:.1f} %, median "
        f"{percentiles[len(percentiles) // 2]:.1f} %: "
        f"{'ok' if inside == len(percentiles) else 'MISSED'}"
    )
    print("faces: not measured here (no public-domain face image in an installed package)")


if __name__ == "__main__":
    raise SystemExit(main())
