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
        """The case at a glance; plain data for the template and for tests."""
        i, count = s.items, func.count()
        media, joined = self.media(), self.joined()
        one = conn.execute(
            select(
                func.count().filter(i.c.kind == "file"),
                func.count().filter(i.c.mime.like("image/%")),
                func.count().filter(i.c.mime.like("video/%")),
                func.count().filter(and_(media, self.auto_categorised())),
                func.count().filter(and_(media, self.reviewer_categorised())),
                func.count().filter(and_(media, s.review_state.c.category.is_not(None))),
                func.count().filter(
                    and_(media, not_(self.auto_categorised()), not_(self.reviewer_categorised()))
                ),
                func.count().filter(and_(media, self.disagree())),
            ).select_from(joined)
        ).one()
        files, images, videos, known, rev_graded, reviewed, remaining, disagree = (
            int(v or 0) for v in one
        )
        result: dict[str, Any] = {
            "files": files,
            "images": images,
            "videos": videos,
            "media": images + videos,
            "known": known,
            "unknown": images + videos - known,
            "reviewed": reviewed,
            "reviewer_categorised": rev_graded,
            "uncategorised": remaining,
            "disagreements": disagree,
            "by_reviewer": self._by_category(conn, s.review_state.c.category),
            "errors": conn.execute(select(func.count(distinct(s.item_errors.c.item_id)))).scalar(),
            "progress": self.progress(conn),
        }
        a = s.auto_categories.c
        result["by_auto"] = self._by_category(conn, a.category)
        result["ignorable"] = conn.execute(
            select(count).select_from(joined).where(media, a.known_good.is_(True))
        ).scalar()
        result["conflicts"] = conn.execute(
            select(count).select_from(joined).where(media, a.conflict.is_(True))
        ).scalar()
        return result

    def dashboard_at(self, conn: Connection, version: tuple[int, ...] | None) -> dict[str, Any]:
        """The dashboard, counted again only once the case has changed: its counts read
        every item (seconds at a million), and most visits find the case as it was.
        ``version`` is the case's sign of change (``grid.case_version``); None: count."""
        if version is None:
            return self.dashboard(conn)
        with self._lock:
            counted = self._counted
        if counted is None or counted[0] != version:
            counted = (version, self.dashboard(conn))
            with self._lock:
                self._counted = counted
        return copy.deepcopy(counted[1])

    def _by_category(self, conn: Connection, column: Any) -> dict[str, int]:
        rows = conn.execute(
            select(column, func.count())
            .select_from(self.joined())
            .where(self.media(), column.is_not(None))
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
        run = conn.execute(select(s.runs).order_by(s.runs.c.id.desc()).limit(1)).first()
        last = dict(run._mapping) if run is not None else None
        return {
            "pending": int(pending or 0),
            "processed": int(done or 0),
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
