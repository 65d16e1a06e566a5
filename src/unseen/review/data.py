"""The review pages' shared SQL building blocks and the dashboard's counts.

Every case is migrated to the head schema when it is opened (``store.migrations``), so
every table the pages read exists: the pages use ``store.schema`` directly and show
every filter and panel.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, distinct, func, not_, or_, select

from unseen.core.schemes import Scheme
from unseen.store import repo
from unseen.store import schema as s


class CaseView:
    """The scheme-dependent conditions (categorised, disagreeing) every page shares."""

    def __init__(self, scheme: Scheme) -> None:
        self.scheme = scheme
        self.uncategorised = scheme.uncategorised
        self.ignorable = [c.code for c in scheme.categories if c.ignorable]
        self._counted: tuple[tuple[int, ...], dict[str, Any]] | None = None
        self._contents_at: tuple[tuple[Any, ...] | None, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    # --- building blocks ------------------------------------------------------------

    def media(self) -> ColumnElement[bool]:
        """Items a person may have to look at: pictures and videos."""
        i = s.items
        return or_(i.c.mime.like("image/%"), i.c.mime.like("video/%"))

    def auto_categorised(self) -> ColumnElement[bool]:
        """A hash set gave a category (other than "uncategorised") or marked it known-good."""
        a = s.auto_categories.c
        graded = and_(a.category.is_not(None), a.category != self.uncategorised)
        return or_(graded, a.known_good.is_(True))

    def reviewer_categorised(self) -> ColumnElement[bool]:
        r = s.review_state.c
        return and_(r.category.is_not(None), r.category != self.uncategorised)

    def disagree(self) -> ColumnElement[bool]:
        """The reviewer's code differs from the hash sets' (or contradicts known-good)."""
        a, r = s.auto_categories.c, s.review_state.c
        differs = and_(a.category.is_not(None), a.category != r.category)
        good_but_graded = and_(a.known_good.is_(True), r.category.not_in(self.ignorable))
        return and_(r.category.is_not(None), or_(differs, good_but_graded))

    def joined(self) -> Any:
        """items LEFT JOIN review_state LEFT JOIN the hash-set categories."""
        i, r, a = s.items, s.review_state, s.auto_categories
        return i.outerjoin(r, r.c.item_id == i.c.id).outerjoin(a, a.c.item_id == i.c.id)

    # --- dashboard ------------------------------------------------------------------

    def dashboard(self, conn: Connection) -> dict[str, Any]:
        """The case at a glance, counted in full; plain data for the template and tests."""
        return self._assemble(conn, self._contents(conn))

    def dashboard_at(self, conn: Connection, version: tuple[int, ...] | None) -> dict[str, Any]:
        """The dashboard, counted again only once the case has changed.

        ``version`` is the case's sign of any write (``grid.case_version``; None where
        the database gives none, as PostgreSQL). After a write, what the items and hash
        sets hold (a pass over every item: seconds at a million) is counted again only
        when processing or matching may have changed it (``_contents_sign``); a
        reviewer's decision only changes the counts read from the decided items, which
        cost what the decisions do.
        """
        with self._lock:
            counted, contents = self._counted, self._contents_at
        if version is not None and counted is not None and counted[0] == version:
            return copy.deepcopy(counted[1])
        sign = _contents_sign(conn)
        if contents is None or contents[0] != sign or sign is None:
            contents = (sign, self._contents(conn))
        result = self._assemble(conn, contents[1])
        with self._lock:
            self._contents_at = contents
            if version is not None:
                self._counted = (version, result)
        return copy.deepcopy(result)

    def _contents(self, conn: Connection) -> dict[str, Any]:
        """The counts that only processing and matching change: every item is read."""
        i, a = s.items, s.auto_categories
        one = conn.execute(
            select(
                func.count().filter(i.c.kind == "file"),
                func.count().filter(i.c.mime.like("image/%")),
                func.count().filter(i.c.mime.like("video/%")),
                func.count().filter(i.c.status == "pending"),
                func.count().filter(i.c.status == "done"),
            )
        ).one()
        files, images, videos, pending, done = (int(v or 0) for v in one)
        # From the hash sets' few items, not every item (as for decisions, below).
        known = a.join(i, i.c.id == a.c.item_id)
        ids = i.c.id.in_(select(a.c.item_id))
        graded, ignorable, conflicts = conn.execute(
            select(
                func.count().filter(self.auto_categorised()),
                func.count().filter(a.c.known_good.is_(True)),
                func.count().filter(a.c.conflict.is_(True)),
            )
            .select_from(known)
            .where(self.media(), ids)
        ).one()
        return {
            "files": files,
            "images": images,
            "videos": videos,
            "media": images + videos,
            "known": graded,
            "unknown": images + videos - graded,
            "pending": pending,
            "processed": done,
            "by_auto": self._by_category(conn, a.c.category, known, ids),
            "ignorable": ignorable,
            "conflicts": conflicts,
        }

    def _assemble(self, conn: Connection, contents: dict[str, Any]) -> dict[str, Any]:
        """The dashboard from the item counts and what is read from decided items only."""
        result = copy.deepcopy(contents)
        pending, processed = result.pop("pending"), result.pop("processed")
        r, i, a = s.review_state, s.items, s.auto_categories
        decided = r.join(i, i.c.id == r.c.item_id).outerjoin(a, a.c.item_id == r.c.item_id)
        # Stated twice on purpose: SQLite would otherwise scan every item's type first.
        ids = i.c.id.in_(select(r.c.item_id))
        media, graded = self.media(), self.reviewer_categorised()
        one = conn.execute(
            select(
                func.count().filter(graded),
                func.count().filter(r.c.category.is_not(None)),
                func.count().filter(and_(graded, not_(self.auto_categorised()))),
                func.count().filter(self.disagree()),
            )
            .select_from(decided)
            .where(media, ids)
        ).one()
        rev_graded, reviewed, graded_unknown, disagree = (int(v or 0) for v in one)
        result |= {
            "reviewed": reviewed,
            "reviewer_categorised": rev_graded,
            # Media neither set graded nor a reviewer: the unknown less those graded.
            "uncategorised": result["unknown"] - graded_unknown,
            "disagreements": disagree,
            "by_reviewer": self._by_category(conn, r.c.category, decided, ids),
            "errors": conn.execute(select(func.count(distinct(s.item_errors.c.item_id)))).scalar(),
            "progress": self._run_state(conn, pending, processed),
        }
        return result

    def _by_category(
        self, conn: Connection, column: Any, source: Any, *where: ColumnElement[bool]
    ) -> dict[str, int]:
        """Media per code of ``column``, over ``source`` (the tables it is read from)."""
        rows = conn.execute(
            select(column, func.count())
            .select_from(source)
            .where(self.media(), column.is_not(None), *where)
            .group_by(column)
        ).all()
        found = {str(code): int(n) for code, n in rows}
        return {code: found[code] for code in self.scheme.codes() if code in found} | {
            code: n for code, n in found.items() if code not in self.scheme.codes()
        }

    def progress(self, conn: Connection) -> dict[str, Any]:
        """Processing state: pending items and the latest run (running if unfinished)."""
        i = s.items
        pending, done = conn.execute(
            select(
                func.count().filter(i.c.status == "pending"),
                func.count().filter(i.c.status == "done"),
            )
        ).one()
        return self._run_state(conn, int(pending or 0), int(done or 0))

    def _run_state(self, conn: Connection, pending: int, done: int) -> dict[str, Any]:
        run = conn.execute(select(s.runs).order_by(s.runs.c.id.desc()).limit(1)).first()
        last = dict(run._mapping) if run is not None else None
        return {
            "pending": pending,
            "processed": done,
            "last_run": {k: last[k] for k in ("id", "started_at", "finished_at")}
            if last
            else None,
            "running": bool(last and last["finished_at"] is None),
            "workers": repo.run_workers(conn),
        }

    def sources(self, conn: Connection) -> list[tuple[int, str]]:
        """Evidence sources as (id, label), in the order they were added."""
        rows = conn.execute(select(s.sources.c.id, s.sources.c.label).order_by(s.sources.c.id))
        return [(int(r.id), str(r.label)) for r in rows]


def _contents_sign(conn: Connection) -> tuple[Any, ...] | None:
    """What changes whenever processing or matching may have changed the items or their
    hash-set categories, read from small tables and the ends of indexes; None while a
    run is unfinished (its items change under it: count every time).

    Items are added (a new largest id) and change status only in a run; sources are
    added by ``unseen add``; hash-set categories are replaced only by a matching run,
    which leaves a ``match_runs`` row.
    """
    run = conn.execute(
        select(s.runs.c.id, s.runs.c.finished_at).order_by(s.runs.c.id.desc()).limit(1)
    ).first()
    if run is not None and run.finished_at is None:
        return None
    return (
        tuple(run) if run is not None else None,
        conn.execute(select(func.max(s.match_runs.c.id))).scalar(),
        conn.execute(select(func.max(s.items.c.id))).scalar(),
        conn.execute(select(func.max(s.sources.c.id))).scalar(),
    )
