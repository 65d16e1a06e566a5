"""Standard libjpeg quantisation tables: the mark of software re-encoding.

Cameras use their own tables; libjpeg-based software (web platforms, editors,
messengers, Pillow) writes the IJG tables scaled by a quality setting. A file whose
tables fingerprint-match an IJG quality was very likely saved again by software.
"""

from __future__ import annotations

from functools import cache

from unseen.analysis.image import qtables_fingerprint
from unseen.core.jpeg import IJG_CHROMA, IJG_LUMA, ijg_table


@cache
def _standard() -> dict[str, int]:
    found: dict[str, int] = {}
    for q in range(1, 101):
        luma, chroma = ijg_table(IJG_LUMA, q), ijg_table(IJG_CHROMA, q)
        found.setdefault(qtables_fingerprint({0: luma, 1: chroma}), q)
        found.setdefault(qtables_fingerprint({0: luma}), q)  # greyscale JPEGs
    return found


def standard_quality(fingerprint: str) -> int | None:
    """The IJG quality whose tables have this fingerprint, or None (non-standard)."""
    return _standard().get(fingerprint)
