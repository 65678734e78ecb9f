"""/customers: registration, phone variants as one number, documents, search, isolation, locking."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, Shop, signup

MARIA = {"name": "Maria Conceição", "phone": "(11) 98765-4321", "document": "529.982.247-25"}


def _create(client: Client, shop: Shop, **body: object) -> tuple[int, dict]:
    status, payload, _ = client.call("POST", "/customers", shop.access_token, body=body)
    return status, payload


def _count(database: PgDatabase, tenant_id: str) -> int:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute("select count(*) from customers where tenant_id = %s", (tenant_id,)).fetchone()
    assert row is not None
    return int(row[0])


def test_registers_a_customer_with_normalised_phone_and_document(client: Client) -> None:
    shop = signup(client)
    address = {
        "street": "Rua Augusta",
        "number": "100",
        "city": "São Paulo",
        "state": "SP",
        "zip_code": "01305-000",
    }
    status, customer = _create(client, shop, **MARIA, email="Maria@Exemplo.com.br", address=address)
    assert status == 201, customer
    assert (customer["phone"], customer["document"], customer["email"]) == (
        "+5511987654321",
        "52998224725",
        "maria@exemplo.com.br",
    )
    assert customer["address"]["state"] == "SP"
    assert client.call("GET", f"/customers/{customer['id']}", shop.access_token)[1] == customer


def test_the_two_spellings_of_a_mobile_are_one_customer(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    assert _create(client, shop, name="Maria", phone="+55 11 98765-4321")[0] == 201
    # The same line written without the ninth digit, as old address books have it
    status, body = _create(client, shop, name="Maria de novo", phone="11 8765-4321")
    assert (status, body["code"], body["details"]) == (409, "conflict", {"field": "phone"})
    assert _count(database, shop.tenant_id) == 1
    # Another shop may have the same customer
    other = signup(client)
    assert _create(client, other, name="Maria", phone="11 8765-4321")[0] == 201


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"document": "111.111.111-11"}, "document"),
        ({"phone": "12"}, "phone"),
        ({"email": "nao-email"}, "email"),
        ({"name": "M"}, "name"),
        (
            {"address": {"street": "Rua", "number": "1", "city": "X", "state": "XX", "zip_code": "1"}},
            "address.state",
        ),
        ({"vip": True}, "vip"),
    ],
)
def test_bad_customer_input_is_422_and_stores_nothing(
    client: Client, database: PgDatabase, override: dict, field: str
) -> None:
    shop = signup(client)
    status, body = _create(client, shop, **{**MARIA, **override})
    assert (status, body["code"]) == (422, "validation_error")
    assert any(d["field"].startswith(field) for d in body["details"]), body
    assert _count(database, shop.tenant_id) == 0


def test_search_by_name_ignores_accents_and_case_and_finds_phones_and_documents(client: Client) -> None:
    shop = signup(client)
    ids = {}
    for name, phone, document in (
        ("João Araújo", "21 99999-0001", "52998224725"),
        ("Joana Silva", "21 99999-0002", None),
        ("Pedro Álvares", "31 98888-7777", None),
    ):
        body = {"name": name, "phone": phone, **({"document": document} if document else {})}
        ids[name] = _create(client, shop, **body)[1]["id"]

    def search(q: str) -> set[str]:
        status, page, _ = client.call("GET", "/customers", shop.access_token, query={"q": q})
        assert status == 200
        return {c["name"] for c in page["items"]}

    assert search("joao araujo") == {"João Araújo"}
    assert search("JOA") == {"João Araújo", "Joana Silva"}
    assert search("alvares") == {"Pedro Álvares"}
    assert search("98888") == {"Pedro Álvares"}
    assert search("(21) 99999-0002") == {"Joana Silva"}
    assert search("529.982") == {"João Araújo"}
    assert search("100%_") == set()


def test_another_shops_customer_is_404_and_untouched(client: Client, database: PgDatabase) -> None:
    shop_a, shop_b = signup(client), signup(client)
    customer = _create(client, shop_a, **MARIA)[1]
    assert client.call("GET", f"/customers/{customer['id']}", shop_b.access_token)[0] == 404
    status, _, _ = client.call(
        "PATCH", f"/customers/{customer['id']}", shop_b.access_token, body={"version": 1, "name": "Invasor"}
    )
    assert status == 404
    assert client.call("GET", "/customers", shop_b.access_token)[1]["items"] == []
    assert client.call("GET", f"/customers/{customer['id']}", shop_a.access_token)[1]["name"] == MARIA["name"]


def test_updates_use_optimistic_locking_and_are_audited(client: Client) -> None:
    shop = signup(client)
    customer = _create(client, shop, **MARIA)[1]
    path = f"/customers/{customer['id']}"
    status, updated, _ = client.call(
        "PATCH", path, shop.access_token, body={"version": 1, "notes": "Prefere WhatsApp"}
    )
    assert (status, updated["version"], updated["notes"]) == (200, 2, "Prefere WhatsApp")
    status, body, _ = client.call("PATCH", path, shop.access_token, body={"version": 1, "notes": "Antigo"})
    assert (status, body["code"], body["details"]) == (409, "conflict", {"current_version": 2})
    # Moving to a phone another customer has is a conflict too
    _create(client, shop, name="Outra Pessoa", phone="11 91111-2222")
    status, body, _ = client.call(
        "PATCH", path, shop.access_token, body={"version": 2, "phone": "11 91111-2222"}
    )
    assert (status, body["details"]) == (409, {"field": "phone"})
    audit = client.call("GET", "/audit", shop.access_token, query={"entity": "customer"})[1]["items"]
    assert [entry["action"] for entry in audit] == ["create", "update", "create"]  # newest first
    assert "document" not in audit[-1]["changes"]  # CPF stays out of the audit log


def test_customers_are_paginated(client: Client) -> None:
    shop = signup(client)
    for i in range(5):
        _create(client, shop, name=f"Cliente {i}", phone=f"11 9{i}000-000{i}")
    first = client.call("GET", "/customers", shop.access_token, query={"limit": "3"})[1]
    second = client.call(
        "GET", "/customers", shop.access_token, query={"limit": "3", "cursor": first["next_cursor"]}
    )[1]
    names = [c["name"] for c in first["items"] + second["items"]]
    assert names == [f"Cliente {i}" for i in range(5)]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("field", ["name", "phone", "version"])
def test_null_for_a_required_field_is_422_and_changes_nothing(client: Client, field: str) -> None:
    shop = signup(client)
    customer = _create(client, shop, **MARIA)[1]
    path = f"/customers/{customer['id']}"
    status, body, _ = client.call("PATCH", path, shop.access_token, body={"version": 1, field: None})
    assert (status, body["code"]) == (422, "validation_error")
    assert client.call("GET", path, shop.access_token)[1] == customer
    # null on an optional field clears it
    status, cleared, _ = client.call("PATCH", path, shop.access_token, body={"version": 1, "document": None})
    assert (status, cleared["document"]) == (200, None)
