"""Customers over HTTP on the deployed local stack (the migration arrived through the schema function)."""

from __future__ import annotations

import uuid
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
    tag = uuid.uuid4().hex[:8]  # the demo shop's data outlives test runs
    phone = f"11 9{uuid.uuid4().int % 10**8:08d}"
    created = http.post("/customers", headers=headers, json={"name": f"Cláudia Ávila {tag}", "phone": phone})
    assert created.status_code == 201, created.text
    found = http.get("/customers", headers=headers, params={"q": f"claudia avila {tag}"})
    assert found.status_code == 200
    assert [c["id"] for c in found.json()["items"]] == [created.json()["id"]]
    again = http.post("/customers", headers=headers, json={"name": "Outra Pessoa", "phone": phone})
    assert (again.status_code, again.json()["details"]) == (409, {"field": "phone"})
    bad = http.post("/customers", headers=headers, json={"name": "Sem Telefone"})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")
