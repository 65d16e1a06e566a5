"""Seen before: items this case shares with the agency intelligence library.

Two views of the same hits (``unseen.intel.match``):

* item signals: each hit is a weighted reason on the item's lead ("same room as
  series 'S' from case 2025/117"), with the library entry as provenance;
* clusters of kind ``seen_before``: one per library entry the case meets, holding
  every item that meets it, so the review UI shows "everything here that an earlier
  case confirmed" on one cluster page.

The library is the one matching uses (the case's ``library`` setting, else
``$UNSEEN_HOME`` or the default home).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection

from unseen.core.settings import Settings
from unseen.correlation.base import (
    GROUPINGS,
    ITEM_SIGNALS,
    Cluster,
    Grouping,
    ItemSignals,
    Member,
    Signal,
)
from unseen.correlation.facts import Facts
from unseen.intel.match import Hit, seen_before, seen_label


class SeenBeforeGrouping(Grouping):
    NAME = "seen_before"
    VERSION = "1"
    KIND = "seen_before"
    DESCRIPTION = (
        "items that meet an entry of the intelligence library (same picture, a near copy, "
        "the same room, camera serial or sensor noise as an earlier case)"
    )

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        by_entry: dict[str, list[Hit]] = defaultdict(list)
        for hit in seen_before(facts, conn, library(self.settings), self.settings.pdq_radius):
            by_entry[hit.entry.name].append(hit)
        for name, hits in sorted(by_entry.items()):
            entry = hits[0].entry
            members: dict[int, Hit] = {}
            for hit in hits:  # one membership per item: its strongest hit
                if hit.item_id not in members or hit.score > members[hit.item_id].score:
                    members[hit.item_id] = hit
            yield Cluster(
                self.KIND,
                f"{entry.case_uuid}|{name}",
                f"seen before: {entry.kind} {name!r} from case {entry.case_ref}",
                1.0,
                tuple(Member(i, h.detail, h.score) for i, h in sorted(members.items())),
                {
                    "entry": name,
                    "kind": entry.kind,
                    "case": entry.case_ref,
                    "case_uuid": entry.case_uuid,
                    "promoted_by": entry.promoted_by,
                    "promoted_at": entry.promoted_at,
                    "retain_until": entry.retain_until,
                    "victim_ref": entry.victim_ref,
                    "origin": entry.origin,
                    "signals": sorted({h.signal for h in hits}),
                },
            )


class SeenBeforeSignals(ItemSignals):
    """Physical links (same room, camera, sensor) to material an earlier case confirmed
    weigh like the strongest links to known material in this case."""

    NAME = "seen_before"
    VERSION = "1"
    DESCRIPTION = "reasons from the intelligence library: seen in an earlier case"
    WEIGHTS = {  # noqa: RUF012 - read-only defaults, as every ItemSignals declares them
        "seen_exact": 6.0,
        "seen_near": 6.0,
        "seen_series": 5.0,
        "seen_camera": 6.0,
        "seen_sensor": 6.0,
        "seen_contact": 4.0,
    }

    def signals(self, facts: Facts, conn: Connection) -> Iterator[Signal]:
        for hit in seen_before(facts, conn, library(self.settings), self.settings.pdq_radius):
            about = seen_label(hit.entry)
            yield Signal(hit.item_id, hit.signal, hit.detail, hit.entry.provenance, about)


def library(settings: Settings) -> Path | None:
    """The library folder the case's settings name (None: the default home)."""
    return Path(settings.library) if settings.library else None


GROUPINGS.register(SeenBeforeGrouping)
ITEM_SIGNALS.register(SeenBeforeSignals)
