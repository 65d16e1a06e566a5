"""Standard libjpeg quantisation tables: the mark of software re-encoding.

Cameras use their own tables; libjpeg-based software (web platforms, editors,
messengers, Pillow) writes the IJG tables scaled by a quality setting. A file whose
tables fingerprint-match an IJG quality was very likely saved again by software.
"""

from __future__ import annotations

from functools import cache

from unseen.analysis.image import _IJG_LUMA, qtables_fingerprint

_IJG_CHROMA = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
)  # fmt: skip


def ijg_table(base: tuple[int, ...], quality: int) -> list[int]:
    """An IJG base table scaled to ``quality`` as libjpeg does (baseline: 1..255)."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (v * scale + 50) // 100)) for v in base]


@cache
def _standard() -> dict[str, int]:
    found: dict[str, int] = {}
    for q in range(1, 101):
        luma, chroma = ijg_table(_IJG_LUMA, q), ijg_table(_IJG_CHROMA, q)
        found.setdefault(qtables_fingerprint({0: luma, 1: chroma}), q)
        found.setdefault(qtables_fingerprint({0: luma}), q)  # greyscale JPEGs
    return found


def standard_quality(fingerprint: str) -> int | None:
    """The IJG quality whose tables have this fingerprint, or None (non-standard)."""
    return _standard().get(fingerprint)
