"""The staff's panel through its local edge (localstack/panel_edge, started by `make up`): the API
same-origin at /api, the deployed stack's WebSocket URL in /config.json, the security headers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest


@pytest.fixture(scope="module")
def panel(stack: dict[str, Any]) -> Iterator[httpx.Client]:
    assert stack.get("panel_url"), "make up records panel_url in .local/stack.json"
    with httpx.Client(base_url=stack["panel_url"], timeout=httpx.Timeout(30.0)) as client:
        yield client


def test_the_api_answers_through_the_panels_origin(panel: httpx.Client, http: httpx.Client) -> None:
    # When the panel calls /api/health on its own origin
    through_edge = panel.get("api/health")
    # Then the deployed API answered it, as it answers its own URL, under the edge's headers
    assert through_edge.status_code == 200, through_edge.text
    assert through_edge.json()["stage"] == "local"
    assert through_edge.json()["version"] == http.get("/health").json()["version"]
    assert through_edge.headers["x-correlation-id"]
    assert "frame-ancestors 'none'" in through_edge.headers["content-security-policy"]
    # And the API's own 404 reaches the panel as it is (not the panel's index.html)
    missing = panel.get("api/no/such/route")
    assert missing.status_code == 404
    assert missing.json()["code"] == "route_not_found"


def test_a_login_through_the_panels_origin_gets_tokens_that_work_there(
    panel: httpx.Client, stack: dict[str, Any]
) -> None:
    login = panel.post(
        "api/auth/login", json={"email": stack["demo_email"], "password": stack["demo_password"]}
    )
    assert login.status_code == 200, login.text
    me = panel.get("api/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["user"]["email"] == stack["demo_email"]


def test_config_json_names_the_api_prefix_and_the_stacks_websocket(
    panel: httpx.Client, stack: dict[str, Any]
) -> None:
    config = panel.get("config.json")
    assert config.status_code == 200
    assert config.json() == {"apiBase": "/api", "wsUrl": stack.get("ws_url")}
