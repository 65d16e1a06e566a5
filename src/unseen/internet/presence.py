"""Presence of applications (Tor, VPNs, encryption, wipers, P2P, cloud sync, chat) found
by their well-known paths; the rules are data (``data/presence_rules.json``).

The scan runs in the main process over the item paths already in the case (no content
is read): one ``tool.presence`` record per tool and source with the matching paths as
provenance, one ``tool.usage`` record per execution trace (a Prefetch file), and
``account.*`` records where a path names an account.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from unseen.internet.base import GlobIndex
from unseen.internet.records import (
    Artefact,
    ChatAccount,
    CloudAccount,
    Provenance,
    ToolPresence,
    ToolUsage,
)
from unseen.internet.timestamps import utc_of

NAME = "presence_rules"
MAX_PATHS_KEPT = 25


@dataclass(frozen=True, slots=True)
class Rule:
    tool: str
    category: str
    globs: tuple[str, ...]
    usage_globs: tuple[str, ...]
    executables: tuple[str, ...]
    registry: tuple[tuple[str, str], ...]
    accounts: tuple[tuple[str, re.Pattern[str]], ...]
    note: str | None


@cache
def _data() -> dict[str, Any]:
    text = resources.files("unseen.internet").joinpath("data/presence_rules.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def version() -> str:
    """The rule table's version (recorded as the parser version of its records)."""
    return str(_data()["version"])


@cache
def rules() -> tuple[Rule, ...]:
    """The rule table, loaded once."""
    return tuple(
        Rule(
            tool=r["tool"],
            category=r["category"],
            globs=tuple(r["globs"]),
            usage_globs=tuple(r.get("usage_globs", ())),
            executables=tuple(r.get("executables", ())),
            registry=tuple((k["hive"], k["key"]) for k in r.get("registry", ())),
            accounts=tuple(
                (a["service"], re.compile(a["pattern"])) for a in r.get("accounts", ())
            ),
            note=r.get("note"),
        )
        for r in _data()["tools"]
    )


@cache
def _index() -> GlobIndex[tuple[int, str]]:
    entries: list[tuple[tuple[int, str], str]] = []
    for i, rule in enumerate(rules()):
        entries += [((i, "presence"), g) for g in rule.globs]
        entries += [((i, "usage"), g) for g in rule.usage_globs]
    return GlobIndex(entries)


def tool_for_executable(program: str) -> Rule | None:
    """The rule whose executables include the file name at the end of ``program``."""
    name = re.split(r"[\\/]", program)[-1].casefold()
    for rule in rules():
        if any(name == exe.casefold() for exe in rule.executables):
            return rule
    return None


def registry_rules(hive: str) -> list[tuple[Rule, str]]:
    """(rule, key path) pairs to look for in a hive of this type."""
    return [(rule, key) for rule in rules() for h, key in rule.registry if h == hive]


@dataclass(frozen=True, slots=True)
class PathRow:
    """An item as the scan sees it: id, source label, display path, modification time."""

    item_id: int
    source: str
    path: str
    mtime: float | None


@dataclass
class _Found:
    first_item: int
    paths: list[str] = field(default_factory=list)
    count: int = 0
    mtimes: list[float] = field(default_factory=list)


def scan(items: Iterable[PathRow]) -> list[tuple[int, Artefact]]:
    """Presence, usage and account records (each with the item it rests on)."""
    table = rules()
    presence: dict[tuple[str, int], _Found] = {}
    accounts: dict[tuple[str, int, str, str], PathRow] = {}
    out: list[tuple[int, Artefact]] = []
    for row in items:
        for index, kind in _index().match(row.path):
            rule = table[index]
            if kind == "usage":
                out.append((row.item_id, _usage(rule, row)))
                continue
            found = presence.setdefault((row.source, index), _Found(row.item_id))
            found.count += 1
            if len(found.paths) < MAX_PATHS_KEPT:
                found.paths.append(row.path)
            if row.mtime is not None:
                found.mtimes.append(row.mtime)
            for service, pattern in rule.accounts:
                match = pattern.search("/" + row.path)
                if match:
                    accounts.setdefault((row.source, index, service, match["account"]), row)
    for (source, index), found in presence.items():
        out.append((found.first_item, _presence(table[index], source, found)))
    for (_, index, service, account), row in accounts.items():
        cls = ChatAccount if table[index].category == "chat" else CloudAccount
        out.append(
            (
                row.item_id,
                cls(
                    _prov(row.source, row.path, f"account rule {service}"),
                    None,
                    service=service,
                    account=account,
                    detail=row.path,
                ),
            )
        )
    return out


def _prov(source: str, path: str, ref: str) -> Provenance:
    return Provenance(source, path, ref, NAME, version())


def _presence(rule: Rule, source: str, found: _Found) -> ToolPresence:
    first = min(found.mtimes) if found.mtimes else None
    last = max(found.mtimes) if found.mtimes else None
    return ToolPresence(
        _prov(source, found.paths[0], f"rule {rule.tool}"),
        None,
        tool=rule.tool,
        category=rule.category,
        paths=tuple(found.paths),
        path_count=found.count,
        files_mtime_first=utc_of(first, "unix_s"),
        files_mtime_last=utc_of(last, "unix_s"),
        note=rule.note,
    )


def _usage(rule: Rule, row: PathRow) -> ToolUsage:
    return ToolUsage(
        _prov(row.source, row.path, f"rule {rule.tool} (execution trace)"),
        None,
        tool=rule.tool,
        category=rule.category,
        program=row.path,
        run_count=None,
        evidence="prefetch file present",
    )
