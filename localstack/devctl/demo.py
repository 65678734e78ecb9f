"""The demo shop `make dev` seeds through the real API, so a new user can log in straight away."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import psycopg

from devctl import pg
from devctl.paths import LOCAL

DEMO_FILE = LOCAL / "demo.json"
DEMO_EMAIL = "dono@demo.example.com"
DEMO_SHOP = {
    "shop_name": "Assistência Técnica Demo",
    "cnpj": "11.222.333/0001-81",
    "email": DEMO_EMAIL,
    "phone": "(11) 98765-4321",
    "owner_name": "Dona da Loja Demo",
}


def _credentials() -> dict[str, str]:
    if DEMO_FILE.exists():
        saved: dict[str, str] = json.loads(DEMO_FILE.read_text())
        return saved
    creds = {"email": DEMO_EMAIL, "password": f"demo-{secrets.token_urlsafe(12)}"}
    DEMO_FILE.write_text(json.dumps(creds))
    DEMO_FILE.chmod(0o600)
    return creds


def _set_password(password: str) -> None:
    """The demo user exists but its password was lost (.local/demo.json deleted): set a new one."""
    from argon2 import PasswordHasher

    with psycopg.connect(pg.url(dbname=pg.APP_DB)) as conn:  # superuser: row-level security does not apply
        conn.execute(
            "update users set password_hash = %s where email = %s",
            (PasswordHasher().hash(password), DEMO_EMAIL),
        )
        conn.execute("delete from login_failures")


def seed(api_url: str) -> dict[str, str]:
    """Make sure the demo shop exists and its owner can log in; return the login."""
    creds = _credentials()
    with httpx.Client(base_url=api_url, timeout=30) as http:
        login: dict[str, Any] = {"email": creds["email"], "password": creds["password"]}
        if http.post("/auth/login", json=login).status_code == 200:
            return creds
        response = http.post("/signup", json={**DEMO_SHOP, "password": creds["password"]})
        if response.status_code == 409:
            _set_password(creds["password"])
        elif response.status_code != 201:
            raise RuntimeError(f"could not create the demo shop: {response.status_code} {response.text}")
        check = http.post("/auth/login", json=login)
        if check.status_code != 200:
            raise RuntimeError(f"the demo owner cannot log in: {check.status_code} {check.text}")
    return creds
