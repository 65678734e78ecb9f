"""Sign-up to permissions over HTTP: LocalStack's API Gateway → the API Lambda → PostgreSQL.

LocalStack's community API Gateway runs no Lambda authorizer, so in the local stage the API function
performs the same token check (AUTHORIZER_EMULATION); the authorizer Lambda itself is deployed and
checked here by invoking it directly.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from validate_docbr import CNPJ

from assistec.domain import tokens
from assistec.domain.permissions import Role
from tests.e2e.shops import confirmed_signup


def _signup(http: httpx.Client, name: str) -> dict[str, Any]:
    email = f"e2e-{uuid.uuid4().hex[:10]}@exemplo.com.br"
    response = confirmed_signup(  # the e-mail confirmed on the link SES delivered
        http,
        {
            "shop_name": name,
            "cnpj": CNPJ().generate(),
            "email": email,
            "phone": "+55 31 99999-0000",
            "owner_name": "Dono E2E",
            "password": "senha-e2e-segura",
        },
    )
    assert response.status_code == 201, response.text
    return {**response.json(), "email": email}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_demo_shop_owner_can_log_in(http: httpx.Client, stack: dict[str, Any]) -> None:
    response = http.post(
        "/auth/login", json={"email": stack["demo_email"], "password": stack["demo_password"]}
    )
    assert response.status_code == 200, response.text
    me = http.get("/me", headers=_auth(response.json()["access_token"])).json()
    assert me["shop"]["name"] == "Assistência Técnica Demo"


def test_signup_login_me_and_isolation_between_shops(http: httpx.Client) -> None:
    shop_a = _signup(http, "Loja A E2E")
    login = http.post("/auth/login", json={"email": shop_a["email"], "password": "senha-e2e-segura"})
    assert login.status_code == 200
    token_a = login.json()["access_token"]
    me = http.get("/me", headers=_auth(token_a))
    assert (me.status_code, me.json()["shop"]["name"]) == (200, "Loja A E2E")
    staff = http.post(
        "/users",
        headers=_auth(token_a),
        json={
            "email": f"tec-{uuid.uuid4().hex[:8]}@exemplo.com.br",
            "name": "Técnico A",
            "role": "technician",
            "password": "senha-do-tecnico",
        },
    )
    assert staff.status_code == 201

    # A second shop can neither see nor change the first one's users
    token_b = _signup(http, "Loja B E2E")["access_token"]
    assert http.get(f"/users/{staff.json()['id']}", headers=_auth(token_b)).status_code == 404
    patch = http.patch(
        f"/users/{staff.json()['id']}", headers=_auth(token_b), json={"version": 1, "active": False}
    )
    assert patch.status_code == 404
    listed = http.get("/users", headers=_auth(token_b)).json()["items"]
    assert staff.json()["id"] not in {u["id"] for u in listed}
    still = http.get(f"/users/{staff.json()['id']}", headers=_auth(token_a)).json()
    assert (still["active"], still["version"]) == (True, 1)


def test_technician_cannot_do_an_owners_action(http: httpx.Client) -> None:
    shop = _signup(http, "Loja Permissões E2E")
    email = f"tec-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    http.post(
        "/users",
        headers=_auth(shop["access_token"]),
        json={"email": email, "name": "Técnico", "role": "technician", "password": "senha-do-tecnico"},
    ).raise_for_status()
    tech = http.post("/auth/login", json={"email": email, "password": "senha-do-tecnico"}).json()[
        "access_token"
    ]
    response = http.post(
        "/users",
        headers=_auth(tech),
        json={"email": "x@exemplo.com.br", "name": "Outro", "role": "admin", "password": "senha-qualquer"},
    )
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


@pytest.fixture(scope="module")
def signing_key(stack: dict[str, Any], aws: Callable[[str], Any]) -> bytes:
    from assistec.domain import signing_keys

    secret = aws("secretsmanager").get_secret_value(SecretId=stack["auth_secret_arn"])["SecretString"]
    return signing_keys.parse(str(secret)).signing()  # one key, or a key ring once ops rotated it


def test_missing_tampered_expired_and_foreign_tokens_are_refused(
    http: httpx.Client, signing_key: bytes
) -> None:
    shop = _signup(http, "Loja Tokens E2E")
    identity = tokens.Identity(uuid.UUID(shop["tenant_id"]), uuid.UUID(shop["user_id"]), Role.OWNER)
    header, payload, signature = shop["access_token"].split(".")
    refused = {
        "missing": {},
        "not bearer": {"Authorization": f"Token {shop['access_token']}"},
        "tampered": _auth(f"{header}.{payload[:-1]}{'A' if payload[-1] != 'A' else 'B'}.{signature}"),
        "expired": _auth(tokens.issue_access_token(identity, signing_key, now=int(time.time()) - 3600)),
        "other key": _auth(tokens.issue_access_token(identity, b"k" * 64, now=int(time.time()))),
    }
    for case, headers in refused.items():
        response = http.get("/me", headers=headers)
        assert response.status_code == 401, case
        assert response.json()["code"] == "unauthorized", case
    assert http.get("/me", headers=_auth(shop["access_token"])).status_code == 200


def test_the_deployed_authorizer_function_allows_good_tokens_and_refuses_bad_ones(
    http: httpx.Client, stack: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    shop = _signup(http, "Loja Autorizador E2E")
    lam = aws("lambda")
    method_arn = "arn:aws:execute-api:us-east-1:000000000000:abc123/v1/GET/me"

    def invoke(token: str) -> tuple[str | None, dict[str, Any]]:
        event = {"type": "TOKEN", "methodArn": method_arn, "authorizationToken": token}
        response = lam.invoke(
            FunctionName=stack["authorizer_function_name"], Payload=json.dumps(event).encode()
        )
        return response.get("FunctionError"), json.loads(response["Payload"].read())

    error, policy = invoke(f"Bearer {shop['access_token']}")
    assert error is None
    context = dict(policy["context"])
    # The session (refresh-token family) the token belongs to: its entry statement checks it is open
    assert uuid.UUID(context.pop("session_id"))
    assert context == {"tenant_id": shop["tenant_id"], "user_id": shop["user_id"], "role": "owner"}
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    # It names the shop's key, which signup put in the stack's usage plan (per-shop throttling;
    # LocalStack keeps the plan and the keys, API Gateway in AWS enforces the rate)
    apigw = aws("apigateway")
    [plan] = [p for p in apigw.get_usage_plans()["items"] if p["name"] == "assistec-local-shops"]
    in_plan = {k["name"]: k for k in apigw.get_usage_plan_keys(usagePlanId=plan["id"], limit=500)["items"]}
    named = policy["usageIdentifierKey"]
    assert named == f"assistec-shop-{shop['tenant_id']}"
    assert in_plan[named]["value"] == named
    [key] = [
        k for k in apigw.get_api_keys(nameQuery=named, includeValues=True)["items"] if k["name"] == named
    ]
    assert (key["enabled"], key["value"]) == (True, named)
    error, payload = invoke("Bearer nao.e.token")
    assert (error, payload["errorMessage"]) == ("Unhandled", "Unauthorized")


def test_swagger_ui_is_served_in_the_local_stage(http: httpx.Client) -> None:
    response = http.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
