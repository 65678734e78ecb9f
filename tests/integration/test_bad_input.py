"""Bad input on every write route of orders, quotes, stock, rules, payments, the shop's subscription
and the public decision:
malformed JSON, oversized bodies, wrong types and other shops' ids each get their error, and the
shop's data is byte-for-byte what it was before."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, Shop, signup
from tests.integration.shop_helpers import _ok, part, quoted_order

TABLES = (
    "bank_agreements",
    "bank_files",
    "boletos",
    "boleto_instructions",
    "customers",
    "devices",
    "tenant_settings",
    "service_orders",
    "order_transitions",
    "order_workflows",
    "quotes",
    "reservations",
    "parts",
    "stock_movements",
    "price_rules",
    "discount_rules",
    "quote_templates",
    "outbox",
    "audit_log",
    "payment_accounts",
    "charges",
    "webhook_inbox",
    "tenant_subscriptions",
    "subscription_invoices",
    "billing_notices",
)


@dataclass
class World:
    shop: Shop
    other: Shop
    ids: dict[str, str]


def _world(client: Client) -> World:
    shop, other = signup(client), signup(client)
    screen = part(client, shop)
    order, quote = quoted_order(client, shop, [{"kind": "part", "part_id": screen["id"]}])
    rule = _ok(
        client.call(
            "POST",
            "/price-rules",
            shop.access_token,
            body={"service": "Troca", "device_type": "phone", "price_cents": 1},
        )
    )
    discount = _ok(
        client.call(
            "POST", "/discount-rules", shop.access_token, body={"name": "Fiel", "min_days": 30, "percent": 5}
        )
    )
    return World(
        shop=shop,
        other=other,
        ids={
            "order": order["id"],
            "customer": order["customer_id"],
            "device": order["device_id"],
            "quote": quote["id"],
            "token": quote["public_token"],
            "part": screen["id"],
            "rule": rule["id"],
            "discount": discount["id"],
        },
    )


# The tests below only read their world (each checks that its own call changed nothing), so a
# worker builds one per database and they share it: two signups and a quoted order were most of each
# test's time. It is built again past WORLD_MAX_AGE_S, well inside the access tokens' 15 minutes.
WORLD_MAX_AGE_S = 600.0
_worlds: dict[str, tuple[float, World]] = {}


def _shared_world(client: Client, database: PgDatabase) -> World:
    built = _worlds.get(database.app_url)
    if built is None or time.monotonic() - built[0] > WORLD_MAX_AGE_S:
        built = (time.monotonic(), _world(client))
        _worlds[database.app_url] = built
    return built[1]


def _snapshot(database: PgDatabase, tenant_id: str) -> dict[str, str]:
    digest = {}
    with psycopg.connect(database.superuser_url) as conn:
        for table in TABLES:
            rows = conn.execute(
                f"select coalesce(string_agg(t::text, '|' order by t::text), '') from {table} t "
                "where tenant_id = %s",
                (tenant_id,),
            ).fetchone()
            assert rows is not None
            digest[table] = hashlib.sha256(rows[0].encode()).hexdigest()
    return digest


# (method, path, a valid body) — the body shows the shape that the "wrong types" case breaks.
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "POST",
        "/orders",
        {"customer_id": "{customer}", "device_id": "{device}", "reported_problem": "Não liga"},
    ),
    ("PATCH", "/orders/{order}", {"version": 3, "diagnosis": "Placa"}),
    ("POST", "/orders/{order}/transitions", {"to": "cancelled", "version": 3}),
    ("POST", "/orders/{order}/warranty-return", {"reported_problem": "Voltou"}),
    (
        "POST",
        "/orders/{order}/quotes",
        {"lines": [{"kind": "labour", "description": "Mão", "price_cents": 1}], "deadline_days": 1},
    ),
    ("POST", "/quotes/{quote}/decision", {"decision": "approve", "name": "Ana"}),
    ("POST", "/quotes/{quote}/send", {"reminder_hours": 24, "expire_hours": 72}),
    ("PUT", "/settings/order-workflow", {"version": 0, "disabled_transitions": [], "warranty_days": 30}),
    ("POST", "/price-rules", {"service": "Outra", "device_type": "tablet", "price_cents": 1}),
    ("PATCH", "/price-rules/{rule}", {"version": 1, "price_cents": 2}),
    ("POST", "/discount-rules", {"name": "Outro", "min_days": 10, "percent": 1}),
    ("PATCH", "/discount-rules/{discount}", {"version": 1, "percent": 2}),
    (
        "PUT",
        "/settings/quote-template",
        {"version": 0, "body": "Oi {{CLIENTE}} {{VALOR}}", "validity_days": 3},
    ),
    ("POST", "/parts", {"name": "Peça nova", "price_cents": 1}),
    ("PATCH", "/parts/{part}", {"version": 1, "price_cents": 2}),
    ("POST", "/parts/{part}/movements", {"kind": "receive", "quantity": 1}),
    ("POST", "/public/quotes/{token}/decision", {"decision": "approve", "name": "Ana"}),
    ("POST", "/orders/{order}/charges", {"billing_type": "PIX", "value_cents": 1000}),
    ("PUT", "/settings/payments", {"api_key": "$aact_" + "a" * 30, "environment": "sandbox"}),
    ("PUT", "/billing/plan", {"plan": "profissional", "version": 1}),
    ("POST", "/billing/cancel", {"version": 1}),
    ("POST", "/whatsapp/instance", {"number": "5511955554444"}),
    ("PUT", "/settings/whatsapp", {"version": 0, "templates": {"menu": "Oi {{LOJA}}"}, "bot_enabled": True}),
    # A conversation that does not exist: the body is refused before anything is looked up
    (
        "POST",
        "/conversations/6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e11/messages",
        {"text": "Olá"},
    ),
    ("PUT", "/conversations/6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e11/assignee", {"user_id": None}),
    ("PUT", "/conversations/6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e11/customer", {"customer_id": "{customer}"}),
    ("PUT", "/settings/documents", {"version": 1, "address": "Rua A, 1", "intake_terms": "Termos"}),
    ("POST", "/settings/logo", {"content_type": "image/png"}),
    ("PUT", "/settings/logo", {"key": "logos/6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e11/logo.png"}),
    (
        "POST",
        "/banking/agreements",
        {
            "name": "Sicoob",
            "bank_code": "756",
            "branch": "3069",
            "account": "1234567",
            "wallet": "1",
            "agreement_code": "1234567",
            "layout": "cnab240",
        },
    ),
    ("POST", "/banking/files", {"kind": "retorno", "filename": "CB0301.RET"}),
    ("POST", "/orders/{order}/boletos", {"due_date": "2099-01-10", "fine_bp": 200}),
    (
        "POST",
        "/banking/boletos",
        {"customer_id": "{customer}", "amount_cents": 15000, "due_date": "2099-01-10", "description": "Peça"},
    ),
    # A boleto that does not exist: the body is refused before anything is looked up
    (
        "POST",
        "/banking/boletos/6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e11/instructions",
        {"instruction": "change_due_date", "due_date": "2030-01-10"},
    ),
    ("POST", "/banking/reconciliation/run", {"from": "2030-01-01", "to": "2030-01-31"}),
    (
        "POST",
        "/banking/reconciliation/matches",
        {
            "statement_line_id": "6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e11",
            "charge_ids": ["6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e12"],
            "difference_cents": 0,
        },
    ),
    # (the inline file's route takes bodies up to 1.4 MB: its own bad bodies are in test_banking.py)
]
WITH_IDS = [r for r in ROUTES if "{" in r[1] and "{token}" not in r[1]]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value and "}" in value and "{{" not in value else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _wrong_types(body: dict[str, Any]) -> dict[str, Any]:
    """Every field the wrong JSON type: numbers become lists, everything else an object."""
    return {
        k: ([v] if isinstance(v, (int, float)) and not isinstance(v, bool) else {"x": v})
        for k, v in body.items()
    }


def _call(
    client: Client, world: World, method: str, path: str, token: str | None, **kwargs: Any
) -> tuple[int, Any]:
    path = path.format(**world.ids)
    if path.startswith("/public/"):
        token = None
    status, body, _ = client.call(method, path, token, **kwargs)
    return status, body


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
@pytest.mark.parametrize("case", ["malformed", "oversized", "wrong_types"])
def test_bad_bodies_are_refused_and_change_nothing(
    client: Client, database: PgDatabase, method: str, path: str, body: dict[str, Any], case: str
) -> None:
    world = _shared_world(client, database)
    before = _snapshot(database, world.shop.tenant_id)
    if case == "malformed":
        status, answer = _call(
            client, world, method, path, world.shop.access_token, raw_body='{"version": 1,'
        )
        assert (status, answer["code"]) in ((422, "invalid_json"), (422, "validation_error")), answer
    elif case == "oversized":
        huge = {**_fill(body, world.ids), "padding": "x" * 70_000}
        status, answer = _call(client, world, method, path, world.shop.access_token, body=huge)
        assert (status, answer["code"]) == (413, "payload_too_large"), answer
    else:
        status, answer = _call(client, world, method, path, world.shop.access_token, body=_wrong_types(body))
        assert (status, answer["code"]) == (422, "validation_error"), answer
        assert answer["message"]
    assert _snapshot(database, world.shop.tenant_id) == before


@pytest.mark.parametrize(("method", "path", "body"), WITH_IDS, ids=[f"{m} {p}" for m, p, _ in WITH_IDS])
def test_another_shops_ids_are_not_found_and_change_nothing(
    client: Client, database: PgDatabase, method: str, path: str, body: dict[str, Any]
) -> None:
    world = _shared_world(client, database)
    before = _snapshot(database, world.shop.tenant_id)
    status, answer = _call(client, world, method, path, world.other.access_token, body=_fill(body, world.ids))
    assert (status, answer["code"]) == (404, "not_found"), answer
    assert _snapshot(database, world.shop.tenant_id) == before
    # and reads of those ids find nothing either
    for read in (
        "/orders/{order}",
        "/orders/{order}/history",
        "/orders/{order}/quotes",
        "/quotes/{quote}",
        "/parts/{part}",
    ):
        assert client.call("GET", read.format(**world.ids), world.other.access_token)[0] == 404


def test_a_valid_call_does_change_the_snapshot(client: Client, database: PgDatabase) -> None:
    # The snapshot sees changes (else the tests above could not fail)
    world = _world(client)  # its own: this one changes it
    before = _snapshot(database, world.shop.tenant_id)
    _ok(client.call("POST", "/parts", world.shop.access_token, body={"name": "Peça nova", "price_cents": 1}))
    after = _snapshot(database, world.shop.tenant_id)
    assert {t for t in TABLES if before[t] != after[t]} == {"parts", "audit_log"}


# Documented as a decimal: a number or its digits in a string (pydantic's Decimal), not an integer.
DECIMALS = {"percent"}


def _numbers_as_strings(body: dict[str, Any]) -> dict[str, Any]:
    """Every integer field sent as its digits in a string ("3" for 3)."""
    return {
        k: str(v) if isinstance(v, int) and not isinstance(v, bool) and k not in DECIMALS else v
        for k, v in body.items()
    }


WITH_INTEGERS = [r for r in ROUTES if _numbers_as_strings(r[2]) != r[2]]


@pytest.mark.parametrize(
    ("method", "path", "body"), WITH_INTEGERS, ids=[f"{m} {p}" for m, p, _ in WITH_INTEGERS]
)
def test_an_integer_sent_as_a_string_is_refused_and_changes_nothing(
    client: Client, database: PgDatabase, method: str, path: str, body: dict[str, Any]
) -> None:
    # Given a shop and a body whose integers (documented as integers) come as strings: "3" for 3
    world = _shared_world(client, database)
    before = _snapshot(database, world.shop.tenant_id)
    filled = _fill(body, world.ids)
    sent = _numbers_as_strings(filled)
    # When it is sent
    status, answer = _call(client, world, method, path, world.shop.access_token, body=sent)
    # Then each such field is a 422 in our shape, in pt-BR, and nothing changed
    assert (status, answer["code"]) == (422, "validation_error"), answer
    wrong = {k for k, v in sent.items() if v != filled.get(k)}
    assert {d["field"] for d in answer["details"]} == wrong, answer
    assert {d["message"] for d in answer["details"]} == {"deve ser um número inteiro"}
    assert _snapshot(database, world.shop.tenant_id) == before


LISTS = ["/customers", "/orders", "/parts", "/users", "/audit", "/stock/search?q=Tela", "/data-exports"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("limit", ["1.0", "1.5", "1e3", "+1", " 1", "1_0", "0x1", "um", ""])
def test_a_limit_that_is_not_an_integer_is_422(client: Client, path: str, limit: str) -> None:
    # Given a shop; When a list is asked for a limit that only looks like an integer
    shop = signup(client)
    route, _, query = path.partition("?")
    params = dict(p.split("=") for p in query.split("&") if p)
    status, answer, _ = client.call("GET", route, shop.access_token, query={**params, "limit": limit})
    # Then 422 in our shape, naming the field in pt-BR
    assert (status, answer["code"]) == (422, "validation_error"), answer
    assert answer["details"] == [
        {"field": "query.limit", "type": "int_parsing", "message": "deve ser um número inteiro"}
    ]


@pytest.mark.parametrize("path", LISTS)
def test_a_limit_of_digits_is_read(client: Client, path: str) -> None:
    shop = signup(client)
    route, _, query = path.partition("?")
    params = dict(p.split("=") for p in query.split("&") if p)
    status, answer, _ = client.call("GET", route, shop.access_token, query={**params, "limit": "2"})
    assert status == 200, answer


def test_an_order_number_that_is_not_an_integer_is_422(client: Client) -> None:
    shop = signup(client)
    assert client.call("GET", "/orders", shop.access_token, query={"number": "1"})[0] == 200
    status, answer, _ = client.call("GET", "/orders", shop.access_token, query={"number": "1.0"})
    assert (status, answer["code"]) == (422, "validation_error"), answer


def test_the_audit_log_can_be_filtered_by_every_entity_the_product_writes(client: Client) -> None:
    from typing import get_args

    from assistec.api.schemas.audit import AuditEntity

    # Given a shop whose signup wrote its first audit entry
    shop = signup(client)
    # When its log is filtered by each entity the code writes (charges and payment accounts too)
    for entity in get_args(AuditEntity):
        status, answer, _ = client.call("GET", "/audit", shop.access_token, query={"entity": entity})
        # Then each filter is accepted
        assert status == 200, (entity, answer)
        assert all(item["entity"] == entity for item in answer["items"])
    assert client.call("GET", "/audit", shop.access_token, query={"entity": "tenant"})[1]["items"]
    # and an entity that is never written is still refused in our shape
    status, answer, _ = client.call("GET", "/audit", shop.access_token, query={"entity": "planet"})
    assert (status, answer["code"]) == (422, "validation_error"), answer


# Query strings that pass validation, so the request reaches the database.
_WINDOW = {"from": "2030-01-07T00:00:00-03:00", "to": "2030-01-08T00:00:00-03:00"}
QUERIES: dict[str, dict[str, str]] = {
    "/stock/search": {"q": "Tela"},
    "/availability": {**_WINDOW, "type": "drop_off"},
    "/appointments": _WINDOW,
    "/public/orders/{token}/pdf": {"kind": "intake"},
}


def _consent_state(identity: dict[str, str]) -> str:
    """A well-signed Google consent state (the callback's credential), for the shop of ``identity``."""
    import time

    import jwt

    from tests.integration.conftest import SIGNING_KEY

    now = int(time.time())
    claims = {"aud": "assistec-google-consent", "tid": identity["tenant_id"], "sub": identity["user_id"],
              "nonce": "n" * 32, "iat": now, "exp": now + 600}  # fmt: skip
    return jwt.encode(claims, SIGNING_KEY, algorithm="HS256")


# Bodies that pass validation, so the request reaches the database.
VALID_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/auth/login"): {"email": "dono@exemplo.com.br", "password": "senha-forte-123"},
    ("post", "/customers"): {"name": "Ana Souza", "phone": "(11) 98765-4321"},
    ("post", "/parts"): {"name": "Tela", "price_cents": 1},
    ("post", "/price-rules"): {"service": "Troca", "device_type": "phone", "price_cents": 1},
    ("patch", "/parts/{part_id}"): {"version": 1, "price_cents": 2},
    ("post", "/orders/{order_id}/transitions"): {"to": "cancelled", "version": 1},
    ("post", "/whatsapp/instance"): {},
    ("post", "/quotes/{quote_id}/send"): {},
    ("put", "/settings/whatsapp"): {"version": 0},
    ("post", "/conversations/{conversation_id}/messages"): {"text": "Olá"},
    ("put", "/conversations/{conversation_id}/assignee"): {"user_id": None},
    ("post", "/settings/email/smtp/test"): {},
    ("post", "/orders/{order_id}/documents/{kind}/email"): {},
    ("put", "/settings/email/templates/{name}"): {"subject": "Sua OS {{ order_number }}", "version": 0},
    ("post", "/settings/email/templates/{name}/preview"): {},
    ("put", "/settings/documents"): {"version": 1},
    ("post", "/settings/logo"): {"content_type": "image/png"},
    ("put", "/settings/logo"): {"key": "logos/6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e11/logo.png"},
    ("post", "/data-exports"): {},
    ("post", "/realtime/ticket"): {},
    ("post", "/banking/agreements"): {
        "name": "Itaú da loja",
        "bank_code": "341",
        "branch": "0057",
        "account": "12345",
        "account_digit": "7",
        "wallet": "109",
        "agreement_code": "12345",
        "layout": "cnab400",
    },
    ("patch", "/banking/agreements/{agreement_id}"): {"version": 1, "name": "Itaú"},
    ("post", "/banking/files"): {"kind": "retorno"},
    ("post", "/banking/files/inline"): {"kind": "retorno", "content_base64": "MDEy"},
    ("post", "/orders/{order_id}/boletos"): {"due_date": "2099-01-10"},
    ("post", "/banking/boletos"): {
        "customer_id": "6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e11",
        "amount_cents": 15000,
        "due_date": "2099-01-10",
        "description": "Peça avulsa",
    },
    ("post", "/banking/boletos/{boleto_id}/send"): {},
    ("post", "/banking/agreements/{agreement_id}/remessas"): {},
    ("post", "/banking/boletos/{boleto_id}/instructions"): {"instruction": "write_off"},
    ("post", "/banking/reconciliation/run"): {"from": "2030-01-01", "to": "2030-01-31"},
    ("post", "/banking/reconciliation/matches"): {
        "statement_line_id": "6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e11",
        "bank_file_line_ids": ["6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e12"],
    },
    ("post", "/banking/reconciliation/matches/{match_id}/confirm"): {},
    ("post", "/banking/reconciliation/matches/{match_id}/reject"): {},
}


def test_every_database_backed_route_answers_503_in_our_shape_while_the_database_is_down(
    monkeypatch: pytest.MonkeyPatch, lambda_context: Any, pg_cluster: Any
) -> None:
    import json
    import uuid

    from assistec.api.openapi_doc import render
    from assistec.handlers import api as api_handler
    from tests.integration.conftest import configure_api, rest_event

    # Given a deployment whose database does not answer (nothing listens on port 1), and a caller
    # whose token API Gateway's authorizer accepted
    configure_api(monkeypatch, "postgresql://assistec_app:x@127.0.0.1:1/assistec?connect_timeout=1")
    identity = {"principalId": str(uuid.uuid4()), "tenant_id": str(uuid.uuid4()), "role": "owner"}
    identity["user_id"] = identity["principalId"]
    documented = json.loads(render())["paths"]
    link_token = f"{uuid.uuid4()}.{'A' * 43}"  # the shop's id, then the link's secret
    tried = []
    for path, item in documented.items():
        for method, operation in item.items():
            body = VALID_BODIES.get((method, path))
            if path == "/health" or (method not in ("get", "delete") and body is None):
                continue
            concrete = path
            for name in [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]:
                value = str(uuid.uuid4())
                if name == "token":
                    value = "A" * 43 if path.startswith("/public/signup/") else link_token
                if name == "name":  # an e-mail template
                    value = "order_document"
                elif name == "kind":
                    value = "intake"  # a document's kind: a uuid would be refused before the database
                concrete = concrete.replace(f"{{{name}}}", value)
            query = QUERIES.get(path)
            if path == "/integrations/google/callback":
                query = {"code": "4/0Ab", "state": _consent_state(identity)}
            # When the route is called
            response = api_handler.handler(
                rest_event(
                    method.upper(),
                    concrete,
                    body=body,
                    query=query,
                    authorizer=identity if operation.get("security") else None,
                ),
                lambda_context,
            )
            # Then it answers the 503 its document promises, in our error shape: retry later
            answer = json.loads(response["body"])
            assert (response["statusCode"], answer["code"]) == (503, "service_unavailable"), (path, answer)
            assert answer["message"]
            assert response["multiValueHeaders"]["Retry-After"] == ["5"]
            assert "503" in operation["responses"]
            tried.append((method, path))
    assert len(tried) > 30, tried
