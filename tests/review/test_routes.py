"""Every route of the review server is authorised, from the one route table.

The expected access below is written out by hand (not read from ``ROUTES``), and
checked over HTTP for anonymous users and each role: a route missing here, a new
route nobody guarded, or a role with one route too many all fail.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from .helpers import USERS, item_ids, login, make_client

EVERYONE = {"admin", "examiner", "reviewer", "read-only"}
DECIDERS = {"admin", "examiner", "reviewer"}
EXPECTED: dict[str, set[str] | None] = {  # None: public
    "login": None,
    "login_submit": None,
    "logout": EVERYONE,
    "dashboard": EVERYONE,
    "grid": EVERYONE,
    "item": EVERYONE,
    "map": EVERYONE,
    "timeline": EVERYONE,
    "clusters": EVERYONE,
    "cluster": EVERYONE,
    "leads": EVERYONE,
    "like": EVERYONE,
    "conversations": EVERYONE,
    "conversation": EVERYONE,
    "people": EVERYONE,
    "contact": EVERYONE,
    "audit": {"admin", "examiner"},
    "users": {"admin"},
    "settings": EVERYONE,
    "settings_submit": EVERYONE,
    "thumb": EVERYONE,
    "reveal": DECIDERS,
    "reveal_thumbs": EVERYONE,
    "media": DECIDERS,
    "map_points": EVERYONE,
    "progress": EVERYONE,
    "categorise": DECIDERS,
    "categorise_filter": DECIDERS,
    "export_filter": {"admin", "examiner"},
    "undo": DECIDERS,
    "lead_looked": EVERYONE,
    "categorise_group": DECIDERS,
    "exposure": EVERYONE,
    "break": EVERYONE,
}
GUARD_DENIED = "your role may not do this"
NOT_PAGES = ("thumb", "media", "map_points", "progress", "export_filter")


def api_routes(client: TestClient) -> dict[str, APIRoute]:
    routes: dict[str, APIRoute] = {}
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            assert route.path == "/static", f"unexpected mount {route.path}"
            continue
        assert isinstance(route, APIRoute), f"unexpected route {route!r}"
        routes[route.name] = route
    return routes


def call(client: TestClient, route: APIRoute, ids: dict[str, int], csrf: str = "") -> Any:
    """Make a well-formed request to ``route`` (valid parameters and body)."""
    image = ids["DCIM/100TEST/IMG_0001.JPG"]
    path = route.path.replace("{item_id}", str(image)).replace("{cluster_id}", "1")
    path = path.replace("{conversation_id}", "1").replace("{contact_id}", "1")
    method = next(iter(route.methods))
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    bodies: dict[str, dict[str, Any]] = {
        "categorise": {"items": [image], "code": "A"},
        "categorise_filter": {"filter": {"q": "IMG_0001"}, "code": "A", "expected": 1},
        "exposure": {"item": image, "kind": "thumb", "ms": 100},
        "lead_looked": {"kind": "item", "target": image},
        "categorise_group": {"cluster": 1, "code": "A", "expected": 0},
        "reveal_thumbs": {"items": [image]},
    }
    forms = {
        "settings_submit": {"blur": "12", "csrf": csrf},
        "logout": {"csrf": csrf},
        "login_submit": {"name": "nobody", "password": "x", "csrf": ""},
    }
    if route.name == "media":
        path += "?t=none"
    if route.name == "like":
        path += f"?item={image}"
    if method == "GET":
        return client.get(path)
    if route.name in forms:
        return client.post(path, data=forms[route.name])
    return client.post(path, json=bodies.get(route.name, {}), headers=headers)


def test_the_route_table_is_the_whole_app(case_dir: Path) -> None:
    with make_client(case_dir) as client:
        routes = api_routes(client)
    assert set(routes) == set(EXPECTED)
    # No interactive API docs (they are anonymous and load scripts from a CDN).
    assert not {"/docs", "/redoc", "/openapi.json"} & {r.path for r in routes.values()}


def test_anonymous_requests_are_refused(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    with make_client(case_dir) as client:
        for name, route in api_routes(client).items():
            response = call(client, route, ids)
            if EXPECTED[name] is None:
                assert response.status_code in (200, 403), name  # login form: no valid token
                continue
            if route.methods == {"GET"} and name not in NOT_PAGES:
                assert response.status_code == 303, name
                assert response.headers["location"].startswith("/login?next="), name
            else:
                assert response.status_code == 401, (name, response.text)
        assert client.get("/static/app.css").status_code == 200


def test_each_role_gets_exactly_its_routes(case_dir: Path) -> None:
    ids = item_ids(case_dir)
    for user, role in USERS.items():
        with make_client(case_dir) as client:
            csrf = login(client, user)
            routes = api_routes(client)
            # Logging out ends the session: do it last.
            order = sorted(routes, key=lambda n: n == "logout")
            for name in order:
                if EXPECTED[name] is None:
                    continue  # public: login form (tested anonymously and in test_auth)
                allowed = role in (EXPECTED[name] or set())
                route = routes[name]
                if name == "media" and allowed:
                    image = ids["DCIM/100TEST/IMG_0001.JPG"]
                    reveal = client.post(f"/api/reveal/{image}", headers={"X-CSRF-Token": csrf})
                    response = client.get(reveal.json()["url"])
                else:
                    response = call(client, route, ids, csrf)
                if allowed:
                    assert response.status_code not in (401, 403), (role, name, response.text)
                else:
                    assert response.status_code == 403, (role, name, response.status_code)
                    assert response.json()["detail"] == GUARD_DENIED, (role, name)


PAGES = ["Dashboard", "Grid", "Map", "Timeline", "Clusters", "Leads", "Conversations"]


def test_navigation_shows_only_allowed_pages(case_dir: Path) -> None:
    expected_nav = {
        "admin": [*PAGES[:7], "Audit", "Users", "Settings"],
        "read-only": [*PAGES[:7], "Settings"],
    }
    for user in ("ada", "ron"):
        with make_client(case_dir) as client:
            login(client, user)
            page = client.get("/").text
        nav = re.search(r"<nav>(.*?)</nav>", page, re.S)
        assert nav
        labels = re.findall(r">([^<>]+)</a>", nav.group(1))
        assert labels == expected_nav[USERS[user]]
