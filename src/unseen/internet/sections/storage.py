"""Storage and devices: USB storage, cloud sync clients and accounts, recently opened
files, installed programs."""

from __future__ import annotations

from sqlalchemy import Connection

from unseen.internet.profile import (
    Groups,
    Line,
    Section,
    Table,
    records,
    text,
    when,
)
from unseen.internet.sections.common import TOP_LINES, accounts_table, presence_table


def storage(conn: Connection, groups: Groups) -> Section:
    """USB devices, cloud sync, recently opened files, installed programs."""
    section = Section("storage", "Storage and devices")
    table = Table(
        "USB storage devices (registry)",
        [
            "vendor",
            "product",
            "serial",
            "name",
            "first installed",
            "last connected",
            "last removed",
            "key written",
        ],
    )
    for r in records(conn, ["device.usb"]):
        d = r.data
        ref = groups.add(f"USB device {d['serial']}", [r.id])
        table.lines.append(
            Line(
                [
                    text(d["vendor"]),
                    text(d["product"]),
                    d["serial"],
                    text(d["friendly_name"]),
                    when(d["first_installed_utc"]),
                    when(d["last_connected_utc"]),
                    when(d["last_removed_utc"]),
                    when(r.ts_utc),
                ],
                ref,
            )
        )
    section.tables.append(table)
    section.tables.append(presence_table(conn, groups, "Cloud sync clients present", {"cloud"}))
    section.tables.append(accounts_table(conn, groups, "account.cloud", "Cloud accounts"))
    rows = list(records(conn, ["registry.recent_doc"]))
    table = Table(
        "Recently opened files and folders (RecentDocs)",
        ["name", "position", "opened (when known)", "hive"],
        more=max(0, len(rows) - TOP_LINES),
    )
    for r in rows[:TOP_LINES]:
        ref = groups.add(f"RecentDocs {r.data['name']}", [r.id])
        table.lines.append(
            Line([r.data["name"], text(r.data["position"]), when(r.ts_utc), r.item_path], ref)
        )
    section.tables.append(table)
    rows = list(records(conn, ["program.installed"]))
    table = Table(
        "Installed programs (registry Uninstall keys)",
        ["name", "version", "publisher", "install date", "hive"],
        more=max(0, len(rows) - TOP_LINES),
    )
    for r in sorted(rows, key=lambda r: r.data["name"].casefold())[:TOP_LINES]:
        ref = groups.add(f"installed program {r.data['name']}", [r.id])
        table.lines.append(
            Line(
                [
                    r.data["name"],
                    text(r.data["version"]),
                    text(r.data["publisher"]),
                    text(r.data["install_date"]),
                    r.item_path,
                ],
                ref,
            )
        )
    section.tables.append(table)
    return section
