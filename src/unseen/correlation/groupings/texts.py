"""Text in pictures: readable text as a lead reason, and pictures that read the same.

Reads the ``ocr_text`` rows of the deep pass (only pictures with readable words have
one). Pictures that share a distinctive line (two words or more, at least
``MIN_LINE_CHARS`` letters and digits, compared ignoring case, spacing and
punctuation: the same sign, the same letterhead) form one cluster; a picture whose
text is its own forms a cluster of one, so that every picture with readable text
gets its ``text`` reason ("text in picture: 'Hotel Bellevue Room 214'"). The
confidence is tesseract's mean word confidence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from sqlalchemy import Connection, select

from unseen.correlation.base import GROUPINGS, Cluster, Grouping, Member
from unseen.correlation.facts import Facts
from unseen.correlation.unionfind import UnionFind
from unseen.store import schema as s

MIN_LINE_CHARS = 6  # shorter lines ("EXIT", "12") are too common to link pictures
MIN_LINE_WORDS = 2  # nor do single words ("Settings" in every screenshot)
LABEL_CHARS = 60  # a label quotes at most this much of the text
_NOT_ALNUM = re.compile(r"[^\w]+|_")


def normalise(line: str) -> str:
    """A line compared across pictures: casefolded, letters and digits, single spaces."""
    return " ".join(_NOT_ALNUM.sub(" ", line.casefold()).split())


def quote(text: str) -> str:
    """Text as a label quotes it: one line, shortened."""
    flat = " / ".join(ln.strip() for ln in text.splitlines() if ln.strip())
    return f"'{flat if len(flat) <= LABEL_CHARS else flat[: LABEL_CHARS - 3] + '...'}'"


class TextGrouping(Grouping):
    NAME = "texts"
    VERSION = "1"
    KIND = "text"
    DESCRIPTION = "pictures with readable text, grouped when they share a line"

    def group(self, facts: Facts, conn: Connection) -> Iterator[Cluster]:
        present = facts  # the items with content
        o = s.ocr_text
        read = {
            r.item_id: (r.text, r.confidence)
            for r in conn.execute(select(o.c.item_id, o.c.text, o.c.confidence))
            if r.item_id in present
        }
        lines = {item: _distinctive(text) for item, (text, _) in read.items()}
        uf = UnionFind()
        first_seen: dict[str, int] = {}
        for item in sorted(read):
            uf.find(item)
            for line in lines[item]:
                uf.union(first_seen.setdefault(line, item), item)
        for group in uf.groups(sorted(read)):
            yield _cluster(self.KIND, sorted(group), read, lines)


def _distinctive(text: str) -> list[str]:
    found = (normalise(ln) for ln in text.splitlines())
    return list(
        dict.fromkeys(
            n
            for n in found
            if sum(c.isalnum() for c in n) >= MIN_LINE_CHARS and len(n.split()) >= MIN_LINE_WORDS
        )
    )


def _cluster(
    kind: str,
    group: list[int],
    read: dict[int, tuple[str, float]],
    lines: dict[int, list[str]],
) -> Cluster:
    confidence = round(sum(read[i][1] for i in group) / len(group) / 100.0, 2)
    members = tuple(Member(i, f"reads {quote(read[i][0])}", read[i][1] / 100.0) for i in group)
    if len(group) == 1:
        return Cluster(
            kind,
            lines[group[0]][0] if lines[group[0]] else f"item {group[0]}",
            quote(read[group[0]][0]),
            confidence,
            members,
            {"pictures": 1},
        )
    shared = Counter(line for i in group for line in set(lines[i]))
    line, _ = min(shared.items(), key=lambda pair: (-pair[1], pair[0]))
    # Quote the line as read in the first picture that has it, not normalised.
    original = next(
        ln.strip() for i in group for ln in read[i][0].splitlines() if normalise(ln) == line
    )
    label = f"{quote(original)} in {len(group)} pictures"
    return Cluster(kind, line, label, confidence, members, {"pictures": len(group), "line": line})


GROUPINGS.register(TextGrouping)
