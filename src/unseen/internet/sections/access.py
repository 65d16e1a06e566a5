"""Access and search: browser profiles, domains, search terms (verbatim, for review),
typed addresses and remembered form fields."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection

from unseen.internet.profile import (
    Groups,
    Line,
    Section,
    Table,
    Tally,
    records,
    when,
)
from unseen.internet.sections.common import TOP_DOMAINS, TOP_LINES, domain, span, top


def access(conn: Connection, groups: Groups) -> Section:
    """Browsing and searching: profiles, domains, search terms, typed addresses."""
    section = Section("access", "Access and search")
    profiles: dict[tuple[str, ...], Tally] = defaultdict(Tally)
    domains: dict[tuple[str, ...], Tally] = defaultdict(Tally)
    typed: dict[tuple[str, ...], Tally] = defaultdict(Tally)
    everything = Tally()
    for r in records(conn, ["browser.visit"]):
        key = (r.data["browser"], r.data["profile"], r.source)
        site = domains[(domain(r.data["url"]),)]
        profiles[key].add(r)
        site.add(r)
        everything.add(r)
        if r.data["typed"]:
            typed[key].add(r)
            site.extra["typed"] = site.extra.get("typed", 0) + 1
    if everything.count:
        section.facts.append(
            f"The records indicate {everything.count:,} page visits in {len(profiles)} browser "
            f"profile(s), dated {span(everything)}; "
            f"{sum(t.count for t in typed.values()):,} of them typed or pasted into the "
            "address bar (the browser's own transition type)."
        )
    table = Table(
        "Browser profiles", ["browser", "profile", "source", "visits", "typed", "first", "last"]
    )
    for (browser, prof, source), t in top(profiles, TOP_LINES):
        ref = groups.add(f"visits in {browser} profile {prof} ({source})", t.ids, t.count)
        table.lines.append(
            Line(
                [
                    browser,
                    prof,
                    source,
                    f"{t.count:,}",
                    f"{typed[(browser, prof, source)].count:,}",
                    when(t.first),
                    when(t.last),
                ],
                ref,
            )
        )
    section.tables.append(table)
    table = Table(
        "Most visited domains",
        ["domain", "visits", "typed", "first", "last"],
        more=max(0, len(domains) - TOP_DOMAINS),
    )
    for (name,), t in top(domains, TOP_DOMAINS):
        ref = groups.add(f"visits to {name}", t.ids, t.count)
        table.lines.append(
            Line(
                [
                    name,
                    f"{t.count:,}",
                    f"{t.extra.get('typed', 0):,}",
                    when(t.first),
                    when(t.last),
                ],
                ref,
            )
        )
    section.tables.append(table)
    section.tables.append(_searches(conn, groups))
    section.tables.append(_typed_urls(conn, groups))
    section.tables.append(_form_entries(conn, groups))
    section.caveats.append(
        "Search terms are shown verbatim as recorded, for an examiner to review; they "
        "are not classified or interpreted here."
    )
    return section


def _searches(conn: Connection, groups: Groups) -> Table:
    terms: dict[tuple[str, ...], Tally] = defaultdict(Tally)
    for r in records(conn, ["search.query"]):
        t = terms[(r.data["terms"],)]
        t.add(r)
        t.extra.setdefault("engines", set()).add(r.data["engine"] or "(none named)")
        t.extra.setdefault("apps", set()).add(f"{r.data['application']} ({r.data['origin']})")
    table = Table(
        "Search terms (verbatim, for review)",
        ["terms", "engines", "where recorded", "records", "first", "last"],
        more=max(0, len(terms) - TOP_LINES),
    )
    for (words,), t in sorted(terms.items(), key=lambda kv: (-kv[1].count, kv[0]))[:TOP_LINES]:
        ref = groups.add(f"search records of the terms {words!r}", t.ids, t.count)
        table.lines.append(
            Line(
                [
                    words,
                    ", ".join(sorted(t.extra["engines"])),
                    ", ".join(sorted(t.extra["apps"])),
                    f"{t.count:,}",
                    when(t.first),
                    when(t.last),
                ],
                ref,
                review=True,
            )
        )
    return table


def _typed_urls(conn: Connection, groups: Groups) -> Table:
    table = Table(
        "Addresses typed in Windows (registry TypedURLs)",
        ["address", "value", "time", "source", "hive"],
    )
    for r in records(conn, ["registry.typed_url"]):
        ref = groups.add(f"TypedURLs {r.data['value_name']}", [r.id])
        table.lines.append(
            Line([r.data["url"], r.data["value_name"], when(r.ts_utc), r.source, r.item_path], ref)
        )
    return table


def _form_entries(conn: Connection, groups: Groups) -> Table:
    fields: dict[tuple[str, ...], Tally] = defaultdict(Tally)
    for r in records(conn, ["browser.form_entry"]):
        fields[(r.data["browser"], r.data["field"])].add(r)
    table = Table(
        "Remembered web-form fields (names only; values in the export)",
        ["browser", "field name", "values", "first", "last"],
    )
    for (browser, name), t in top(fields, TOP_LINES):
        ref = groups.add(f"{browser} form field {name!r}", t.ids, t.count)
        table.lines.append(Line([browser, name, f"{t.count:,}", when(t.first), when(t.last)], ref))
    return table
