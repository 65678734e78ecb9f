"""The demo shop `make dev` seeds through the real API, so a new user can log in straight away."""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

import httpx
import psycopg

from devctl import pg
from devctl.paths import LOCAL

DEMO_FILE = LOCAL / "demo.json"
DEMO_EMAIL = "dono@demo.example.com"
DEMO_CUSTOMER_PHONE = "11912345678"
DEMO_ASAAS_KEY = "$aact_demo_" + "0" * 40  # the offline simulator's; not a real Asaas key
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
        conn.execute("delete from login_attempts")  # the login throttle (migration 0015)


def _user_exists(email: str) -> bool:
    with psycopg.connect(pg.url(dbname=pg.APP_DB)) as conn:  # superuser: row-level security does not apply
        return conn.execute("select 1 from users where email = %s", (email,)).fetchone() is not None


def _parsed(raw: str) -> Any:
    import email
    from email import policy

    return email.message_from_string(raw, policy=policy.default)


def mail_text(message: dict[str, Any]) -> str:
    """The text of a message LocalStack's SES kept (``/_aws/ses``): a raw MIME message (what the mail
    module sends) or SendEmail's parts."""
    raw = message.get("RawData")
    if raw:
        part = _parsed(raw).get_body(preferencelist=("plain",))
        return str(part.get_content()) if part is not None else ""
    return str((message.get("Body") or {}).get("text_part") or "")


def mail_recipients(message: dict[str, Any]) -> list[str]:
    """Who a kept message went to (SendRawEmail's are read from its To header)."""
    raw = message.get("RawData")
    if raw:
        return [a.addr_spec.lower() for a in _parsed(raw)["To"].addresses]
    return list((message.get("Destination") or {}).get("ToAddresses") or [])


def mail_subject(message: dict[str, Any]) -> str:
    raw = message.get("RawData")
    return str(_parsed(raw)["Subject"]) if raw else str(message.get("Subject") or "")


def _confirmation_token(localstack_url: str, sender: str, to: str, *, timeout_s: float = 30) -> str:
    """The token of the newest signup confirmation SES sent to ``to`` (read back from LocalStack)."""
    deadline = time.monotonic() + timeout_s
    while True:
        messages = httpx.get(f"{localstack_url}/_aws/ses", params={"email": sender}, timeout=30).json()
        links = [
            found[1]
            for m in messages.get("messages", [])
            if to in mail_recipients(m) and (found := re.search(r"/public/signup/([\w-]+)", mail_text(m)))
        ]
        if links:
            return links[-1]
        if time.monotonic() > deadline:
            raise RuntimeError(f"no signup confirmation mail to {to} in LocalStack's SES")
        time.sleep(0.5)


def seed(api_url: str, *, localstack_url: str, mail_sender: str) -> dict[str, str]:
    """Make sure the demo shop exists and its owner can log in; return the login. A new shop is
    confirmed as its owner would: the link in the mail SES sent (read back from LocalStack)."""
    creds = _credentials()
    with httpx.Client(base_url=api_url, timeout=30) as http:
        login: dict[str, Any] = {"email": creds["email"], "password": creds["password"]}
        if http.post("/auth/login", json=login).status_code == 200:
            return creds
        if _user_exists(DEMO_EMAIL):
            _set_password(creds["password"])
        else:
            response = http.post("/signup", json={**DEMO_SHOP, "password": creds["password"]})
            if response.status_code != 202:
                raise RuntimeError(f"could not create the demo shop: {response.status_code} {response.text}")
            token = _confirmation_token(localstack_url, mail_sender, DEMO_EMAIL)
            confirmed = http.post(f"/public/signup/{token}", json={})
            if confirmed.status_code != 201:
                raise RuntimeError(f"could not confirm the demo shop: {confirmed.status_code}")
        check = http.post("/auth/login", json=login)
        if check.status_code != 200:
            raise RuntimeError(f"the demo owner cannot log in: {check.status_code} {check.text}")
    return creds


def _ok(response: httpx.Response) -> Any:
    if response.status_code not in (200, 201):
        raise RuntimeError(
            f"demo data: {response.request.method} {response.request.url.path} -> {response.text}"
        )
    return response.json()


def seed_work(api_url: str, creds: dict[str, str]) -> dict[str, str]:
    """A first order with a quote waiting for the customer, so the public pages have something to
    show; return the customer's two links. Made once; later runs find it again."""
    with httpx.Client(base_url=api_url, timeout=30) as http:
        token = _ok(http.post("/auth/login", json=creds))["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        # The demo order is the demo customer's first (e2e tests may add orders to this shop).
        customers = _ok(http.get("/customers", params={"q": DEMO_CUSTOMER_PHONE}))["items"]
        orders = (
            _ok(http.get("/orders", params={"customer_id": customers[0]["id"], "limit": 100}))["items"]
            if customers
            else []
        )
        if orders:
            order = orders[-1]
        else:
            _ok(
                http.post(
                    "/price-rules",
                    json={
                        "service": "Troca de tela",
                        "device_type": "phone",
                        "brand": "Samsung",
                        "price_cents": 32000,
                    },
                )
            )
            screen = _ok(
                http.post(
                    "/parts",
                    json={
                        "name": "Película 3D Galaxy A54",
                        "brand": "Samsung",
                        "model": "Galaxy A54",
                        "quantity": 10,
                        "cost_cents": 800,
                        "price_cents": 3500,
                    },
                )
            )
            customer = _ok(
                http.post("/customers", json={"name": "Cliente Demo", "phone": DEMO_CUSTOMER_PHONE})
            )
            device = _ok(
                http.post(
                    f"/customers/{customer['id']}/devices",
                    json={
                        "type": "phone",
                        "brand": "Samsung",
                        "model": "Galaxy A54",
                        "accessories": ["capinha"],
                    },
                )
            )
            order = _ok(
                http.post(
                    "/orders",
                    json={
                        "customer_id": customer["id"],
                        "device_id": device["id"],
                        "reported_problem": "Tela quebrada após queda",
                    },
                )
            )
            order = _ok(
                http.post(f"/orders/{order['id']}/transitions", json={"to": "diagnosing", "version": 1})
            )["order"]
            _ok(
                http.post(
                    f"/orders/{order['id']}/quotes",
                    json={
                        "lines": [
                            {"kind": "service", "service": "Troca de tela"},
                            {"kind": "part", "part_id": screen["id"]},
                        ],
                        "deadline_days": 2,
                    },
                )
            )
        quotes = _ok(http.get(f"/orders/{order['id']}/quotes"))["items"]
        # The shop's Asaas account: the offline simulator's (any $aact_ key is an account there).
        if not _ok(http.get("/settings/payments"))["connected"]:
            _ok(http.put("/settings/payments", json={"api_key": DEMO_ASAAS_KEY, "environment": "sandbox"}))
    links = {"demo_tracking_url": f"{api_url}/public/orders/{order['tracking_token']}"}
    if quotes:
        links["demo_quote_url"] = f"{api_url}/public/quotes/{quotes[0]['public_token']}"
    return links


# The demo shop's WhatsApp number at the offline Evolution simulator.
DEMO_WHATSAPP_NUMBER = "5511955550000"


def connect_whatsapp(api_url: str, creds: dict[str, str], evolution_url: str) -> dict[str, str]:
    """The demo shop's number connected as its owner would: POST /whatsapp/instance (the QR), then the
    phone "scans" it (the simulator opens the instance and posts connection.update to the shop's
    webhook). Safe to repeat: an open number stays as it is."""
    with httpx.Client(base_url=api_url, timeout=30) as http:
        token = _ok(http.post("/auth/login", json=creds))["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        instance = _ok(http.post("/whatsapp/instance", json={}))
    if instance["state"] != "open":
        with httpx.Client(base_url=evolution_url, timeout=30) as sim:
            _ok(sim.post(f"/_sim/instances/{instance['name']}/open", json={"number": DEMO_WHATSAPP_NUMBER}))
    return {"demo_whatsapp_instance": instance["name"], "demo_whatsapp_number": DEMO_WHATSAPP_NUMBER}


def connect_google(api_url: str, creds: dict[str, str], *, again: bool = False) -> dict[str, str]:
    """The demo shop's Google Calendar connected as its owner would: POST /integrations/google/connect
    (the consent URL), the browser opens it (the offline simulator's consent screen approves at once
    and redirects to the API's callback with a code), and the callback keeps the tokens. Safe to
    repeat: a connected shop stays as it is, unless ``again`` (a simulator started afresh has
    forgotten every grant it gave)."""
    with httpx.Client(base_url=api_url, timeout=30) as http:
        token = _ok(http.post("/auth/login", json=creds))["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        connection = _ok(http.get("/integrations/google"))
        if again or not connection["connected"]:
            consent_url = _ok(http.post("/integrations/google/connect", json={}))["authorization_url"]
            # The browser's two hops, without the owner's token: Google's consent, then the callback
            with httpx.Client(timeout=30, follow_redirects=False) as browser:
                consent = browser.get(consent_url)
                if consent.status_code != 302 or "location" not in consent.headers:
                    raise RuntimeError(
                        f"Google's consent answered {consent.status_code}: {consent.text[:200]}"
                    )
                callback = browser.get(consent.headers["location"])
                if callback.status_code != 200:
                    raise RuntimeError(
                        f"the Google callback answered {callback.status_code}: {callback.text[:200]}"
                    )
            connection = _ok(http.get("/integrations/google"))
            if not connection["connected"]:
                raise RuntimeError(f"the demo shop's Google Calendar is {connection['status']}")
    return {"demo_google_account": connection.get("account_email") or ""}
