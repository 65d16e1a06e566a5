"""Deep analyser ``scene``: an image embedding and local features of each picture.

About 20 ms and at most 66 KiB a picture: the embedding (1280 float16; portrait-shaped
pictures also their two quarter turns), at most 1000 ORB key points with descriptors
(39 KiB; 300 until version 3, too few for crops and occluded rooms) and an up to
160 x 160 grey copy. The ``scenes`` grouping reads them. Needs the ``scene`` extra
(onnxruntime, opencv-python-headless).
"""

from __future__ import annotations

import importlib.util
from typing import ClassVar

import numpy as np
from sqlalchemy import Table

from unseen.correlation.deep.base import DEEP_ANALYSERS, DeepAnalyser, DeepContext, DeepRow
from unseen.correlation.facts import ItemFacts
from unseen.store import schema as s

MIN_SIDE = 32  # px: smaller pictures (icons) show no scene


class SceneAnalyser(DeepAnalyser):
    NAME = "scene"
    VERSION = "3"
    DESCRIPTION = "scene embedding (EfficientNet-Lite0, ONNX) and ORB local features"
    TABLES: ClassVar[tuple[Table, ...]] = (s.scene_features,)

    def unavailable(self) -> str | None:
        missing = [m for m in ("onnxruntime", "cv2") if importlib.util.find_spec(m) is None]
        if missing:
            return f"needs {', '.join(missing)} (install unseen[scene])"
        from unseen.correlation.scene import model_path

        if not model_path().is_file():
            return f"the model file {model_path()} is missing"
        return None

    def applies_to(self, facts: ItemFacts) -> bool:
        return facts.is_image and min(facts.width or 0, facts.height or 0) >= MIN_SIDE

    def analyse(self, ctx: DeepContext) -> list[DeepRow]:
        from unseen.correlation.scene import embed, local_features, pack

        upright = ctx.upright().convert("RGB")
        values = pack(local_features(upright))
        # Portrait-shaped pictures may be landscape scenes saved turned: embed the two
        # quarter turns too, as extra queries for the grouping's candidate search.
        turns = (0, 1, 3) if upright.height > upright.width else (0,)
        vectors = embed(upright, turns).astype(np.float16)
        values["embedding"] = vectors[0].tobytes()
        values["turned"] = vectors[1:].tobytes() if len(vectors) > 1 else None
        return [DeepRow("scene_features", values)]


DEEP_ANALYSERS.register(SceneAnalyser)
