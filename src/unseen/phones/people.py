"""People: the contacts a phone exchanged pictures with, ranked for victim
identification by the unknown pictures exchanged and their first-generation
indicators, each rank with the reasons that make it.

Score = unknown pictures exchanged + the sum of their first-generation scores (the
correlation stage's indicators that a picture is an original, not a circulated copy).
Known pictures (hash sets, reviewer) are listed as a reason but do not raise the score:
they show what a contact is associated with, the unknown ones are what is left to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from unseen.phones.facts import Exchange, exchanges
from unseen.store import schema as s


@dataclass
class Person:
    key: str  # app|handle
    app: str
    label: str
    score: float = 0.0
    received: set[int] = field(default_factory=set)
    sent: set[int] = field(default_factory=set)
    unknown: set[int] = field(default_factory=set)
    known: dict[int, str] = field(default_factory=dict)  # item -> category
    first_generation: dict[int, float] = field(default_factory=dict)
    conversations: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)

    @property
    def items(self) -> set[int]:
        return self.received | self.sent


def rank_people(conn: Connection) -> list[Person]:
    """Every contact who exchanged at least one picture in the case, best lead first."""
    known = _known(conn)
    first = _first_generation(conn)
    people: dict[str, Person] = {}
    for e in exchanges(conn):
        if e.contact_key is None:
            continue
        person = people.setdefault(
            e.contact_key, Person(e.contact_key, e.app, e.contact_label or e.contact_key)
        )
        _add(person, e, known, first)
    for person in people.values():
        _explain(person)
    return sorted(people.values(), key=lambda p: (-p.score, p.label, p.key))


def _add(person: Person, e: Exchange, known: dict[int, str], first: dict[int, float]) -> None:
    (person.sent if e.direction == "sent" else person.received).add(e.item_id)
    if e.conversation_label:
        person.conversations.add(e.conversation_label)
    if e.item_id in known:
        person.known[e.item_id] = known[e.item_id]
    else:
        person.unknown.add(e.item_id)
        if e.item_id in first:
            person.first_generation[e.item_id] = first[e.item_id]


def _explain(p: Person) -> None:
    fg = sum(p.first_generation.values())
    p.score = round(len(p.unknown) + fg, 3)
    received = len(p.received & p.unknown)
    sent = len(p.sent & p.unknown)
    p.reasons.append(
        f"{len(p.unknown)} unknown picture(s) exchanged: {received} received, {sent} sent"
    )
    if p.first_generation:
        best = max(p.first_generation.values())
        p.reasons.append(
            f"first-generation indicators on {len(p.first_generation)} of them "
            f"(total {fg:.2f}, best {best:.2f})"
        )
    if p.known:
        cats = sorted({c for c in p.known.values()})
        p.reasons.append(f"{len(p.known)} known picture(s) exchanged ({', '.join(cats)})")


def _known(conn: Connection) -> dict[int, str]:
    """Items decided by a hash set or a reviewer, with the category that decided them."""
    a, r = s.auto_categories, s.review_state
    found = {
        int(i): f"hash set {c}" if c else "known-good"
        for i, c in conn.execute(select(a.c.item_id, a.c.category))
    }
    for item_id, category in conn.execute(select(r.c.item_id, r.c.category)):
        found[int(item_id)] = f"reviewer {category}"
    return found


def _first_generation(conn: Connection) -> dict[int, float]:
    fg = s.first_generation
    return {int(i): float(v) for i, v in conn.execute(select(fg.c.item_id, fg.c.score))}
