"""A fresh shop per e2e test module: tests that change settings or fuzz the API must not touch the
demo shop `make dev` shows."""

from __future__ import annotations

import uuid

import httpx


def new_shop(http: httpx.Client, name: str) -> dict[str, str]:
    from validate_docbr import CNPJ

    email = f"e2e-{uuid.uuid4().hex[:10]}@exemplo.com.br"
    password = f"senha-{uuid.uuid4().hex[:12]}"
    response = http.post(
        "/signup",
        json={
            "shop_name": name,
            "cnpj": CNPJ().generate(),
            "email": email,
            "phone": "(11) 98765-4321",
            "owner_name": "Dono E2E",
            "password": password,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return {
        "email": email,
        "password": password,
        "access_token": body["access_token"],
        "tenant_id": body["tenant_id"],
    }
