"""Contact (chat applications and accounts, never content) and concealment (anonymity,
VPN, encryption and wiping tools, their use, Tor Browser history, privacy settings)."""

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
    text,
    when,
)
from unseen.internet.sections.common import TOP_LINES, accounts_table, presence_table, top


def contact(conn: Connection, groups: Groups) -> Section:
    """Chat and social applications present and their accounts (never content)."""
    section = Section("contact", "Contact (chat and social applications)")
    section.tables.append(presence_table(conn, groups, "Applications present", {"chat"}))
    section.tables.append(accounts_table(conn, groups, "account.chat", "Accounts"))
    section.caveats.append(
        "Only the presence of applications and account names are shown; message content is "
        "not read into this profile."
    )
    return section


def concealment(conn: Connection, groups: Groups) -> Section:
    """Anonymity, VPN, encryption and wiping tools, their use, Tor history, settings."""
    section = Section("concealment", "Concealment and countermeasures")
    kinds = {"anonymity", "vpn", "encryption", "wiper"}
    section.tables.append(presence_table(conn, groups, "Tools present", kinds))
    table = Table(
        "Evidence the tools were run", ["tool", "evidence", "program", "runs", "last run"]
    )
    for r in records(conn, ["tool.usage"]):
        d = r.data
        if d["category"] not in kinds:
            continue
        ref = groups.add(f"{d['tool']} use ({d['evidence']})", [r.id])
        table.lines.append(
            Line(
                [d["tool"], d["evidence"], d["program"], text(d["run_count"]), when(r.ts_utc)], ref
            )
        )
    section.tables.append(table)
    tor: dict[tuple[str, ...], Tally] = defaultdict(Tally)
    for r in records(conn, ["browser.visit"]):
        if r.data["browser"] == "Tor Browser":
            tor[(r.data["profile"], r.source)].add(r)
    table = Table("Tor Browser history", ["profile", "source", "visits", "first", "last"])
    for (prof, source), t in top(tor, TOP_LINES):
        ref = groups.add(f"Tor Browser visits ({prof})", t.ids, t.count)
        table.lines.append(Line([prof, source, f"{t.count:,}", when(t.first), when(t.last)], ref))
    section.tables.append(table)
    table = Table("Browser privacy settings", ["browser", "profile", "setting", "value"])
    for r in records(conn, ["browser.setting"]):
        ref = groups.add(f"{r.data['browser']} setting {r.data['name']}", [r.id])
        table.lines.append(
            Line([r.data["browser"], r.data["profile"], r.data["name"], r.data["value"]], ref)
        )
    section.tables.append(table)
    section.caveats += [
        "Tor Browser keeps no history by default: few or no Tor Browser visits say nothing "
        "about how much it was used.",
        "Presence of a tool's files shows it was installed or unpacked; it does not show "
        "that it was used, or what for.",
    ]
    return section
