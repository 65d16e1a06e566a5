"""Typed database ids for URLs and request bodies.

SQLite and PostgreSQL keys are signed 64-bit integers: a larger or negative number in a
URL cannot name a row, and handing it to the driver raises an overflow (an HTTP 500).
These annotations make FastAPI refuse such values up front with a 422.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2**63 - 1

# A row id in a path (``/item/{item_id}``).
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
# An optional row id in a query string (0 means "none given").
QueryId = Annotated[int, Query(ge=0, le=MAX_ID)]
# A row id inside a JSON body.
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
