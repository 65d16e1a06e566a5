"""Ids an attacker types into URLs and bodies: too big for SQL, negative, or junk.

Each must be refused as a client error (422 from validation, 404 for "no such row"),
never reach the database driver as an overflow (HTTP 500).
"""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from .helpers import login

HUGE = str(2**63)
HUGER = str(2**64 + 5)


@pytest.mark.parametrize(
    "url",
    [
        f"/item/{HUGE}",
        f"/item/{HUGER}",
        "/item/-1",
        "/item/0",
        f"/thumb/{HUGE}",
        "/thumb/-3",
        f"/media/{HUGE}?t=x",
        f"/clusters/{HUGE}",
        f"/audit?before={HUGE}",
        "/audit?before=-1",
        f"/like?item={HUGE}",
        f"/like?cluster={HUGER}",
        "/like?item=-2",
    ],
)
def test_out_of_range_ids_in_urls_are_422(client: TestClient, url: str) -> None:
    login(client, "ada")
    response = client.get(url)
    assert response.status_code == 422, response.text


def test_in_range_unknown_ids_are_404(client: TestClient) -> None:
    login(client, "ada")
    biggest = str(2**63 - 1)
    assert client.get(f"/item/{biggest}").status_code == 404
    assert client.get(f"/thumb/{biggest}").status_code == 404


def test_out_of_range_ids_in_bodies_are_422(client: TestClient) -> None:
    csrf = login(client, "ada")
    headers = {"X-CSRF-Token": csrf}
    for body in ({"items": [2**63], "code": "A"}, {"items": [-1], "code": "A"}):
        assert client.post("/api/categorise", json=body, headers=headers).status_code == 422
    exposure = {"item": 2**64, "kind": "thumb", "ms": 5}
    assert client.post("/api/exposure", json=exposure, headers=headers).status_code == 422
    assert client.post(f"/api/reveal/{HUGE}", headers=headers).status_code == 422


def test_a_forged_grid_cursor_with_a_huge_key_is_ignored(client: TestClient) -> None:
    login(client, "ada")
    for key in ([2**70, 2**70], ["x", 2**63], [True, 1]):
        cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")
        assert client.get(f"/grid?after={cursor}").status_code == 200
        assert client.get(f"/grid?before={cursor}&sort=time").status_code == 200
