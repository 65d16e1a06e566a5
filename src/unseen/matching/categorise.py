"""Automatic categories from hash-set matches, each with the reason that produced it.

Every match's category is a code of its set's scheme; it is carried into the case's
scheme only through an explicit mapping (``mapping.map_category``), never guessed.
The rules, in order:

- A set's "uncategorised" code (UK ``U``, US ``CAT-0``) is no opinion: it decides only
  when no set offers anything else.
- Categorised sets that agree give their category. Sets that disagree (or a category
  with no equivalent in the case's scheme beside one that has) give a *conflict*: no
  category, every match kept and listed, for a reviewer to settle.
- Known-good sets (NSRL) mark an item ignorable only when nothing else matched it; a
  known-good match beside a categorised one keeps the category and flags a conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, inspect, select

from unseen.core.errors import UserError
from unseen.core.schemes import load_scheme
from unseen.matching import signals
from unseen.matching.mapping import NO_SCHEME, map_category
from unseen.store import schema as s

# The kinds a match is recorded as, strongest first, and their reason templates: both
# belong to the signal types; kept here by name for the modules that read them.
EXACT_KINDS = signals.exact_matched()
KIND_NAMES = {signal.NAME: signal.REASON for signal in signals.matched()}
SHOWN = 4  # matches spelled out in a reason line; the rest are counted


@dataclass(frozen=True, slots=True)
class Evidence:
    """One match, as categorisation sees it."""

    set_label: str  # "CAID-2026 v3"
    set_scheme: str
    known_good: bool
    kind: str
    distance: int
    entry_ref: str
    category: str | None  # a code of ``set_scheme``
    fraction: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The automatic category of an item, in the case's scheme, and why."""

    category: str | None
    reason: str
    source: str
    conflict: bool
    known_good: bool


def _uncategorised(scheme: str) -> str | None:
    try:
        return load_scheme(scheme).uncategorised
    except UserError:  # a custom scheme recorded by name only
        return None


def mapped(evidence: Evidence, case_scheme: str) -> str | None:
    """The match's category in the case's scheme, or None when it has no equivalent."""
    if evidence.category is None or evidence.set_scheme == NO_SCHEME:
        return None
    if evidence.set_scheme == case_scheme:
        return evidence.category
    try:
        return map_category(evidence.category, evidence.set_scheme, case_scheme)
    except UserError:  # a code its own scheme lacks: leave it unmapped, say so
        return None


def describe(evidence: Evidence, case_scheme: str) -> str:
    """One match in words: ``MD5 exact match in CAID-2026 v3 entry 17 (A)``."""
    kind = signals.get(evidence.kind)
    what = kind.reason(evidence.distance, evidence.fraction)
    text = f"{what} {kind.preposition()} {evidence.set_label} entry {evidence.entry_ref}"
    if evidence.known_good:
        return f"{text} (known good)"
    if evidence.category is None:
        return f"{text} (no category)"
    target = mapped(evidence, case_scheme)
    if evidence.set_scheme == case_scheme:
        return f"{text} ({evidence.category})"
    shown = target if target is not None else f"no {case_scheme} equivalent"
    return f"{text} ({evidence.category} in {evidence.set_scheme} -> {shown})"


def decide(found: Sequence[Evidence], case_scheme: str) -> Decision:
    """The automatic category of an item from all its matches (at least one)."""
    found = order(found)
    graded = [e for e in found if not e.known_good]
    good = [e for e in found if e.known_good]
    opinions = {_opinion(e, case_scheme) for e in graded}
    undecided = _uncategorised(case_scheme)
    if len(opinions) > 1:
        opinions.discard(None)  # a matched entry without any category says nothing
    if len(opinions) > 1:
        opinions.discard(undecided)  # "not yet graded" yields to a grade
    conflict = len(opinions) > 1 or bool(graded and good)
    category = None
    if len(opinions) == 1:
        only = next(iter(opinions))
        category = only if only is None or not only.startswith("!") else None
    labels = sorted({e.set_label for e in found})
    reason = "; ".join(describe(e, case_scheme) for e in found[:SHOWN])
    if len(found) > SHOWN:
        reason += f"; and {len(found) - SHOWN} more"
    if conflict:
        shown = sorted(o.lstrip("!") for o in opinions if o is not None)
        shown += ["known good"] if good else []
        reason = f"conflict between sets ({', '.join(shown)}): {reason}"
    return Decision(
        category=category,
        reason=reason,
        source="hashset:" + ", ".join(labels),
        conflict=conflict,
        known_good=not graded,
    )


def _opinion(evidence: Evidence, case_scheme: str) -> str | None:
    """What a categorised match says in the case's scheme; ``!CODE (scheme)`` when its
    category has no equivalent there (it still disagrees with other categories)."""
    if evidence.category is None:
        return None
    target = mapped(evidence, case_scheme)
    return target if target is not None else f"!{evidence.category} ({evidence.set_scheme})"


def order(found: Sequence[Evidence]) -> list[Evidence]:
    """Strongest evidence first: exact digests, then by distance, then set label."""
    return sorted(found, key=lambda e: (*strength(e.kind, e.distance), e.set_label))


def strength(kind: str, distance: int) -> tuple[bool, int, int]:
    """How strongly a match of this kind and distance speaks, smallest strongest: any
    exact digest before any distance, then the closer, then the kind's own rank."""
    signal = signals.get(kind)
    return (not signal.EXACT, distance, signal.STRENGTH)


def no_category() -> dict[str, Any]:
    """The export keys of an item nothing categorised."""
    return {
        "category": None,
        "category_source": None,
        "category_reason": None,
        "category_conflict": False,
        "known_good": False,
        "category_foreign": None,
        "matches": [],
    }


def foreign_grade(matches: Sequence[dict[str, Any]], case_scheme: str) -> dict[str, str] | None:
    """``{scheme, code}``: the grade the strongest graded match gave in a set scheme other
    than the case's, so that a US set's grade in a UK case stays visible as what it is
    (beside ``category``, which only ever holds an explicitly mapped case grade)."""
    foreign = [
        m
        for m in matches
        if not m["known_good"]
        and m["category"] is not None
        and m["set_scheme"] not in (case_scheme, NO_SCHEME)
    ]
    if not foreign:
        return None
    best = min(foreign, key=lambda m: strength(m["kind"], m["distance"]))
    return {"scheme": best["set_scheme"], "code": best["category"]}


def item_categories(conn: Connection, first: int, last: int) -> dict[int, dict[str, Any]]:
    """The export keys ``category``, ``category_source`` (``hashset:NAME vN`` or
    ``reviewer:USER``), ``category_reason``, ``category_conflict``, ``known_good``,
    ``category_foreign`` and ``matches`` of items ``first..last`` that have any. Tables a
    case lacks (made before matching or review existed) are skipped."""
    found: dict[int, dict[str, Any]] = {}
    tables = set(inspect(conn).get_table_names())
    if s.auto_categories.name in tables:
        a = s.auto_categories
        for row in conn.execute(select(a).where(a.c.item_id.between(first, last))):
            found[row.item_id] = no_category() | {
                "category": row.category,
                "category_source": row.source,
                "category_reason": row.reason,
                "category_conflict": bool(row.conflict),
                "known_good": bool(row.known_good),
            }
    graded: dict[int, list[dict[str, Any]]] = {}
    if s.matches.name in tables:
        m = s.matches
        rows = conn.execute(
            select(m).where(m.c.item_id.between(first, last)).order_by(m.c.item_id, m.c.id)
        )
        for row in rows:
            found.setdefault(row.item_id, no_category())["matches"].append(
                {
                    "set": f"{row.set_name} v{row.set_version}",
                    "kind": row.kind,
                    "distance": row.distance,
                    "category": row.category,
                    "entry": row.entry_ref,
                    "fraction": row.frame_fraction,
                }
            )
            graded.setdefault(row.item_id, []).append(
                {
                    "kind": row.kind,
                    "distance": row.distance,
                    "category": row.category,
                    "set_scheme": row.set_scheme,
                    "known_good": bool(row.known_good),
                }
            )
        scheme = _case_scheme(conn, tables)
        for item_id, rows_of_item in graded.items():
            found[item_id]["category_foreign"] = foreign_grade(rows_of_item, scheme)
    # A reviewer's decision outranks every hash set (the review keeps ``review_state``).
    if s.review_state.name in tables:
        r = s.review_state
        for row in conn.execute(select(r).where(r.c.item_id.between(first, last))):
            found.setdefault(row.item_id, no_category()).update(
                category=row.category, category_source=f"reviewer:{row.user}"
            )
    return found


def _case_scheme(conn: Connection, tables: set[str]) -> str:
    """The case's grading scheme as recorded in the case database (``uk`` by default)."""
    if s.case_info.name not in tables:
        return "uk"
    info = s.case_info
    value = conn.execute(select(info.c.value).where(info.c.key == "scheme")).scalar()
    return str(value) if value else "uk"
