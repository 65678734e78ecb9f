"""/me, /users, /settings and /audit: roles, permissions, optimistic locking, pagination, isolation."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, Shop, signup


def _add_user(client: Client, shop: Shop, role: str, *, name: str = "Fulano de Tal") -> dict:
    email = f"{role}-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    status, body, _ = client.call(
        "POST",
        "/users",
        shop.access_token,
        body={"email": email, "name": name, "role": role, "password": "senha-do-time"},
    )
    assert status == 201, body
    return body


def _login(client: Client, email: str, password: str = "senha-do-time") -> dict:
    status, body, _ = client.call("POST", "/auth/login", body={"email": email, "password": password})
    assert status == 200, body
    return body


def _user_row(url: str, user_id: str) -> tuple | None:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select name, role, active, version from users where id = %s", (user_id,)
        ).fetchone()


def test_owner_adds_staff_who_can_log_in(client: Client) -> None:
    shop = signup(client)
    tech = _add_user(client, shop, "technician", name="Técnico José")
    tokens = _login(client, tech["email"])
    status, me, _ = client.call("GET", "/me", tokens["access_token"])
    assert status == 200
    assert (me["user"]["role"], me["shop"]["id"]) == ("technician", shop.tenant_id)


@pytest.mark.parametrize("role", ["technician", "attendant"])
def test_staff_cannot_do_an_owners_actions(client: Client, database: PgDatabase, role: str) -> None:
    shop = signup(client)
    staff = _add_user(client, shop, role)
    token = _login(client, staff["email"])["access_token"]
    users_before = _count_users(database, shop.tenant_id)
    status, body, _ = client.call(
        "POST",
        "/users",
        token,
        body={"email": "x@exemplo.com.br", "name": "Novo", "role": "admin", "password": "senha-do-time"},
    )
    assert (status, body["code"]) == (403, "forbidden")
    status, settings, _ = client.call("GET", "/settings", token)
    assert status == 200  # reading is allowed
    payload = {
        k: settings[k]
        for k in ("version", "timezone", "business_hours", "welcome_message", "out_of_hours_message")
    }
    assert client.call("PUT", "/settings", token, body=payload)[0] == 403
    assert (
        client.call("PATCH", f"/users/{shop.owner_id}", token, body={"version": 1, "name": "Outro"})[0] == 403
    )
    assert client.call("GET", "/audit", token)[0] == 403
    assert _count_users(database, shop.tenant_id) == users_before


def _count_users(database: PgDatabase, tenant_id: str) -> int:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute("select count(*) from users where tenant_id = %s", (tenant_id,)).fetchone()[0]


def test_another_shops_user_is_404_for_read_and_write(client: Client, database: PgDatabase) -> None:
    shop_a, shop_b = signup(client), signup(client)
    b_staff = _add_user(client, shop_b, "attendant")
    status, body, _ = client.call("GET", f"/users/{b_staff['id']}", shop_a.access_token)
    assert (status, body["code"]) == (404, "not_found")
    status, _, _ = client.call(
        "PATCH", f"/users/{b_staff['id']}", shop_a.access_token, body={"version": 1, "active": False}
    )
    assert status == 404
    assert _user_row(database.superuser_url, b_staff["id"]) == ("Fulano de Tal", "attendant", True, 1)
    listed = client.call("GET", "/users", shop_a.access_token)[1]["items"]
    assert {u["id"] for u in listed} == {shop_a.owner_id}


def test_stale_version_is_409_and_overwrites_nothing(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    tech = _add_user(client, shop, "technician")
    # Two admins read version 1; the first saves
    status, updated, _ = client.call(
        "PATCH", f"/users/{tech['id']}", shop.access_token, body={"version": 1, "name": "Nome Um"}
    )
    assert (status, updated["version"]) == (200, 2)
    # The second saves on top of the stale version
    status, body, _ = client.call(
        "PATCH", f"/users/{tech['id']}", shop.access_token, body={"version": 1, "name": "Nome Dois"}
    )
    assert (status, body["code"], body["details"]) == (409, "conflict", {"current_version": 2})
    assert _user_row(database.superuser_url, tech["id"]) == ("Nome Um", "technician", True, 2)


def test_the_owner_cannot_be_demoted_deactivated_or_created(client: Client) -> None:
    shop = signup(client)
    admin = _add_user(client, shop, "admin")
    admin_token = _login(client, admin["email"])["access_token"]
    status, body, _ = client.call(
        "PATCH", f"/users/{shop.owner_id}", admin_token, body={"version": 1, "active": False}
    )
    assert status == 403
    status, body, _ = client.call(
        "PATCH", f"/users/{shop.owner_id}", admin_token, body={"version": 1, "role": "admin"}
    )
    assert status == 403
    status, body, _ = client.call(
        "POST",
        "/users",
        admin_token,
        body={"email": "o@exemplo.com.br", "name": "Dono Dois", "role": "owner", "password": "senha-do-time"},
    )
    assert (status, body["code"]) == (422, "validation_error")


def test_deactivating_a_user_ends_their_sessions_and_logins(client: Client) -> None:
    shop = signup(client)
    tech = _add_user(client, shop, "technician")
    tokens = _login(client, tech["email"])
    status, _, _ = client.call(
        "PATCH", f"/users/{tech['id']}", shop.access_token, body={"version": 1, "active": False}
    )
    assert status == 200
    assert client.call("POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]})[0] == 401
    status, body, _ = client.call(
        "POST", "/auth/login", body={"email": tech["email"], "password": "senha-do-time"}
    )
    assert (status, body["code"]) == (401, "invalid_credentials")


def test_users_are_paginated_with_an_opaque_cursor_and_filtered(client: Client) -> None:
    shop = signup(client)
    created = [
        _add_user(client, shop, role)
        for role in ("admin", "technician", "technician", "attendant", "technician")
    ]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        status, page, _ = client.call("GET", "/users", shop.access_token, query=query)
        assert status == 200
        seen.extend(u["id"] for u in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [shop.owner_id, *[u["id"] for u in created]]
    status, techs, _ = client.call("GET", "/users", shop.access_token, query={"role": "technician"})
    assert {u["id"] for u in techs["items"]} == {u["id"] for u in created if u["role"] == "technician"}


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "nao-e-um-cursor"},
        {"cursor": "WyJ4Il0"},
        {"limit": "0"},
        {"limit": "1000"},
        {"role": "rei"},
    ],
)
def test_bad_list_parameters_are_422(client: Client, query: dict) -> None:
    shop = signup(client)
    status, body, _ = client.call("GET", "/users", shop.access_token, query=query)
    assert (status, body["code"]) == (422, "validation_error")


def test_malformed_ids_are_422_not_500(client: Client) -> None:
    shop = signup(client)
    status, body, _ = client.call("GET", "/users/123", shop.access_token)
    assert (status, body["code"]) == (422, "validation_error")


# --- settings ------------------------------------------------------------------------------------
def _settings_payload(settings: dict, **changes: object) -> dict:
    payload = {
        k: settings[k]
        for k in ("version", "timezone", "business_hours", "welcome_message", "out_of_hours_message")
    }
    payload.update(changes)
    return payload


def test_owner_updates_settings_with_optimistic_locking_and_audit(client: Client) -> None:
    shop = signup(client)
    settings = client.call("GET", "/settings", shop.access_token)[1]
    hours = {**settings["business_hours"], "sun": [["09:00", "13:00"]]}
    status, saved, _ = client.call(
        "PUT",
        "/settings",
        shop.access_token,
        body=_settings_payload(settings, business_hours=hours, welcome_message="Oi!"),
    )
    assert status == 200
    assert (saved["version"], saved["business_hours"]["sun"], saved["welcome_message"]) == (
        2,
        [["09:00", "13:00"]],
        "Oi!",
    )
    status, body, _ = client.call(
        "PUT", "/settings", shop.access_token, body=_settings_payload(settings, welcome_message="Velho")
    )
    assert (status, body["code"]) == (409, "conflict")
    assert client.call("GET", "/settings", shop.access_token)[1]["welcome_message"] == "Oi!"
    audit = client.call("GET", "/audit", shop.access_token, query={"entity": "settings"})[1]["items"]
    assert audit[0]["changes"]["welcome_message"]["to"] == "Oi!"
    assert audit[0]["actor_user_id"] == shop.owner_id


@pytest.mark.parametrize(
    "changes",
    [
        {"timezone": "Marte/Olympus"},
        {"business_hours": {"mon": [["18:00", "08:00"]]}},
        {"business_hours": "sempre"},
        {"welcome_message": ""},
        {"welcome_message": "x" * 1001},
        {"version": "um"},
        {"logo_url": "http://sem-tls.exemplo.com/logo.png"},
        {"logo_url": 'https://exemplo.com/a"onerror="x.png'},
    ],
)
def test_bad_settings_are_422_and_change_nothing(client: Client, changes: dict) -> None:
    shop = signup(client)
    settings = client.call("GET", "/settings", shop.access_token)[1]
    status, body, _ = client.call(
        "PUT", "/settings", shop.access_token, body=_settings_payload(settings, **changes)
    )
    assert (status, body["code"]) == (422, "validation_error")
    assert client.call("GET", "/settings", shop.access_token)[1] == settings
