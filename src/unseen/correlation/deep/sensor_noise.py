"""Deep analyser ``sensor_noise``: each picture's sensor-noise residual, in one bit a pixel.

The residual (see :mod:`unseen.correlation.prnu`) is taken over a fixed centre crop
of at most 512 px in stored orientation, so each picture costs at most 32 KiB and a
few tens of milliseconds; the ``sensor`` grouping builds camera fingerprints from
these rows and links pictures without camera EXIF to them. Needs the ``prnu`` extra
(PyWavelets, SciPy).
"""

from __future__ import annotations

import importlib.util
from typing import ClassVar

import numpy as np
from sqlalchemy import Table

from unseen.correlation.deep.base import DEEP_ANALYSERS, DeepAnalyser, DeepContext, DeepRow
from unseen.correlation.facts import ItemFacts
from unseen.store import schema as s

# Palette and screenshot formats carry no sensor noise worth measuring.
SKIPPED_MIMES = ("image/gif", "image/bmp", "image/x-icon", "image/vnd.microsoft.icon")


class SensorNoiseAnalyser(DeepAnalyser):
    NAME = "sensor_noise"
    VERSION = "1"
    DESCRIPTION = "sensor noise (PRNU) residual of a centre crop, sign bits"
    TABLES: ClassVar[tuple[Table, ...]] = (s.sensor_noise,)

    def unavailable(self) -> str | None:
        missing = [m for m in ("pywt", "scipy") if importlib.util.find_spec(m) is None]
        if missing:
            return f"needs {', '.join(missing)} (install unseen[prnu])"
        return None

    def applies_to(self, facts: ItemFacts) -> bool:
        from unseen.correlation.prnu import crop_side

        return (
            facts.is_image
            and facts.mime not in SKIPPED_MIMES
            and bool(crop_side(facts.width or 0, facts.height or 0))
        )

    def analyse(self, ctx: DeepContext) -> list[DeepRow]:
        from unseen.correlation.prnu import residual_bits

        rgb = np.asarray(ctx.image.convert("RGB"))
        side, bits = residual_bits(rgb)
        if not side:
            return []
        values = {"side": side, "width": rgb.shape[1], "height": rgb.shape[0], "bits": bits}
        return [DeepRow("sensor_noise", values)]


DEEP_ANALYSERS.register(SensorNoiseAnalyser)
