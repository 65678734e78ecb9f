"""Customers over HTTP on the deployed local stack (the migration arrived through the schema function)."""

from __future__ import annotations

from typing import Any

import httpx


def _login(http: httpx.Client, stack: dict[str, Any]) -> dict[str, str]:
    response = http.post(
        "/auth/login", json={"email": stack["demo_email"], "password": stack["demo_password"]}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_register_and_find_a_customer(http: httpx.Client, stack: dict[str, Any]) -> None:
    headers = _login(http, stack)
    created = http.post(
        "/customers", headers=headers, json={"name": "Cláudia Ávila E2E", "phone": "11 93456-7890"}
    )
    assert created.status_code in (201, 409), created.text  # 409: this stack already has her from a rerun
    found = http.get("/customers", headers=headers, params={"q": "claudia avila e2e"})
    assert found.status_code == 200
    assert [c["name"] for c in found.json()["items"]] == ["Cláudia Ávila E2E"]
    bad = http.post("/customers", headers=headers, json={"name": "Sem Telefone"})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")
