"""Synthetic hash sets for the demo, so it shows automatic categorisation.

The categories in these sets are fictitious labels on benign, synthetic pictures:
they exist only to show how matching, provenance and conflicts look in a case.

- ``DEMO-KNOWN-GOOD``: an md5sum-style list of the browser-cache images (known good,
  like NSRL), so they are marked ignorable.
- ``DEMO-GRADED``: a CSV (UK scheme) with the PDQ hashes of one camera's pictures
  (the Nikon's: as if they had circulated and been graded before), so they and their
  resized, recompressed and rotated copies are categorised by near-duplicate
  matching, and the MD5 of one duplicate. The other cameras' pictures stay unknown:
  they are the leads.
- ``DEMO-PARTNER``: a VICS 2.0 hash set (US profile) that grades one of those files
  differently, so the case shows a conflict between sets, kept and flagged.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image

from unseen.analysis.image import pdq_hex
from unseen.demo.builder import DemoManifest

VICS_US_MEDIA = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"


@dataclass(frozen=True, slots=True)
class DemoHashSet:
    path: Path
    name: str
    fmt: str
    scheme: str | None
    known_good: bool = False


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _pdq(path: Path) -> str:
    rgb = Image.open(io.BytesIO(path.read_bytes())).convert("RGB")
    bits, _quality = pdqhash.compute(np.asarray(rgb))
    return pdq_hex(bits)


def write_demo_hashsets(root: Path, manifest: DemoManifest) -> list[DemoHashSet]:
    """Write the demo's hash-set files under ``root/hashsets`` and describe them."""
    laptop, folder = root / "laptop", root / "hashsets"
    folder.mkdir(parents=True, exist_ok=True)
    web = [i.path for i in manifest.items if i.role == "web_image"]
    known_good = folder / "demo-known-good.md5"
    known_good.write_text("".join(f"{_md5(laptop / p)}  {p}\n" for p in web))

    # One camera's pictures are "known" (as if graded before); the others are leads.
    known_camera = "/100D3500/"
    originals = [
        i.path for i in manifest.items if i.role == "camera_original" and known_camera in i.path
    ]
    duplicates = [
        i.path
        for i in manifest.items
        if i.role == "duplicate" and known_camera in (i.derived_from or "")
    ]
    graded = folder / "demo-graded.csv"
    rows = ["md5,pdq,category"]
    rows += [f",{_pdq(laptop / p)},C" for p in originals]
    rows += [f"{_md5(laptop / duplicates[0])},,B"] if duplicates else []
    graded.write_text("\n".join(rows) + "\n")

    partner = folder / "demo-partner-vics.json"
    media = (
        [{"MediaID": 1, "Category": 5, "MD5": _md5(laptop / duplicates[0])}] if duplicates else []
    )
    partner.write_text(
        json.dumps(
            {
                "@odata.context": VICS_US_MEDIA,
                "value": media,
            },
            indent=1,
        )
    )
    return [
        DemoHashSet(known_good, "DEMO-KNOWN-GOOD", "md5list", None, known_good=True),
        DemoHashSet(graded, "DEMO-GRADED", "csv", "uk"),
        DemoHashSet(partner, "DEMO-PARTNER", "vics", "us"),
    ]
