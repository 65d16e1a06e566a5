"""The one route table: every URL of the review server, and who may use it.

``app.py`` registers exactly these routes (plus the static files) and guards each
with its roles: anonymous requests are sent to the login page (pages) or refused
with 401; a role not listed gets 403; every POST must carry the session's CSRF
token. A test walks ``app.routes`` and checks all of this for every role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from unseen.review.auth import ADMIN, EXAMINER, READ_ONLY, REVIEWER
from unseen.review.views import (
    api,
    auth_views,
    export_views,
    lead_views,
    like_views,
    media_views,
    pages,
    phone_views,
)

PUBLIC: frozenset[str] = frozenset()
EVERYONE = frozenset({ADMIN, EXAMINER, REVIEWER, READ_ONLY})
DECIDERS = frozenset({ADMIN, EXAMINER, REVIEWER})  # categorise and open full-size media
AUDITORS = frozenset({ADMIN, EXAMINER})
ADMINS = frozenset({ADMIN})


@dataclass(frozen=True, slots=True)
class Route:
    """One URL: ``kind`` is ``page`` (HTML; anonymous users are sent to log in),
    ``api`` (JSON) or ``media`` (image and video bytes)."""

    name: str
    method: str
    path: str
    endpoint: Callable[..., Any]
    roles: frozenset[str]
    kind: str = "page"
    label: str = ""  # shown in the navigation bar when set

    @property
    def public(self) -> bool:
        return not self.roles


ROUTES: tuple[Route, ...] = (
    Route("login", "GET", "/login", auth_views.login_page, PUBLIC),
    Route("login_submit", "POST", "/login", auth_views.login_submit, PUBLIC),
    Route("logout", "POST", "/logout", auth_views.logout, EVERYONE),
    Route("dashboard", "GET", "/", pages.dashboard, EVERYONE, label="Dashboard"),
    Route("grid", "GET", "/grid", pages.grid, EVERYONE, label="Grid"),
    Route("item", "GET", "/item/{item_id}", pages.item_page, EVERYONE),
    Route("map", "GET", "/map", pages.map_page, EVERYONE, label="Map"),
    Route("timeline", "GET", "/timeline", pages.timeline, EVERYONE, label="Timeline"),
    Route("clusters", "GET", "/clusters", pages.clusters_page, EVERYONE, label="Clusters"),
    Route("cluster", "GET", "/clusters/{cluster_id}", pages.cluster_page, EVERYONE),
    Route("leads", "GET", "/leads", lead_views.leads_page, EVERYONE, label="Leads"),
    Route("like", "GET", "/like", like_views.like_page, EVERYONE),
    Route(
        "conversations",
        "GET",
        "/conversations",
        phone_views.conversations_page,
        EVERYONE,
        label="Conversations",
    ),
    Route(
        "conversation",
        "GET",
        "/conversations/{conversation_id}",
        phone_views.conversation_page,
        EVERYONE,
    ),
    Route("people", "GET", "/people", phone_views.people_page, EVERYONE),
    Route("contact", "GET", "/contacts/{contact_id}", phone_views.contact_page, EVERYONE),
    Route("audit", "GET", "/audit", pages.audit_page, AUDITORS, label="Audit"),
    Route("users", "GET", "/users", pages.users_page, ADMINS, label="Users"),
    Route("settings", "GET", "/settings", pages.settings_page, EVERYONE, label="Settings"),
    Route("settings_submit", "POST", "/settings", pages.settings_submit, EVERYONE),
    Route("thumb", "GET", "/thumb/{item_id}", media_views.thumb, EVERYONE, kind="media"),
    Route("reveal", "POST", "/api/reveal/{item_id}", media_views.reveal, DECIDERS, kind="api"),
    Route(
        "reveal_thumbs",
        "POST",
        "/api/reveal-thumbs",
        media_views.reveal_thumbs,
        EVERYONE,
        kind="api",
    ),
    Route("media", "GET", "/media/{item_id}", media_views.media_file, DECIDERS, kind="media"),
    Route("map_points", "GET", "/api/map-points", api.map_points, EVERYONE, kind="api"),
    Route("progress", "GET", "/api/progress", api.progress, EVERYONE, kind="api"),
    Route("categorise", "POST", "/api/categorise", api.categorise, DECIDERS, kind="api"),
    Route("export_filter", "GET", "/export", export_views.export_filter, AUDITORS, kind="api"),
    Route(
        "categorise_filter",
        "POST",
        "/api/categorise-filter",
        api.categorise_filter,
        DECIDERS,
        kind="api",
    ),
    Route("undo", "POST", "/api/undo", api.undo, DECIDERS, kind="api"),
    Route("lead_looked", "POST", "/api/leads/looked", lead_views.looked, EVERYONE, kind="api"),
    Route(
        "categorise_group",
        "POST",
        "/api/leads/categorise-group",
        lead_views.categorise_group,
        DECIDERS,
        kind="api",
    ),
    Route("exposure", "POST", "/api/exposure", api.exposure, EVERYONE, kind="api"),
    Route("break", "POST", "/api/break", api.take_break, EVERYONE, kind="api"),
)


def allowed(role: str, name: str) -> bool:
    """Whether ``role`` may use the route called ``name``."""
    return any(r.name == name and (r.public or role in r.roles) for r in ROUTES)


def navigation(role: str) -> list[Route]:
    """The routes shown in the navigation bar for ``role``, in table order."""
    return [r for r in ROUTES if r.label and role in r.roles]
