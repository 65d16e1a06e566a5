"""Sensor (PRNU) linking under JPEG recompression and resizing, on simulated sensors.

Each of ``SENSORS`` simulated camera sensors multiplies the benign synthetic rooms it
shoots by ``1 + K``, its own fixed pattern ``K`` (Gaussian, sigma ``SIGMA``: the
simulated strength ``benchmarks/leads.py`` uses; real sensors vary). Its fingerprint
is made, as the ``sensor`` grouping makes one, from the sign residuals of
``ORIGINALS`` camera originals (JPEG quality 92). Then ``COPIES`` other pictures of
each sensor, saved as each ``QUALITIES`` JPEG quality, are compared with the
fingerprint by PCE (true links above the grouping's threshold), and with every other
sensor's fingerprint, together with the pictures of ``STRANGERS`` sensors that have
no fingerprint (false links). Resized copies are a different size from the sensor's
pictures, which the grouping never compares (the crop must come from the same sensor
pixels): they are counted as what the grouping does with them, not linked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from unseen.core.settings import Settings
from unseen.demo.synth import render_scene
from unseen.validation.stats import Rate

SIZE = (512, 384)
SIGMA = 0.015
SENSORS = 8
STRANGERS = 4
ORIGINALS = 12
COPIES = 10
QUALITIES = (95, 90, 80, 70)
RESIZE = 0.9
SCENES = 900_000  # room ids; sensor s shoots rooms SCENES + 100 s onwards


@dataclass(frozen=True, slots=True)
class PrnuResult:
    sensors: int
    copies: int  # pictures a sensor in each form
    true_link: dict[str, Rate]  # transformation -> pictures linked to their own sensor
    false_link: Rate  # (picture, another sensor's fingerprint) pairs linked
    threshold: float
    closest_false: float  # highest PCE of a picture against another sensor


def unavailable() -> str | None:
    """Why the measurement cannot run here (the ``prnu`` extra missing), or None."""
    try:
        import pywt  # noqa: F401
        import scipy  # noqa: F401
    except ImportError:
        return "the prnu extra (PyWavelets, SciPy) is not installed"
    return None


def shoot(sensor: int, shot: int) -> Image.Image:
    """Room ``shot`` of sensor ``sensor`` as its sensor records it."""
    img = render_scene(SCENES + 100 * sensor + shot, SIZE, shot % 4, 0.8 + 0.1 * (shot % 4))
    pattern = np.random.default_rng([sensor, 0x9E5]).normal(0.0, SIGMA, (SIZE[1], SIZE[0]))
    exposed = np.asarray(img, dtype=np.float32) * (1.0 + pattern.astype(np.float32))[..., None]
    return Image.fromarray(np.clip(exposed, 0, 255).astype(np.uint8), "RGB")


def jpeg(img: Image.Image, quality: int) -> np.ndarray:
    """The pixels of ``img`` after saving it as a JPEG of ``quality``."""
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _residual(pixels: np.ndarray) -> np.ndarray | None:
    from unseen.correlation.prnu import residual_bits, signs

    side, bits = residual_bits(pixels)
    return signs(bits, side) if side else None


def measure(sensors: int = SENSORS, copies: int = COPIES) -> PrnuResult:
    from unseen.correlation.prnu import Matcher, fingerprint

    threshold = Settings().sensor_pce_threshold
    matchers = []
    for s in range(sensors):
        originals = [_residual(jpeg(shoot(s, k), 92)) for k in range(ORIGINALS)]
        matchers.append(Matcher(fingerprint([r for r in originals if r is not None])))
    side = matchers[0].side
    hits: dict[str, int] = {}
    false = pairs = 0
    closest = float("-inf")
    names = [f"JPEG quality {q}" for q in QUALITIES]
    for s in range(sensors + STRANGERS):
        for k in range(ORIGINALS, ORIGINALS + copies):
            shot = shoot(s, k)
            for name, quality in zip(names, QUALITIES, strict=True):
                residual = _residual(jpeg(shot, quality))
                if residual is None or residual.shape != (side, side):
                    continue
                for owner, matcher in enumerate(matchers):
                    pce = matcher.pce(residual)
                    if owner == s:
                        hits[name] = hits.get(name, 0) + (pce > threshold)
                        continue
                    false += pce > threshold
                    pairs += 1
                    closest = max(closest, pce)
    trials = sensors * copies
    true_link = {name: Rate(hits.get(name, 0), trials) for name in names}
    # A resized copy has another size than the sensor's pictures: the grouping never
    # compares it, so none is linked (stated in the report, not a measurement of PRNU).
    true_link[f"resized to {100 * RESIZE:.0f} % (not compared: another size)"] = Rate(0, trials)
    return PrnuResult(sensors, copies, true_link, Rate(false, pairs), threshold, round(closest, 1))
