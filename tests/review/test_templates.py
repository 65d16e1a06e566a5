"""One Jinja environment for pages and reports: escaping, strictness, shared filters, and
the route table reaching the pages as globals."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from unseen.core.templates import environment
from unseen.reports.internet import environment as report_environment
from unseen.review.app import templates


def test_every_environment_escapes_and_refuses_undefined_names() -> None:
    for env in (environment("unseen.reports"), report_environment(), templates()):
        assert env.from_string("{{ name }}").render(name="a[/]b<script>") == (
            "a[/]b&lt;script&gt;"
        )
        with pytest.raises(UndefinedError):
            env.from_string("{{ missing }}").render()


def test_pages_and_reports_share_the_filters() -> None:
    for env in (report_environment(), templates()):
        page = "{{ path | basename }} {{ params | urlencode_dict(after='x y') }}"
        shown = env.from_string(page).render(path="Users/sam/a&b.jpg", params={"cat": "A"})
        assert shown == "a&amp;b.jpg cat=A&amp;after=x+y"
    assert report_environment().filters["heat"](5, 10) == 3


def test_the_route_table_reaches_templates_as_globals() -> None:
    env = templates()
    nav = "{% for r in navigation(role) %}{{ r.label }},{% endfor %}"
    assert env.from_string(nav).render(role="reviewer") == (
        "Dashboard,Grid,Map,Timeline,Clusters,Leads,Conversations,Settings,"
    )
    assert "Users," in env.from_string(nav).render(role="admin")
    can = "{{ allowed(role, 'users') }} {{ allowed(role, 'grid') }}"
    assert env.from_string(can).render(role="reviewer") == "False True"
