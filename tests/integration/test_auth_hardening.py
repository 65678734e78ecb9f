"""Login throttling under concurrency, and sessions that end on the next request (issue 10 §5)."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from typing import Any

import psycopg

from tests.conftest import LambdaContext, PgDatabase
from tests.integration.conftest import Client, Invoke, Shop, rest_event, signup

WRONG = "errada-123456"


def _login_event(email: str, password: str, source_ip: str) -> dict[str, Any]:
    event = rest_event("POST", "/auth/login", body={"email": email, "password": password})
    event["requestContext"]["identity"]["sourceIp"] = source_ip
    return event


def _login(api: Invoke, email: str, password: str, source_ip: str) -> tuple[int, Any, dict[str, Any]]:
    response = api(_login_event(email, password, source_ip))
    headers = {k.lower(): v[0] for k, v in response.get("multiValueHeaders", {}).items()}
    return response["statusCode"], json.loads(response["body"]), headers


def _expired_attempt_rows(database: PgDatabase) -> int:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute(
            "select count(*) from login_attempts where at < now() - interval '15 minutes'"
        ).fetchone()
    assert row is not None
    return int(row[0])


# --- throttling ----------------------------------------------------------------------------------
def test_fifty_parallel_wrong_passwords_get_at_most_five_checked(
    client: Client, database: PgDatabase, lambda_context: LambdaContext
) -> None:
    from assistec.api.app import serve
    from assistec.settings import ApiSettings
    from assistec.wiring.api import ApiRoot

    # Given a shop, and 50 API environments (each its own connection through the pooler), as 50
    # Lambda instances would be
    shop = signup(client)
    roots = [ApiRoot(ApiSettings()) for _ in range(50)]  # type: ignore[call-arg]
    barrier = threading.Barrier(len(roots))
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def guess(root: ApiRoot, n: int) -> None:
        event = _login_event(shop.email, f"{WRONG}-{n}", "203.0.113.7")
        try:
            barrier.wait()
            response = serve(event, lambda_context, root)  # type: ignore[arg-type]
            with lock:
                statuses.append(response["statusCode"])
        except BaseException as exc:  # reported below
            with lock:
                errors.append(exc)

    # When 50 wrong passwords for that e-mail arrive at the same moment from one address
    threads = [threading.Thread(target=guess, args=(root, n)) for n, root in enumerate(roots)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for root in roots:
        root.database.close()

    # Then at most five passwords were checked (401) and every other guess was refused unchecked (429)
    assert not errors, errors
    assert len(statuses) == 50
    assert statuses.count(401) == 5, sorted(statuses)
    assert statuses.count(429) == 45, sorted(statuses)


def test_a_guesser_elsewhere_does_not_lock_the_owner_out(api: Invoke, client: Client) -> None:
    # Given someone guessing the owner's password from another address until refused
    shop = signup(client)
    for _ in range(5):
        assert _login(api, shop.email, WRONG, "198.51.100.66")[0] == 401
    status, body, headers = _login(api, shop.email, shop.password, "198.51.100.66")
    assert (status, body["code"]) == (429, "too_many_attempts")
    assert 0 < int(headers["retry-after"]) <= 15 * 60
    # When the owner logs in from the shop's own address
    status, body, _ = _login(api, shop.email, shop.password, "189.6.23.101")
    # Then they get in
    assert status == 200, body


def test_expired_attempts_are_purged(api: Invoke, client: Client, database: PgDatabase) -> None:
    # Given attempt rows older than the window (keys nobody tries again)
    shop = signup(client)
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "insert into login_attempts (key, at) select sha256(g::text::bytea), now() - interval '1 hour' "
            "from generate_series(1, 30) g"
        )
    assert _expired_attempt_rows(database) == 30
    # When anyone tries to log in
    assert _login(api, shop.email, WRONG, "192.0.2.10")[0] == 401
    # Then the expired rows are gone
    assert _expired_attempt_rows(database) == 0


def test_the_throttle_stores_no_address_or_email(api: Invoke, client: Client, database: PgDatabase) -> None:
    # Given one refused login
    shop = signup(client)
    _login(api, shop.email, WRONG, "192.0.2.44")
    # Then the throttle holds a hash of the e-mail and address, and neither in clear
    with psycopg.connect(database.superuser_url) as conn:
        keys = [bytes(r[0]) for r in conn.execute("select key from login_attempts").fetchall()]
    expected = hashlib.sha256(f"{shop.email}\x00192.0.2.44".encode()).digest()
    assert expected in keys
    assert not any(shop.email.encode() in k or b"192.0.2.44" in k for k in keys)


# --- sessions end on the next request ---------------------------------------------------------------
def _add_user(client: Client, shop: Shop, role: str) -> dict[str, Any]:
    email = f"{role}-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    status, body, _ = client.call(
        "POST",
        "/users",
        shop.access_token,
        body={"email": email, "name": "Fulano de Tal", "role": role, "password": "senha-do-time"},
    )
    assert status == 201, body
    return dict(body)


def _tokens(client: Client, email: str) -> dict[str, Any]:
    status, body, _ = client.call("POST", "/auth/login", body={"email": email, "password": "senha-do-time"})
    assert status == 200, body
    return dict(body)


def _count_users(database: PgDatabase, tenant_id: str) -> int:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute("select count(*) from users where tenant_id = %s", (tenant_id,)).fetchone()
    assert row is not None
    return int(row[0])


def test_logout_ends_the_access_token_too(client: Client) -> None:
    # Given a signed-in owner whose access token works
    shop = signup(client)
    assert client.call("GET", "/me", shop.access_token)[0] == 200
    # When they log out
    assert client.call("POST", "/auth/logout", body={"refresh_token": shop.refresh_token})[0] == 200
    # Then the access token of that session is refused on the next request, long before it expires
    status, body, _ = client.call("GET", "/me", shop.access_token)
    assert (status, body["code"]) == (401, "invalid_token")


def test_logout_leaves_the_users_other_sessions_alone(client: Client) -> None:
    shop = signup(client)
    other = client.call("POST", "/auth/login", body={"email": shop.email, "password": shop.password})[1]
    client.call("POST", "/auth/logout", body={"refresh_token": shop.refresh_token})
    assert client.call("GET", "/me", other["access_token"])[0] == 200


def test_a_demoted_admin_loses_the_right_on_the_next_request(client: Client, database: PgDatabase) -> None:
    # Given an admin signed in (their token says admin)
    shop = signup(client)
    admin = _add_user(client, shop, "admin")
    token = _tokens(client, admin["email"])["access_token"]
    # When the owner demotes them to technician
    status, body, _ = client.call(
        "PATCH", f"/users/{admin['id']}", shop.access_token, body={"version": 1, "role": "technician"}
    )
    assert status == 200, body
    users_before = _count_users(database, shop.tenant_id)
    # Then their very next POST /users is refused, and nobody was added
    status, body, _ = client.call(
        "POST",
        "/users",
        token,
        body={
            "email": "novo@exemplo.com.br",
            "name": "Novo Admin",
            "role": "admin",
            "password": "senha-do-time",
        },
    )
    assert (status, body["code"]) == (403, "forbidden")
    assert _count_users(database, shop.tenant_id) == users_before
    # And logging in again gives a technician's token, which is refused the same
    token = _tokens(client, admin["email"])["access_token"]
    status, body, _ = client.call(
        "POST",
        "/users",
        token,
        body={
            "email": "novo@exemplo.com.br",
            "name": "Novo Admin",
            "role": "admin",
            "password": "senha-do-time",
        },
    )
    assert (status, body["code"]) == (403, "forbidden")


def test_a_deactivated_user_is_refused_on_the_next_request(client: Client) -> None:
    # Given a technician signed in
    shop = signup(client)
    tech = _add_user(client, shop, "technician")
    token = _tokens(client, tech["email"])["access_token"]
    assert client.call("GET", "/customers", token)[0] == 200
    # When the owner deactivates them
    status, body, _ = client.call(
        "PATCH", f"/users/{tech['id']}", shop.access_token, body={"version": 1, "active": False}
    )
    assert status == 200, body
    # Then their token is refused at once
    status, body, _ = client.call("GET", "/customers", token)
    assert (status, body["code"]) == (401, "invalid_token")


def test_a_replayed_refresh_token_ends_the_sessions_access_token(client: Client) -> None:
    # Given a session whose refresh token was rotated
    shop = signup(client)
    rotated = client.call("POST", "/auth/refresh", body={"refresh_token": shop.refresh_token})[1]
    assert client.call("GET", "/me", rotated["access_token"])[0] == 200
    # When the old refresh token is replayed (someone stole it)
    assert client.call("POST", "/auth/refresh", body={"refresh_token": shop.refresh_token})[0] == 401
    # Then the session's current access token stops working too
    assert client.call("GET", "/me", rotated["access_token"])[0] == 401
