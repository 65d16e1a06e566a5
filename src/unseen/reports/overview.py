"""``unseen report CASE --kind overview``: where a case stands, for a supervisor.

Counts per category and evidence source (as the summary counts them), how many leads
have been worked and how many remain, and each reviewer's decisions, reveals, time
with revealed pictures and time logged in, with plain bar charts drawn as inline SVG.
No picture, thumbnail, file name or message text appears: the report is safe to pass
to someone who must not see the material. Printable to PDF from the browser.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Connection, and_, distinct, func, or_, select

import unseen
from unseen.core.timeconv import utc_now
from unseen.reports.internet import environment
from unseen.reports.registry import REPORTS, Report
from unseen.reports.summary import _categories, category_counts, table
from unseen.store import schema as s
from unseen.store.case import Case, current_user

BAR_WIDTH = 360  # px of the longest bar in the charts


def leads_progress(conn: Connection) -> list[dict[str, Any]]:
    """Per kind of lead (pictures, groups): how many are ranked, how many someone has
    worked (a picture decided by a reviewer or marked "looked at"; a group marked),
    how many nobody has yet."""
    leads, c, v = s.leads, s.clusters, s.lead_views
    worked: dict[str, set[str]] = defaultdict(set)
    for kind, key in conn.execute(select(v.c.target_kind, v.c.target_key)):
        worked[kind].add(str(key))
    worked["item"] |= {str(i) for i in conn.execute(select(s.review_state.c.item_id)).scalars()}
    is_item = leads.c.target_kind == "item"
    items = [str(i) for i in conn.execute(select(leads.c.target_id).where(is_item)).scalars()]
    joined = and_(leads.c.target_kind == "cluster", leads.c.target_id == c.c.id)
    clusters = conn.execute(select(c.c.kind, c.c.key).join(leads, joined))
    groups = [f"{kind}|{key}" for kind, key in clusters]
    rows = []
    for label, kind, keys in (("Pictures", "item", items), ("Groups", "cluster", groups)):
        done = sum(1 for k in keys if k in worked[kind])
        rows.append({"kind": label, "total": len(keys), "worked": done, "left": len(keys) - done})
    return rows


def reviewers(conn: Connection) -> list[dict[str, Any]]:
    """Per reviewer: decisions in force and made (undos included), reveals, minutes
    with revealed media on screen, minutes logged in, first and last decision."""
    rv, e, rs, u = s.reviews, s.exposure, s.review_sessions, s.users
    found: dict[str, dict[str, Any]] = defaultdict(
        lambda: (
            dict.fromkeys(("decisions", "in_force", "reveals", "exposure_min", "online_min"), 0)
            | {"first": None, "last": None}
        )
    )
    made = select(rv.c.user, func.count(), func.min(rv.c.at), func.max(rv.c.at))
    for user, n, first, last in conn.execute(made.group_by(rv.c.user)):
        found[user] |= {"decisions": int(n), "first": first, "last": last}
    in_force = select(s.review_state.c.user, func.count()).group_by(s.review_state.c.user)
    for user, n in conn.execute(in_force):
        found[user]["in_force"] = int(n)
    shown = select(e.c.user, func.count(), func.coalesce(func.sum(e.c.duration_ms), 0))
    for user, n, ms in conn.execute(shown.group_by(e.c.user)):
        found[user] |= {"reveals": int(n), "exposure_min": round(int(ms) / 60000, 1)}
    sessions = select(u.c.name, rs.c.created_at, rs.c.last_seen).join(u, u.c.id == rs.c.user_id)
    for user, created, last_seen in conn.execute(sessions):
        start = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
        found[user]["online_min"] = round(
            found[user]["online_min"] + max(0.0, (last_seen - start) / 60), 1
        )
    return [{"user": name, **found[name]} for name in sorted(found)]


def decisions_per_day(conn: Connection) -> list[dict[str, Any]]:
    """Decisions made per day (UTC), undos included: the pace of the review."""
    rv = s.reviews
    day = func.substr(rv.c.at, 1, 10)
    rows = conn.execute(select(day, func.count()).group_by(day).order_by(day))
    return [{"day": d, "n": int(n)} for d, n in rows]


def bars(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Each row with ``width``: its ``key`` as px of the chart (the largest is full)."""
    top = max((float(r[key]) for r in rows), default=0.0) or 1.0
    return [{**r, "width": round(BAR_WIDTH * float(r[key]) / top)} for r in rows]


def overview_data(case_: Case) -> dict[str, Any]:
    """Everything the overview shows, as plain data (tests read it too)."""
    with case_.engine.connect() as conn:
        counts = category_counts(conn)
        leads = leads_progress(conn)
        people = reviewers(conn)
        days = decisions_per_day(conn)
        sources = [r.label for r in conn.execute(select(s.sources.c.label))]
        distinct_media = conn.execute(
            select(func.count(distinct(s.items.c.sha256))).where(
                or_(s.items.c.mime.like("image/%"), s.items.c.mime.like("video/%"))
            )
        ).scalar()
    scheme = case_.info.get("scheme") or "uk"
    categories = _categories(scheme, {b for per in counts.values() for b in per})
    overall = table(counts.get("", {}), categories)
    for row in overall:
        row["media"] = int(row["image"]) + int(row["video"])
    return {
        "case": {k: case_.info.get(k) for k in ("name", "uuid", "examiner", "created_at")},
        "scheme": scheme,
        "overall": bars(overall[:-1], "media") + overall[-1:],
        "sources": [
            {"label": lbl, "table": table(counts.get(lbl, {}), categories)} for lbl in sources
        ],
        "distinct_media": int(distinct_media or 0),
        "leads": bars(leads, "total"),
        "reviewers": bars(people, "exposure_min"),
        "days": bars(days, "n"),
        "tool_version": unseen.__version__,
        "generated_at": utc_now(),
        "generated_by": current_user(),
    }


class OverviewReport(Report):
    NAME = "overview"
    DESCRIPTION = "for supervisors: counts, leads worked and left, reviewers' time (no pictures)"

    def render(self, case: Case, out: IO[str]) -> None:
        out.write(environment().get_template("overview.html").render(**overview_data(case)))


REPORTS.register(OverviewReport)
