"""What the review app shows of a case, run in a subprocess by the entry-point plugin
test (plugins from entry points load there, never in the test process).

Usage: ``python review_probe.py CASE_DIR ITEM_ID,... QUERY...``; prints JSON: the
item ids the grid shows for each query (every page), the grid's form and the HTML of
each item's page.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from review.helpers import login, make_client, make_users
from unseen.store.case import Case


def grid_ids(client: object, query: str) -> list[int]:
    ids: list[int] = []
    cursor = ""
    while True:
        page = client.get(f"/grid?{query}{cursor}").text  # type: ignore[attr-defined]
        ids += [int(i) for i in re.findall(r'data-id="(\d+)" data-href', page)]
        found = re.search(r'href="/grid\?[^"]*after=([^"&]+)', page)
        if not found:
            return sorted(ids)
        cursor = f"&after={found.group(1)}"


def main(case_dir: Path, item_ids: list[int], queries: list[str]) -> None:
    case = Case.open(case_dir)
    make_users(case)
    case.close()
    with make_client(case_dir) as client:
        login(client, "rob")
        shown = {query: grid_ids(client, query) for query in queries}
        grid_form = client.get("/grid").text
        items = {i: client.get(f"/item/{i}").text for i in item_ids}
    print(json.dumps({"grid": shown, "grid_form": grid_form, "items": items}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), [int(i) for i in sys.argv[2].split(",")], sys.argv[3:])
