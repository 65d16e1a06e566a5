"""Case status: how much there is, what it is, what is done and what failed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, distinct, func, select, union

from unseen import plugins
from unseen.core.jobs import JOBS
from unseen.core.settings import Settings
from unseen.correlation.deep.stage import deep_progress
from unseen.store import done, repo
from unseen.store import schema as s


def case_status(
    conn: Connection, info: dict[str, str], settings: Settings | None = None
) -> dict[str, Any]:
    """Counts for ``unseen status``; plain data, ready for JSON. ``settings``: the
    case's own (what the next run would use), to tell which jobs are stale."""
    i = s.items
    count = func.count()
    by_status: dict[str, int] = dict(
        conn.execute(select(i.c.status, count).group_by(i.c.status)).all()
    )
    by_kind: dict[str, int] = dict(conn.execute(select(i.c.kind, count).group_by(i.c.kind)).all())
    by_mime: dict[str, int] = dict(
        conn.execute(
            select(i.c.mime, count)
            .where(i.c.mime.is_not(None))
            .group_by(i.c.mime)
            .order_by(count.desc(), i.c.mime)
        ).all()
    )
    errors = error_counts(conn)
    not_examined = _not_examined(conn)
    total_size = conn.execute(select(func.coalesce(func.sum(i.c.size), 0))).scalar()
    images = conn.execute(select(count).where(i.c.mime.like("image/%"))).scalar()
    hashed = conn.execute(select(count).where(s.images.c.pdq.is_not(None))).scalar()
    sources = [
        {
            "label": r["label"],
            "kind": r["kind"],
            "path": r["path"],
            "added_by": r["added_by"],
            "added_at": r["added_at"],
            "listed": bool(r["enumerated"]),
        }
        for r in repo.list_sources(conn)
    ]
    return {
        "case": {k: info.get(k) for k in ("name", "examiner", "created_at", "uuid")},
        "sources": sources,
        "files": sum(by_kind.values()),
        "bytes": int(total_size or 0),
        "by_kind": by_kind,
        "processed": by_status.get("done", 0),
        "pending": by_status.get("pending", 0),
        "images": images,
        "pdq_hashed": hashed,
        "by_type": by_mime,
        "items_with_errors": errors["items_with_errors"],
        "errors_by_stage": errors["errors_by_stage"],
        "settings": changed_settings(conn),
        "not_examined": not_examined,
        "stale": stale_jobs(conn, settings),
        "deep": deep_status(conn, settings or Settings()),
        "workers": repo.run_workers(conn),
    }


def deep_status(conn: Connection, settings: Settings) -> dict[str, Any]:
    """The deep pass: pictures done and left, its rate over the last minutes and the
    time left at that rate (None when it is not running)."""
    progress = deep_progress(conn, settings)
    minutes = progress.minutes_left()
    return {
        "pictures_done": progress.done,
        "pictures_left": progress.left,
        "per_minute": round(progress.per_minute, 1),
        "minutes_left": None if minutes is None else round(minutes, 1),
    }


def deep_line(deep: dict[str, Any]) -> str:
    """``deep_status`` for a person: '120 of 500 pictures; 40.0/min, about 10 min left'."""
    total = deep["pictures_done"] + deep["pictures_left"]
    line = f"{deep['pictures_done']} of {total} pictures"
    if deep["minutes_left"] is not None:
        line += f"; {deep['per_minute']}/min, about {deep['minutes_left']:.0f} min left"
    elif deep["pictures_left"]:
        line += "; not running"
    return line


def stale_jobs(conn: Connection, settings: Settings | None = None) -> dict[str, int]:
    """Job name -> entries done in another version than the job's current one (for
    these settings): what the next ``unseen process`` redoes, and why."""
    settings = settings or Settings()
    plugins.load()
    return done.stale(conn, {job.NAME: job.version(settings) for job in JOBS})


def error_counts(conn: Connection) -> dict[str, Any]:
    """Items with any recorded problem, and problems per stage: the analysers' errors and
    the internet-artefact parsers' (``internet:PARSER``), so neither kind is invisible."""
    ie, ae, count = s.item_errors, s.artefact_errors, func.count()
    ids = union(
        select(ie.c.item_id), select(ae.c.item_id).where(ae.c.item_id.is_not(None))
    ).subquery()
    with_errors = conn.execute(select(func.count()).select_from(ids)).scalar()
    by_stage: dict[str, int] = dict(
        conn.execute(select(ie.c.analyser, count).group_by(ie.c.analyser)).all()
    )
    parsers = conn.execute(select(ae.c.parser, count).group_by(ae.c.parser).order_by(ae.c.parser))
    for parser, n in parsers:
        by_stage[f"internet:{parser}"] = int(n)
    return {"items_with_errors": int(with_errors or 0), "errors_by_stage": by_stage}


NOT_EXAMINED_SHOWN = 50


def _not_examined(conn: Connection) -> dict[str, Any]:
    """Containers (disk images, virtual disks, archives, encrypted volumes) whose
    contents were not examined, with the reason: never silent, and first in line for
    the examiner's attention."""
    e, i, src = s.item_errors, s.items, s.sources
    where = e.c.message.like("not examined:%")
    total = conn.execute(select(func.count(distinct(e.c.item_id))).where(where)).scalar()
    rows = conn.execute(
        select(src.c.label, i.c.path, e.c.message)
        .join(i, i.c.id == e.c.item_id)
        .join(src, src.c.id == i.c.source_id)
        .where(where)
        .order_by(e.c.item_id, e.c.id)
        .limit(NOT_EXAMINED_SHOWN)
    ).all()
    shown = [
        {"source": r.label, "path": r.path, "reason": r.message.split(":", 1)[1].strip()}
        for r in rows
    ]
    return {"items": int(total or 0), "shown": shown}


def changed_settings(conn: Connection) -> dict[str, Any]:
    """The latest run's settings that differ from the defaults, by name: what the case's
    ``case.toml`` or the command set (as recorded, so as JSON has them)."""
    runs = s.runs
    query = select(runs.c.settings).order_by(runs.c.id.desc()).limit(1)
    recorded = conn.execute(query).scalar()
    if recorded is None:
        return {}
    default = json.loads(json.dumps(Settings().to_dict()))
    return {k: v for k, v in json.loads(recorded).items() if k in default and v != default[k]}


def settings_line(changed: dict[str, Any]) -> str:
    """``KEY=VALUE, ...`` of :func:`changed_settings` (lists comma-joined); empty if none."""
    return ", ".join(
        f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in changed.items()
    )
