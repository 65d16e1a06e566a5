"""The Communications section of the internet report: which apps the phone used for
messages, with whom, which conversations exchanged pictures, at what hours, and
indicator terms with counts and the messages they are in.

Everything is counted as recorded. Indicator terms come from an agency-editable data
file (``<unseen home>/indicator_terms.json``, else the packaged default) and are
worded as indicators for a trained assessor, never as findings.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path

from sqlalchemy import Connection, Integer, func, select

from unseen.core.home import library_home
from unseen.internet.profile import Groups, Line, Profile, Section, Table, when
from unseen.phones.facts import conversation_label
from unseen.phones.people import rank_people
from unseen.store import schema as s

TERMS_FILE = "indicator_terms.json"
MAX_REFS = 10
TOP = 50


def indicator_terms(home: Path | None = None) -> dict[str, list[str]]:
    """The indicator groups and their terms: the agency's file if present, else ours."""
    custom = library_home(home) / TERMS_FILE
    if custom.is_file():
        raw = custom.read_text(encoding="utf-8")
    else:
        raw = resources.files("unseen.phones.data").joinpath(TERMS_FILE).read_text("utf-8")
    groups = json.loads(raw)["groups"]
    return {str(k): [str(t).casefold() for t in v] for k, v in groups.items()}


def add_communications(conn: Connection, profile: Profile) -> None:
    """Put the section after the profile's "contact" section (at the end without one);
    a case without messages gets none."""
    if conn.execute(select(s.messages.c.id).limit(1)).first() is None:
        return
    keys = [section.key for section in profile.sections]
    at = keys.index("contact") + 1 if "contact" in keys else len(keys)
    profile.sections.insert(at, communications(conn, Groups()))


def communications(conn: Connection, groups: Groups) -> Section:
    """The section (``groups`` is unused: message provenance is named in the cells)."""
    section = Section("communications", "Communications (messages on phones)")
    section.tables += [
        _apps(conn),
        _contacts(conn),
        _conversations(conn),
        _hours(conn),
        _indicators(conn),
    ]
    section.caveats += [
        "Counts are of messages and pictures as the applications' databases record them; "
        "deleted messages are only present when they survived in a write-ahead log.",
        "Indicator terms are words and phrases a trained assessor may wish to read in "
        "context. A match is not a finding: the same words occur in ordinary conversation.",
        "Hours are UTC; the device's time zone should be checked before reading them as "
        "local times of day.",
    ]
    return section


def _apps(conn: Connection) -> Table:
    m = s.messages
    table = Table(
        "Messaging applications", ["app", "messages", "sent", "received", "first", "last"]
    )
    rows = conn.execute(
        select(
            m.c.app, func.count(m.c.id), func.sum((m.c.direction == "sent").cast(Integer)),
            func.min(m.c.ts_utc), func.max(m.c.ts_utc),
        ).group_by(m.c.app).order_by(m.c.app)
    )  # fmt: skip
    for app, n, sent, first, last in rows:
        sent = int(sent or 0)
        table.lines.append(
            Line([app, f"{n:,}", f"{sent:,}", f"{n - sent:,}", when(first), when(last)])
        )
    return table


def _contacts(conn: Connection) -> Table:
    table = Table(
        "Contacts who exchanged pictures or videos (ranked as unseen people ranks them)",
        ["app", "contact", "received", "sent", "unknown", "known"],
    )
    ranked = rank_people(conn)
    for p in ranked[:TOP]:
        table.lines.append(
            Line([p.app, p.label, str(len(p.received)), str(len(p.sent)), str(len(p.unknown)),
                  str(len(p.known))])
        )  # fmt: skip
    table.more = max(0, len(ranked) - TOP)
    return table


def _conversations(conn: Connection) -> Table:
    p, conv = s.media_provenance, s.msg_conversations
    table = Table(
        "Conversations that exchanged pictures or videos",
        ["app", "conversation", "received", "sent", "first", "last", "conversation id"],
    )
    tally: dict[int, Counter[str]] = defaultdict(Counter)
    span: dict[int, list[str]] = defaultdict(list)
    rows = conn.execute(
        select(p.c.conversation_id, p.c.direction, p.c.ts_utc).where(
            p.c.conversation_id.is_not(None)
        )
    )
    for chat, direction, ts in rows:
        tally[chat][direction] += 1
        if ts:
            span[chat].append(ts)
    names = {
        r.id: (r.app, conversation_label(r.title, r.key, bool(r.is_group)))
        for r in conn.execute(select(conv).where(conv.c.id.in_(sorted(tally))))
    }
    ranked = sorted(tally, key=lambda c: (-sum(tally[c].values()), c))
    for chat in ranked[:TOP]:
        app, label = names[chat]
        times = sorted(span[chat])
        table.lines.append(
            Line([app, label, str(tally[chat]["received"]), str(tally[chat]["sent"]),
                  when(times[0] if times else None), when(times[-1] if times else None),
                  str(chat)])
        )  # fmt: skip
    table.more = max(0, len(ranked) - TOP)
    return table


def _hours(conn: Connection) -> Table:
    m = s.messages
    table = Table("Messages by hour of day (UTC)", ["hour", "messages", ""])
    counts: Counter[int] = Counter()
    for (ts,) in conn.execute(select(m.c.ts_utc).where(m.c.ts_utc.is_not(None))):
        counts[int(ts[11:13])] += 1
    peak = max(counts.values(), default=0)
    for hour in range(24):
        bar = "█" * round(20 * counts[hour] / peak) if peak else ""
        table.lines.append(Line([f"{hour:02d}", str(counts[hour]), bar]))
    return table


def _indicators(conn: Connection) -> Table:
    terms = indicator_terms()
    m, i = s.messages, s.items
    hits: dict[str, list[str]] = defaultdict(list)
    query = select(m.c.id, m.c.text, m.c.record_ref, i.c.path).join(i, i.c.id == m.c.item_id)
    for mid, text, ref, path in conn.execute(query.where(m.c.text.is_not(None)).order_by(m.c.id)):
        folded = text.casefold()
        for group, words in terms.items():
            if any(w in folded for w in words):
                hits[group].append(f"message {mid} ({path}: {ref})")
    table = Table(
        "Indicator terms, for a trained assessor to read in context",
        ["indicator", "messages", "where (first ten)"],
        note="Counts of messages containing any term of the group; see unseen messages "
        "CASE --conversation ID, or the review workbench, to read them in context.",
    )
    for group in terms:
        found = hits.get(group, [])
        table.lines.append(Line([group, str(len(found)), "; ".join(found[:MAX_REFS])]))
    return table
