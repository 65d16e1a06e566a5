"""The demo's intelligence library: one series promoted from an earlier synthetic case.

An "earlier case" (``DEMO-2023-042``) holds three other shots of the kitchen that the
demo laptop's ``Users/sam/Pictures/Kitchen`` series shows (scene 102, new viewpoints
and light, no EXIF). It is built, processed and its scene cluster promoted through
the real commands' code, exactly as an examiner would, so ``unseen demo`` shows
"seen before" reasons naming that case on the kitchen pictures.

Needs the ``scene`` extra (the embedding and local features); without it the demo
simply has no intelligence entry, and says so.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from sqlalchemy import select

from unseen.core.settings import Settings, write_case_file
from unseen.engine.runner import process_case
from unseen.intel.promote import promote_cluster
from unseen.intel.store import IntelLibrary, retention_date
from unseen.store import repo
from unseen.store import schema as s
from unseen.store.case import Case

EARLIER_CASE = "DEMO-2023-042"
SERIES_NAME = "DEMO kitchen series"
KITCHEN = 102  # the scene id of the demo laptop's kitchen series (photos.SERIES)
# (view, lighting) of the earlier case's shots: not views the demo laptop uses.
SHOTS = ((8, 0.9), (9, 1.1), (10, 0.8))
SIZE = (800, 600)


def write_demo_intel(directory: Path, home: Path) -> str:
    """Build the earlier case under ``directory`` and promote its series into ``home``.

    Returns a one-line description for the demo's summary.
    """
    if any(importlib.util.find_spec(m) is None for m in ("onnxruntime", "cv2")):
        return "no intelligence library entry (needs the scene extra)"
    from unseen.demo.synth import render_scene

    evidence = directory / "earlier-evidence"
    for k, (view, lighting) in enumerate(SHOTS):
        path = evidence / "shared" / f"kitchen_{k + 1}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        render_scene(KITCHEN, SIZE, view, lighting).save(path, "JPEG", quality=85)
    case = Case.create(directory / "earlier-case", name=EARLIER_CASE, examiner="Demo Examiner")
    try:
        # Matched against, and audited beside, the demo's library, not the user's.
        beside = os.path.relpath(home, case.root)
        write_case_file(case.root, {"library": beside}, "The demo's own library.")
        repo.add_source(case, "folder", str(evidence), "EV01-phone", "Demo Examiner")
        skip = ("faces", "ocr", "sensor_noise")
        process_case(case, workers=0, settings=Settings.from_case(case.root, skip=skip))
        with case.engine.connect() as conn:
            cluster = conn.scalar(
                select(s.clusters.c.id)
                .where(s.clusters.c.kind == "scene")
                .order_by(s.clusters.c.id)
            )
        if cluster is None:
            return "no intelligence library entry (the earlier case formed no series)"
        with IntelLibrary.open(home) as library:
            entry = promote_cluster(
                case, library, int(cluster), SERIES_NAME, retention_date(None), "DEMO-VID-0001"
            )
    finally:
        case.close()
    return f"intelligence library: series {entry.name!r} promoted from case {EARLIER_CASE}"
