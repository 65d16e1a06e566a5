"""The review server's view of a case: which data exist, and the dashboard's counts.

Other stages add tables and columns over time (hash-set categories and matches,
videos, deleted and carved items, clusters and leads). ``CaseView`` looks once, at
start-up, at what this case has, and the pages show only the filters and panels that
have a data source. To support a new table: reflect it in ``CaseView.__init__`` and
add its conditions in ``grid.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    Table,
    and_,
    distinct,
    func,
    inspect,
    not_,
    or_,
    select,
    true,
)

from unseen.core.schemes import Scheme
from unseen.store import schema as s

AUTO_TABLE = "auto_categories"
MATCHES_TABLE = "matches"
VIDEOS_TABLE = "videos"


@dataclass(frozen=True, slots=True)
class Features:
    """What this case can show (each flag: a table or column exists)."""

    auto: bool = False  # hash-set categories (issue 4)
    matches: bool = False
    videos: bool = False  # video records (issue 3)
    deleted: bool = False  # items.deleted (issue 3)
    carved: bool = False  # items.carved (issue 3)
    clusters: bool = False  # clusters + cluster_members (issue 5)
    leads: bool = False


class CaseView:
    """Reflected optional tables and the SQL building blocks every page shares."""

    def __init__(self, engine: Engine, scheme: Scheme) -> None:
        self.scheme = scheme
        meta = MetaData()
        with engine.connect() as conn:
            insp = inspect(conn)
            tables = set(insp.get_table_names())
            item_columns = {c["name"] for c in insp.get_columns("items")}

            def reflect(name: str) -> Table | None:
                return Table(name, meta, autoload_with=conn) if name in tables else None

            self.auto = reflect(AUTO_TABLE)
            self.matches = reflect(MATCHES_TABLE)
            self.videos = reflect(VIDEOS_TABLE)
            self.items = Table("items", meta, autoload_with=conn)
        self.features = Features(
            auto=self.auto is not None,
            matches=self.matches is not None,
            videos=self.videos is not None,
            deleted="deleted" in item_columns,
            carved="carved" in item_columns,
            clusters={"clusters", "cluster_members"} <= tables,
            leads="leads" in tables,
        )
        self.uncategorised = scheme.uncategorised
        self.ignorable = [c.code for c in scheme.categories if c.ignorable]

    # --- building blocks ------------------------------------------------------------

    def media(self) -> ColumnElement[bool]:
        """Items a person may have to look at: pictures and videos."""
        i = s.items
        return or_(i.c.mime.like("image/%"), i.c.mime.like("video/%"))

    def auto_categorised(self) -> ColumnElement[bool]:
        """A hash set gave a category (other than "uncategorised") or marked it known-good."""
        if self.auto is None:
            return not_(true())
        a = self.auto.c
        graded = and_(a.category.is_not(None), a.category != self.uncategorised)
        return or_(graded, a.known_good.is_(True))

    def reviewer_categorised(self) -> ColumnElement[bool]:
        r = s.review_state.c
        return and_(r.category.is_not(None), r.category != self.uncategorised)

    def disagree(self) -> ColumnElement[bool]:
        """The reviewer's code differs from the hash sets' (or contradicts known-good)."""
        if self.auto is None:
            return not_(true())
        a, r = self.auto.c, s.review_state.c
        differs = and_(a.category.is_not(None), a.category != r.category)
        good_but_graded = and_(a.known_good.is_(True), r.category.not_in(self.ignorable))
        return and_(r.category.is_not(None), or_(differs, good_but_graded))

    def joined(self) -> Any:
        """items LEFT JOIN review_state (and the hash-set categories when present)."""
        i, r = s.items, s.review_state
        source = i.outerjoin(r, r.c.item_id == i.c.id)
        if self.auto is not None:
            source = source.outerjoin(self.auto, self.auto.c.item_id == i.c.id)
        return source

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
        if self.auto is not None:
            a = self.auto.c
            result["by_auto"] = self._by_category(conn, a.category)
            result["ignorable"] = conn.execute(
                select(count).select_from(joined).where(media, a.known_good.is_(True))
            ).scalar()
            result["conflicts"] = conn.execute(
                select(count).select_from(joined).where(media, a.conflict.is_(True))
            ).scalar()
        return result

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
        }

    def sources(self, conn: Connection) -> list[tuple[int, str]]:
        """Evidence sources as (id, label), in the order they were added."""
        rows = conn.execute(select(s.sources.c.id, s.sources.c.label).order_by(s.sources.c.id))
        return [(int(r.id), str(r.label)) for r in rows]
