"""Devices: intake data, IMEI check digit, the encrypted unlock code and who may read it, photos."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakePhotoStorage, Shop, signup

IPHONE = {
    "type": "phone",
    "brand": "Apple",
    "model": "iPhone 13",
    "imei": "49-015420-323751-8",
    "condition": "Tela trincada no canto superior; liga normalmente",
    "accessories": ["capinha", "carregador"],
    "unlock_code": "482915",
}


def _customer(client: Client, shop: Shop) -> str:
    phone = f"11 9{uuid.uuid4().int % 10**8:08d}"
    status, body, _ = client.call(
        "POST", "/customers", shop.access_token, body={"name": "Ana Souza", "phone": phone}
    )
    assert status == 201, body
    return str(body["id"])


def _staff_token(client: Client, shop: Shop, role: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    body = {"email": email, "name": "Pessoa da Loja", "role": role, "password": "senha-do-time"}
    assert client.call("POST", "/users", shop.access_token, body=body)[0] == 201
    return str(
        client.call("POST", "/auth/login", body={"email": email, "password": "senha-do-time"})[1][
            "access_token"
        ]
    )


def test_intake_of_a_device_with_imei_and_an_encrypted_unlock_code(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    customer_id = _customer(client, shop)
    status, device, _ = client.call(
        "POST", f"/customers/{customer_id}/devices", shop.access_token, body=IPHONE
    )
    assert status == 201, device
    assert (device["imei"], device["accessories"]) == ("490154203237518", ["capinha", "carregador"])
    assert (device["has_unlock_code"], device["unlock_code"]) == (True, "482915")  # the owner may read it
    # At rest the code is ciphertext, not the digits
    with psycopg.connect(database.superuser_url) as conn:
        stored = conn.execute("select unlock_code from devices where id = %s", (device["id"],)).fetchone()
    assert stored is not None
    assert b"482915" not in bytes(stored[0])
    listed = client.call("GET", f"/customers/{customer_id}/devices", shop.access_token)[1]["items"]
    assert [d["id"] for d in listed] == [device["id"]]


def test_only_roles_that_repair_read_the_unlock_code(client: Client) -> None:
    shop = signup(client)
    customer_id = _customer(client, shop)
    attendant = _staff_token(client, shop, "attendant")
    # The counter takes the code at intake…
    status, device, _ = client.call("POST", f"/customers/{customer_id}/devices", attendant, body=IPHONE)
    assert status == 201
    assert (device["has_unlock_code"], device["unlock_code"]) == (True, None)  # …but cannot read it back
    assert client.call("GET", f"/devices/{device['id']}", attendant)[1]["unlock_code"] is None
    technician = _staff_token(client, shop, "technician")
    assert client.call("GET", f"/devices/{device['id']}", technician)[1]["unlock_code"] == "482915"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"imei": "490154203237519"}, "imei"),
        ({"type": "geladeira"}, "type"),
        ({"accessories": ["x"] * 21}, "accessories"),
        ({"unlock_code": ""}, "unlock_code"),
        ({"brand": ""}, "brand"),
    ],
)
def test_bad_device_input_is_422_and_stores_nothing(
    client: Client, database: PgDatabase, override: dict, field: str
) -> None:
    shop = signup(client)
    customer_id = _customer(client, shop)
    status, body, _ = client.call(
        "POST", f"/customers/{customer_id}/devices", shop.access_token, body={**IPHONE, **override}
    )
    assert (status, body["code"]) == (422, "validation_error")
    assert field in [d["field"].split(".")[0] for d in body["details"]]
    with psycopg.connect(database.superuser_url) as conn:
        assert conn.execute(
            "select count(*) from devices where customer_id = %s", (customer_id,)
        ).fetchone() == (0,)


def test_another_shops_customer_and_device_are_404(client: Client, database: PgDatabase) -> None:
    shop_a, shop_b = signup(client), signup(client)
    customer_a = _customer(client, shop_a)
    device = client.call("POST", f"/customers/{customer_a}/devices", shop_a.access_token, body=IPHONE)[1]
    assert client.call("POST", f"/customers/{customer_a}/devices", shop_b.access_token, body=IPHONE)[0] == 404
    assert client.call("GET", f"/devices/{device['id']}", shop_b.access_token)[0] == 404
    patch = client.call(
        "PATCH", f"/devices/{device['id']}", shop_b.access_token, body={"version": 1, "brand": "X"}
    )
    assert patch[0] == 404
    assert (
        client.call(
            "POST",
            f"/devices/{device['id']}/photos",
            shop_b.access_token,
            body={"content_type": "image/jpeg"},
        )[0]
        == 404
    )
    with psycopg.connect(database.superuser_url) as conn:
        assert conn.execute(
            "select count(*) from devices where customer_id = %s", (customer_a,)
        ).fetchone() == (1,)


def test_device_updates_lock_on_version_and_keep_the_code_out_of_the_audit(client: Client) -> None:
    shop = signup(client)
    customer_id = _customer(client, shop)
    device = client.call("POST", f"/customers/{customer_id}/devices", shop.access_token, body=IPHONE)[1]
    path = f"/devices/{device['id']}"
    status, updated, _ = client.call(
        "PATCH", path, shop.access_token, body={"version": 1, "unlock_code": "1234"}
    )
    assert (status, updated["unlock_code"], updated["version"]) == (200, "1234", 2)
    status, body, _ = client.call("PATCH", path, shop.access_token, body={"version": 1, "brand": "Samsung"})
    assert (status, body["code"]) == (409, "conflict")
    audit = client.call("GET", "/audit", shop.access_token, query={"entity": "device"})[1]["items"]
    assert audit[0]["changes"] == {"unlock_code": "alterado"}
    assert "unlock_code" not in audit[1]["changes"]


def test_photo_upload_is_a_presigned_form_under_the_shops_prefix(
    client: Client, fakes: tuple[object, FakePhotoStorage]
) -> None:
    shop = signup(client)
    customer_id = _customer(client, shop)
    device = client.call("POST", f"/customers/{customer_id}/devices", shop.access_token, body=IPHONE)[1]
    status, upload, _ = client.call(
        "POST", f"/devices/{device['id']}/photos", shop.access_token, body={"content_type": "image/jpeg"}
    )
    assert status == 201
    key = upload["upload_fields"]["key"]
    assert key.startswith(f"{shop.tenant_id}/devices/{device['id']}/")
    assert key.endswith(".jpg")
    assert (upload["max_bytes"], fakes[1].forms[0]["max_bytes"]) == (10 * 1024 * 1024, 10 * 1024 * 1024)
    photos = client.call("GET", f"/devices/{device['id']}/photos", shop.access_token)[1]["items"]
    assert [p["id"] for p in photos] == [upload["id"]]
    assert key in photos[0]["url"]
    bad = client.call(
        "POST", f"/devices/{device['id']}/photos", shop.access_token, body={"content_type": "text/html"}
    )
    assert bad[0] == 422


def test_null_clears_optional_device_fields_but_not_required_ones(client: Client) -> None:
    shop = signup(client)
    customer_id = _customer(client, shop)
    device = client.call("POST", f"/customers/{customer_id}/devices", shop.access_token, body=IPHONE)[1]
    path = f"/devices/{device['id']}"
    for field in ("type", "brand", "model", "accessories"):
        status, body, _ = client.call("PATCH", path, shop.access_token, body={"version": 1, field: None})
        assert (status, body["code"]) == (422, "validation_error"), field
    status, cleared, _ = client.call(
        "PATCH", path, shop.access_token, body={"version": 1, "unlock_code": None}
    )
    assert (status, cleared["has_unlock_code"], cleared["unlock_code"]) == (200, False, None)


def test_an_undecryptable_unlock_code_degrades_to_none_instead_of_failing(
    client: Client, database: PgDatabase
) -> None:
    shop = signup(client)
    customer_id = _customer(client, shop)
    first = client.call("POST", f"/customers/{customer_id}/devices", shop.access_token, body=IPHONE)[1]
    second = client.call("POST", f"/customers/{customer_id}/devices", shop.access_token, body=IPHONE)[1]
    # Given a ciphertext copied onto another device (its encryption context no longer matches)
    with psycopg.connect(database.superuser_url, autocommit=True) as conn:
        conn.execute(
            "update devices set unlock_code = (select unlock_code from devices where id = %s) where id = %s",
            (first["id"], second["id"]),
        )
    # Then the devices still list, the moved code is withheld, and the intact one still reads
    status, listed, _ = client.call("GET", f"/customers/{customer_id}/devices", shop.access_token)
    assert status == 200
    codes = {d["id"]: (d["has_unlock_code"], d["unlock_code"]) for d in listed["items"]}
    assert codes == {first["id"]: (True, "482915"), second["id"]: (True, None)}
