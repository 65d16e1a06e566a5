"""What the review app shows of a case, run in a subprocess by the entry-point plugin
test (plugins from entry points load there, never in the test process).

Usage: ``python review_probe.py CASE_DIR ITEM_ID,... QUERY...``; prints JSON: the
item ids the grid shows for each query (every page), the grid's form, the HTML of
each item's page and, for a query written ``bulk:QUERY``, what categorising the
whole filter result does (as the grid's button does it: with the page's own filter).
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from review.helpers import login, make_client, make_users
from unseen.store.case import Case


def grid_ids(client: TestClient, query: str) -> list[int]:
    ids: list[int] = []
    cursor = ""
    while True:
        page = client.get(f"/grid?{query}{cursor}").text
        ids += [int(i) for i in re.findall(r'data-id="(\d+)" data-href', page)]
        found = re.search(r'href="/grid\?[^"]*after=([^"&]+)', page)
        if not found:
            return sorted(ids)
        cursor = f"&after={found.group(1)}"


def bulk(client: TestClient, csrf: str, case_dir: Path, query: str) -> dict[str, Any]:
    page = client.get(f"/grid?{query}").text
    flt = json.loads(html.unescape(re.search(r"data-filter='([^']*)'", page).group(1)))  # type: ignore[union-attr]
    total = int(re.search(r'data-total="(\d+)"', page).group(1))  # type: ignore[union-attr]
    body = {"filter": flt, "code": "NI", "expected": total}
    done = client.post("/api/categorise-filter", json=body, headers={"X-CSRF-Token": csrf})
    with sqlite3.connect(case_dir / "case.db") as db:
        decided = sorted(i for (i,) in db.execute("SELECT item_id FROM review_state"))
    return {"filter": flt, "count": done.json()["count"], "categorised": decided}


def main(case_dir: Path, item_ids: list[int], queries: list[str]) -> None:
    case = Case.open(case_dir)
    make_users(case)
    case.close()
    with make_client(case_dir) as client:
        csrf = login(client, "eve")  # an examiner: may categorise a whole filter result
        shown = {q: grid_ids(client, q) for q in queries if not q.startswith("bulk:")}
        bulks = {q: bulk(client, csrf, case_dir, q[5:]) for q in queries if q.startswith("bulk:")}
        grid_form = client.get("/grid").text
        items = {i: client.get(f"/item/{i}").text for i in item_ids}
    print(json.dumps({"grid": shown, "bulk": bulks, "grid_form": grid_form, "items": items}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), [int(i) for i in sys.argv[2].split(",")], sys.argv[3:])
