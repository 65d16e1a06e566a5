"""A reason: one weighted, explained contribution to a score.

Every first-generation indicator, lead and group rank is a sum of reasons, each with
what the examiner reads (``detail``) and, where it came from other records (a
cluster, hash-set entries, a reviewer's decision), its ``provenance``. A reason that
ties a lead to known or decided material names that material in ``about`` ("16
pictures categorised A by hash set UK-A"), so lists can say what a lead is
associated with without parsing sentences.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reason:
    signal: str
    weight: float
    detail: str
    provenance: str = ""
    about: str = ""

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "signal": self.signal,
            "weight": round(self.weight, 3),
            "detail": self.detail,
        }
        if self.provenance:
            found["provenance"] = self.provenance
        if self.about:
            found["about"] = self.about
        return found

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> Reason:
        weight = raw.get("weight", 0.0)
        return cls(
            str(raw.get("signal", "")),
            float(weight) if isinstance(weight, int | float) else 0.0,
            str(raw.get("detail", "")),
            str(raw.get("provenance", "")),
            str(raw.get("about", "")),
        )


def total(reasons: list[Reason]) -> float:
    """A score: the sum of its reasons' weights, rounded as stored."""
    return round(sum(r.weight for r in reasons), 3)


def describe(reasons: list[Reason]) -> str:
    """Reasons as one line, strongest first: what ``unseen leads`` prints."""
    ordered = sorted(reasons, key=lambda r: -abs(r.weight))
    return "; ".join(f"{r.detail} ({r.weight:+.2f})" for r in ordered)


def associated_with(reasons: list[Reason]) -> list[str]:
    """The known or decided material a lead is tied to, strongest tie first, once each."""
    found: dict[str, float] = {}
    for r in reasons:
        if r.about:
            found[r.about] = max(found.get(r.about, 0.0), abs(r.weight))
    return sorted(found, key=lambda about: (-found[about], about))
