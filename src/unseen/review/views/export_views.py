"""Export what a grid filter shows: the same records ``unseen export`` writes, for the
items on screen, as a download (JSON Lines or CSV). Audited with the filter."""

from __future__ import annotations

import io
import re

from fastapi import HTTPException, Request
from fastapi.responses import Response

from unseen.reports.csv_export import write_csv
from unseen.reports.jsonl import write_jsonl
from unseen.reports.records import iter_records
from unseen.review.context import app_context, current_session
from unseen.review.grid import GridFilter, GridQuery
from unseen.store import audit

TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


def export_filter(request: Request, fmt: str = "jsonl") -> Response:
    """The records of every item the filter in the query string shows."""
    ctx, session = app_context(request), current_session(request)
    if fmt not in TYPES:
        raise HTTPException(status_code=422, detail=f"format is one of {', '.join(TYPES)}")
    flt = GridFilter.from_params(request.query_params)
    out = io.StringIO()
    with ctx.read() as conn:
        ids = GridQuery(ctx.view, conn, flt).ids()
        records = iter_records(conn, ids)
        count = write_csv(records, out) if fmt == "csv" else write_jsonl(records, out)
    with ctx.write() as conn:
        details = {"format": fmt, "where": flt.params(), "records": count, "output": "download"}
        audit.append(conn, session.user.name, "export", f"{count} records", details)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{ctx.case_name}-filter.{fmt}")
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(out.getvalue(), media_type=TYPES[fmt], headers=headers)
