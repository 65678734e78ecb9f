"""Sign-up, login, refresh and logout through the API handler and the real authorizer."""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest

from assistec.domain import tokens
from assistec.domain.permissions import Role
from tests.conftest import PgDatabase
from tests.integration.conftest import (
    SIGNING_KEY,
    Client,
    authorize,
    new_cnpj,
    new_source_ip,
    signup,
    signup_confirmed,
)


def _count(url: str, sql: str, *args: object) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql, args).fetchone()
    assert row is not None
    return int(row[0])


def _signup_body(**overrides: object) -> dict:
    body = {
        "shop_name": "Doutor Celular",
        "cnpj": new_cnpj(),
        "email": f"loja-{uuid.uuid4().hex[:8]}@exemplo.com.br",
        "phone": "+55 21 99876-5432",
        "owner_name": "João Pereira",
        "password": "uma-senha-boa",
    }
    body.update(overrides)
    return body


# --- sign-up -------------------------------------------------------------------------------------
def test_signup_creates_shop_owner_settings_and_logs_the_owner_in(
    client: Client, database: PgDatabase
) -> None:
    body = _signup_body(cnpj="11.222.333/0001-81")
    status, tokens_out = signup_confirmed(client, body)  # confirmed on the mailed link
    assert status == 201, tokens_out
    assert tokens_out["role"] == "owner"
    # The owner can use the returned token right away
    status, me, _ = client.call("GET", "/me", tokens_out["access_token"])
    assert status == 200
    assert me["shop"]["name"] == "Doutor Celular"
    assert me["shop"]["billing_status"] == "trial"
    assert me["user"]["email"] == body["email"]
    # Stored normalised: CNPJ without punctuation, phone in E.164
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute(
            "select cnpj, phone from tenants where id = %s", (tokens_out["tenant_id"],)
        ).fetchone()
    assert row == ("11222333000181", "+5521998765432")


def test_signup_accepts_the_alphanumeric_cnpj(client: Client) -> None:
    status, body = signup_confirmed(client, _signup_body(cnpj="12.ABC.345/01DE-35"))
    assert status == 201, body


def test_duplicate_cnpj_is_409_and_changes_nothing(client: Client, database: PgDatabase) -> None:
    first = _signup_body()
    assert signup_confirmed(client, first)[0] == 201
    tenants_before = _count(database.superuser_url, "select count(*) from tenants")
    users_before = _count(database.superuser_url, "select count(*) from users")
    # The CNPJ is told to whoever confirms the e-mail (the mailbox's owner), not to the caller
    status, body = signup_confirmed(client, _signup_body(cnpj=first["cnpj"]))
    assert status == 409
    assert body["code"] == "conflict"
    assert body["details"] == {"field": "cnpj"}
    assert "CNPJ" in body["message"]
    assert _count(database.superuser_url, "select count(*) from tenants") == tenants_before
    assert _count(database.superuser_url, "select count(*) from users") == users_before


def test_duplicate_email_is_answered_like_a_new_signup_and_creates_nothing(
    client: Client, database: PgDatabase
) -> None:
    # (issue 10 §5: no 409 telling anonymous callers who has an account; see test_signup_confirm.py)
    first = _signup_body()
    assert signup_confirmed(client, first)[0] == 201
    second = _signup_body(email=first["email"].upper())
    status, body, _ = client.call("POST", "/signup", body=second, source_ip=new_source_ip())
    assert status == 202, body
    assert _count(database.superuser_url, "select count(*) from tenants where cnpj = %s", second["cnpj"]) == 0


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"cnpj": "11.222.333/0001-80"}, "cnpj"),
        ({"cnpj": 11222333000181}, "cnpj"),
        ({"email": "não-é-email"}, "email"),
        ({"phone": "123"}, "phone"),
        ({"password": "curta"}, "password"),
        ({"shop_name": "x" * 500}, "shop_name"),
        ({"owner_name": None}, "owner_name"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_bad_signup_input_is_422_naming_the_field(
    client: Client, database: PgDatabase, override: dict, field: str
) -> None:
    tenants_before = _count(database.superuser_url, "select count(*) from tenants")
    status, body, _ = client.call("POST", "/signup", body=_signup_body(**override))
    assert status == 422
    assert body["code"] == "validation_error"
    assert field in [d["field"] for d in body["details"]]
    assert _count(database.superuser_url, "select count(*) from tenants") == tenants_before


def test_malformed_json_and_wrong_shapes_are_422(client: Client) -> None:
    for raw in ('{"shop_name": ', "[]", '"texto"', "null"):
        status, body, _ = client.call("POST", "/signup", raw_body=raw)
        assert status == 422, raw
        assert body["code"] in ("invalid_json", "validation_error")


def test_oversized_body_is_413_before_anything_else(client: Client, database: PgDatabase) -> None:
    tenants_before = _count(database.superuser_url, "select count(*) from tenants")
    status, body, _ = client.call("POST", "/signup", body=_signup_body(shop_name="x" * 70_000))
    assert status == 413
    assert body["code"] == "payload_too_large"
    assert _count(database.superuser_url, "select count(*) from tenants") == tenants_before


# --- login -------------------------------------------------------------------------------------------
def test_login_returns_tokens_that_the_authorizer_accepts(client: Client) -> None:
    shop = signup(client)
    status, body, _ = client.call(
        "POST", "/auth/login", body={"email": shop.email.upper(), "password": shop.password}
    )
    assert status == 200
    context = authorize(body["access_token"])
    assert (context["tenant_id"], context["user_id"], context["role"]) == (
        shop.tenant_id,
        shop.owner_id,
        "owner",
    )


@pytest.mark.parametrize("who", ["wrong password", "unknown e-mail"])
def test_bad_credentials_get_one_answer(client: Client, who: str) -> None:
    shop = signup(client)
    email = shop.email if who == "wrong password" else "ninguem@exemplo.com.br"
    status, body, _ = client.call("POST", "/auth/login", body={"email": email, "password": "errada-123456"})
    assert status == 401
    assert body["code"] == "invalid_credentials"
    assert body["message"] == "E-mail ou senha incorretos."


def test_repeated_failures_are_throttled_even_with_the_right_password(client: Client) -> None:
    shop = signup(client)
    for _ in range(5):
        assert (
            client.call("POST", "/auth/login", body={"email": shop.email, "password": "errada-123456"})[0]
            == 401
        )
    status, body, headers = client.call(
        "POST", "/auth/login", body={"email": shop.email, "password": shop.password}
    )
    assert status == 429
    assert body["code"] == "too_many_attempts"
    assert 0 < int(headers["retry-after"]) <= 15 * 60
    # Another user is not affected
    other = signup(client)
    assert (
        client.call("POST", "/auth/login", body={"email": other.email, "password": other.password})[0] == 200
    )


def test_a_success_clears_earlier_failures(client: Client) -> None:
    shop = signup(client)
    for _ in range(4):
        client.call("POST", "/auth/login", body={"email": shop.email, "password": "errada-123456"})
    assert client.call("POST", "/auth/login", body={"email": shop.email, "password": shop.password})[0] == 200
    for _ in range(4):
        client.call("POST", "/auth/login", body={"email": shop.email, "password": "errada-123456"})
    assert client.call("POST", "/auth/login", body={"email": shop.email, "password": shop.password})[0] == 200


# --- refresh and logout --------------------------------------------------------------------------
def test_refresh_rotates_and_a_reused_token_ends_the_session(client: Client) -> None:
    shop = signup(client)
    status, first, _ = client.call("POST", "/auth/refresh", body={"refresh_token": shop.refresh_token})
    assert status == 200
    assert first["refresh_token"] != shop.refresh_token
    # Replaying the old token (stolen?) is refused and revokes the whole chain, the new token too
    status, body, _ = client.call("POST", "/auth/refresh", body={"refresh_token": shop.refresh_token})
    assert (status, body["code"]) == (401, "invalid_token")
    assert client.call("POST", "/auth/refresh", body={"refresh_token": first["refresh_token"]})[0] == 401


def test_logout_revokes_the_refresh_token_and_is_idempotent(client: Client) -> None:
    shop = signup(client)
    assert client.call("POST", "/auth/logout", body={"refresh_token": shop.refresh_token})[0] == 200
    assert client.call("POST", "/auth/logout", body={"refresh_token": shop.refresh_token})[0] == 200
    assert client.call("POST", "/auth/refresh", body={"refresh_token": shop.refresh_token})[0] == 401


@pytest.mark.parametrize(
    "token",
    [
        "garbage-without-a-dot",
        "not-a-uuid.abcdefghijk",
        "3e3f1b77-3192-4144-90dd-6fb5f00357e2.abcdefghijklmnop",
    ],
)
def test_unknown_refresh_tokens_are_401(client: Client, token: str) -> None:
    status, body, _ = client.call("POST", "/auth/refresh", body={"refresh_token": token})
    assert (status, body["code"]) == (401, "invalid_token")


# --- the authorizer ---------------------------------------------------------------------------------
def _identity(shop) -> tokens.Identity:
    return tokens.Identity(uuid.UUID(shop.tenant_id), uuid.UUID(shop.owner_id), Role.OWNER)


def test_authorizer_refuses_missing_tampered_expired_and_foreign_tokens(client: Client) -> None:
    shop = signup(client)
    now = int(time.time())
    header, payload, signature = shop.access_token.split(".")
    tampered_payload = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    refused = {
        "missing": None,
        "empty": "",
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "expired": tokens.issue_access_token(_identity(shop), SIGNING_KEY.encode(), now=now - 3600),
        "other key": tokens.issue_access_token(_identity(shop), b"x" * 48, now=now),
        "alg none": f"{header}.{payload}.",
    }
    from assistec.handlers import authorizer
    from tests.conftest import LambdaContext

    for name, token in refused.items():
        event = {
            "type": "TOKEN",
            "methodArn": "arn:aws:execute-api:r:1:a/v1/GET/me",
            "authorizationToken": f"Bearer {token}" if token is not None else "",
        }
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer.handler(event, LambdaContext())
        assert name  # each case ran


def test_a_route_reached_without_authorizer_context_is_401(client: Client) -> None:
    # If a route were ever wired without the authorizer, the API itself still refuses it
    status, body, _ = client.call("GET", "/me")
    assert (status, body["code"]) == (401, "unauthorized")


def test_a_body_that_is_not_json_is_refused_with_415_or_422(client: Client, database: PgDatabase) -> None:
    import base64

    tenants_before = _count(database.superuser_url, "select count(*) from tenants")
    # Declared as something else than JSON (a form without boundary used to crash the form parser)
    for media_type in ("text/plain", "multipart/form-data", "application/x-www-form-urlencoded"):
        status, body, _ = client.call(
            "POST", "/signup", raw_body=json.dumps(_signup_body()), headers={"Content-Type": media_type}
        )
        assert (status, body["code"]) == (415, "unsupported_media_type"), media_type
    # A NUL character (which PostgreSQL text cannot store) is bad input, not a server error
    status, body, _ = client.call("POST", "/signup", body=_signup_body(owner_name="Ana\u0000Maria"))
    assert (status, body["code"]) == (422, "validation_error")
    # Binary that is not UTF-8 (API Gateway hands it over base64-encoded)
    from tests.integration.conftest import rest_event

    event = rest_event("POST", "/signup", raw_body=base64.b64encode(b"\xff\xfe\x00{").decode())
    event["isBase64Encoded"] = True
    response = client.invoke(event)
    assert (response["statusCode"], json.loads(response["body"])["code"]) == (422, "invalid_json")
    assert _count(database.superuser_url, "select count(*) from tenants") == tenants_before


def test_logout_answers_a_json_document(client: Client) -> None:
    shop = signup(client)
    status, body, headers = client.call("POST", "/auth/logout", body={"refresh_token": shop.refresh_token})
    assert (status, body) == (200, {"logged_out": True})
    assert headers["content-type"] == "application/json"
