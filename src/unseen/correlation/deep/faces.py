"""Deep analyser ``faces``: faces in the upright picture, each with a 128-d embedding.

dlib's HOG frontal-face detector finds the faces, its 5-point shape predictor aligns
them and its ResNet encoder turns each into a 128-d vector whose Euclidean distance
tells people apart (dlib: under 0.6 is the same person on LFW). The ``identities``
grouping clusters the vectors across the case; ``search.search_faces`` finds a face's
look-alikes.

Cost: the picture is searched at a long side of at most ``face_work_side`` px (boxes
are mapped back to upright-picture pixels), at twice that scale when smaller than
``face_upsample_below`` px (both settings), so the detector never sees more than
about 2000 x 2000 px: 0.1-0.9 s a picture on one core, plus about 0.25 s a face for
the embedding.

Needs the ``faces`` extra (``dlib-bin`` and ``face-recognition-models``). The model
files are found without importing ``face_recognition_models``, which needs
``pkg_resources`` (gone from setuptools 81 on).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from sqlalchemy import Table

from unseen.core.settings import Settings
from unseen.correlation.deep.base import DEEP_ANALYSERS, DeepAnalyser, DeepContext, DeepRow
from unseen.correlation.facts import ItemFacts
from unseen.correlation.search import EMBEDDING
from unseen.store import schema as s

MODEL = "dlib-hog+resnet-v1"
SHAPE_FILE = "shape_predictor_5_face_landmarks.dat"  # not the 68-point one (non-commercial data)
ENCODER_FILE = "dlib_face_recognition_resnet_model_v1.dat"
# Sizes, score and count limits are settings (face_*): the case's, through the analyser.
DEFAULT = Settings()


def model_dir() -> Path | None:
    """The ``models`` folder of the installed ``face_recognition_models``, or None."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "models"


def encode(vector: np.ndarray) -> bytes:
    """An embedding as stored in ``faces.embedding``."""
    return np.asarray(vector, dtype=EMBEDDING).tobytes()


@cache
def _models() -> tuple[Any, Any, Any]:
    """Detector, shape predictor and encoder, loaded once per process (about 0.5 s)."""
    import dlib

    folder = model_dir()
    if folder is None:  # unavailable() says so before the stage gets here
        raise RuntimeError("face-recognition-models is not installed")
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(folder / SHAPE_FILE)),
        dlib.face_recognition_model_v1(str(folder / ENCODER_FILE)),
    )


class FaceAnalyser(DeepAnalyser):
    NAME = "faces"
    VERSION = "1"
    DESCRIPTION = "faces (dlib HOG detector) with 128-d embeddings (dlib ResNet)"
    TABLES: ClassVar[tuple[Table, ...]] = (s.faces,)
    SETTINGS = (
        "face_min_side",
        "face_work_side",
        "face_upsample_below",
        "face_min_score",
        "face_max_faces",
    )

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("dlib") is None:
            return "needs dlib (install unseen[faces])"
        folder = model_dir()
        if folder is None:
            return "needs face-recognition-models (install unseen[faces])"
        missing = [f for f in (SHAPE_FILE, ENCODER_FILE) if not (folder / f).is_file()]
        if missing:
            return f"model files missing from {folder}: {', '.join(missing)}"
        return None

    def applies_to(self, facts: ItemFacts) -> bool:
        least = self.settings.face_min_side
        return facts.is_image and min(facts.width or 0, facts.height or 0) >= least

    def analyse(self, ctx: DeepContext) -> list[DeepRow]:
        upright = ctx.upright().convert("RGB")
        return [DeepRow("faces", values) for values in find_faces(upright, self.settings)]


def find_faces(picture: Image.Image, settings: Settings = DEFAULT) -> list[dict[str, Any]]:
    """Rows for the faces in an RGB picture: box in its pixels, score, embedding."""
    detector, shape, encoder = _models()
    scale = min(1.0, settings.face_work_side / max(picture.size))
    work = picture
    if scale < 1.0:
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        work = picture.resize(size, Image.Resampling.BILINEAR)
    rgb = np.asarray(work)
    upsample = 1 if max(work.size) < settings.face_upsample_below else 0
    rects, scores, _ = detector.run(rgb, upsample, 0.0)
    found = sorted(
        ((s, r) for r, s in zip(rects, scores, strict=True) if s > settings.face_min_score),
        key=lambda pair: -pair[0],
    )[: settings.face_max_faces]
    rows = []
    for score, rect in found:
        vector = np.asarray(encoder.compute_face_descriptor(rgb, shape(rgb, rect)))
        rows.append(
            {
                **_box(rect, scale, picture.size),
                "score": round(float(score), 4),
                "embedding": encode(vector),
                "model": MODEL,
            }
        )
    return rows


def _box(rect: Any, scale: float, size: tuple[int, int]) -> dict[str, int]:
    """A dlib rectangle of the working picture in the picture's own pixels, clipped."""
    left = max(0, round(rect.left() / scale))
    top = max(0, round(rect.top() / scale))
    right = min(size[0], round((rect.right() + 1) / scale))
    bottom = min(size[1], round((rect.bottom() + 1) / scale))
    return {"x": left, "y": top, "w": max(0, right - left), "h": max(0, bottom - top)}


DEEP_ANALYSERS.register(FaceAnalyser)
