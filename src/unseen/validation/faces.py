"""Face identities (the ``faces`` analyser's dlib detector and encoder, the
``identities`` grouping's same-person distance) under the transformations copies go
through, on the one benign face this checkout holds.

The only picture of a person available offline here is the public-domain NASA
portrait crop ``tests/correlation/data/astronaut_face.jpg`` (see its NOTICE); no
package installed here ships another. So the set is small and it is one identity:

* true matches: the face pasted into ``ROOMS`` synthetic rooms (scale and place vary),
  each room picture transformed ``TRANSFORMS`` ways; a match is a face found whose
  embedding lies within ``identity_pair_max`` of the plain crop's;
* false faces: ``EMPTY_ROOMS`` synthetic rooms with no one in them; every face found
  there is a false detection, and a false match if it lies within that distance.

A false-match rate between different people cannot be measured without pictures of
other people; the threshold rests on dlib's own evaluation (0.6 on LFW).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

import unseen
from unseen.core.settings import Settings
from unseen.demo.synth import render_scene
from unseen.validation.stats import Rate

FACE = Path(unseen.__file__).parents[2] / "tests" / "correlation" / "data" / "astronaut_face.jpg"
SIZE = (640, 480)
ROOMS = 12
EMPTY_ROOMS = 200
SCENES = 970_000


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _crop(img: Image.Image) -> Image.Image:
    w, h = img.size
    return _jpeg(img.crop((w // 12, h // 12, w - w // 12, h - h // 12)), 90)


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "JPEG quality 90": lambda im: _jpeg(im, 90),
    "JPEG quality 40": lambda im: _jpeg(im, 40),
    "resized to 60 %": lambda im: _jpeg(im.resize((im.width * 3 // 5, im.height * 3 // 5)), 90),
    "crop 16 %": _crop,
    "mirrored": lambda im: _jpeg(ImageOps.mirror(im), 90),
    "turned 10 degrees": lambda im: _jpeg(im.rotate(10, Image.Resampling.BICUBIC), 90),
    "darker (55 %)": lambda im: _jpeg(ImageEnhance.Brightness(im).enhance(0.55), 90),
    "brighter (140 %)": lambda im: _jpeg(ImageEnhance.Brightness(im).enhance(1.4), 90),
    "greyscale": lambda im: _jpeg(im.convert("L").convert("RGB"), 90),
}


@dataclass(frozen=True, slots=True)
class FaceResult:
    rooms: int
    true_match: dict[str, Rate]
    empty_rooms: int
    false_faces: int  # faces found where there are none
    false_match: Rate  # empty rooms with a face matching the person


def unavailable() -> str | None:
    """Why the measurement cannot run here, or None."""
    from unseen.correlation.deep.faces import FaceAnalyser

    if not FACE.is_file():
        return f"the bundled benign face {FACE.name} is not in this checkout"
    return FaceAnalyser().unavailable()


def posed(n: int, face: Image.Image) -> Image.Image:
    """The face pasted into room ``n`` at a scale (face 120-200 px tall) and place."""
    rng = np.random.default_rng([n, 0xFACE])
    room = render_scene(SCENES + n, SIZE)
    height = int(rng.integers(120, 200))
    pasted = face.resize((face.width * height // face.height, height), Image.Resampling.LANCZOS)
    x = int(rng.integers(40, SIZE[0] - pasted.width - 40))
    y = int(rng.integers(20, SIZE[1] - pasted.height - 20))
    room.paste(pasted, (x, y))
    return room


def measure(rooms: int = ROOMS, empty: int = EMPTY_ROOMS) -> FaceResult:
    from unseen.correlation.deep.faces import find_faces

    limit = Settings().identity_pair_max
    face = Image.open(FACE).convert("RGB")
    reference = [_vector(row) for row in find_faces(face)]

    def matches(picture: Image.Image) -> bool:
        found = [_vector(row) for row in find_faces(picture)]
        return any(np.linalg.norm(f - r) <= limit for f in found for r in reference)

    hits = dict.fromkeys(TRANSFORMS, 0)
    for n in range(rooms):
        picture = posed(n, face)
        for name, change in TRANSFORMS.items():
            hits[name] += matches(change(picture))
    false_faces = false_matches = 0
    for n in range(rooms, rooms + empty):
        found = [_vector(row) for row in find_faces(render_scene(SCENES + n, SIZE))]
        false_faces += len(found)
        false_matches += any(np.linalg.norm(f - r) <= limit for f in found for r in reference)
    return FaceResult(
        rooms,
        {name: Rate(h, rooms) for name, h in hits.items()},
        empty,
        false_faces,
        Rate(false_matches, empty),
    )


def _vector(row: dict[str, object]) -> np.ndarray:
    from unseen.correlation.search import EMBEDDING

    blob = row["embedding"]
    assert isinstance(blob, bytes)
    return np.frombuffer(blob, dtype=EMBEDDING).astype(np.float64)
