"""Confidence intervals for measured rates."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


@dataclass(frozen=True, slots=True)
class Rate:
    """``hits`` out of ``trials``, with its Wilson score 95 % interval."""

    hits: int
    trials: int

    @property
    def value(self) -> float:
        return self.hits / self.trials if self.trials else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.hits, self.trials)


def wilson(hits: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion: unlike the normal
    approximation it stays inside 0..1 and gives a useful upper bound when nothing
    was seen (0 false matches in a million pairs is not a rate of exactly 0).

    Example:
        >>> [round(x, 4) for x in wilson(0, 10)]
        [0.0, 0.2775]
    """
    if trials <= 0:
        return (0.0, 1.0)
    p = hits / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))
