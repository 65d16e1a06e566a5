"""Export what a grid filter shows: the same records ``unseen export`` writes, for the
items on screen, as a download (JSON Lines or CSV). Audited with the filter."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi import HTTPException, Request
from fastapi.responses import Response, StreamingResponse

from unseen.reports.csv_export import csv_lines
from unseen.reports.jsonl import jsonl_lines
from unseen.reports.records import iter_records
from unseen.review.context import app_context, current_session
from unseen.review.grid import GridFilter, GridQuery
from unseen.store import audit

TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


def export_filter(request: Request, fmt: str = "jsonl") -> Response:
    """The records of every item the filter in the query string shows, streamed as
    they are made (a filter may hold the whole case). Audited before the first byte."""
    ctx, session = app_context(request), current_session(request)
    if fmt not in TYPES:
        raise HTTPException(status_code=422, detail=f"format is one of {', '.join(TYPES)}")
    flt = GridFilter.from_params(request.query_params)
    with ctx.read() as conn:
        ids = GridQuery(ctx.view, conn, flt).ids()
    with ctx.write() as conn:
        details = {"format": fmt, "where": flt.params(), "records": len(ids), "output": "download"}
        audit.append(conn, session.user.name, "export", f"{len(ids)} records", details)

    def lines() -> Iterator[str]:
        with ctx.read() as conn:
            records = iter_records(conn, ids)
            yield from csv_lines(records) if fmt == "csv" else jsonl_lines(records)

    name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{ctx.case_name}-filter.{fmt}")
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(lines(), media_type=TYPES[fmt], headers=headers)
