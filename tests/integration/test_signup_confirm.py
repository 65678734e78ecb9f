"""Signup confirmed by e-mail, throttled per source address, and silent about who has an account;
prod refuses Asaas sandbox keys (issue 10 §5).

Through the API handler against the real database; SES is the test's fake mailer (the API root's)."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import psycopg

from tests.conftest import LambdaContext, PgDatabase
from tests.integration.billing_fixtures import FakeMailer
from tests.integration.conftest import (
    Client,
    FakeBus,
    new_cnpj,
    new_source_ip,
    rest_event,
    signup,
)
from tests.integration.payment_helpers import KEY
from tests.integration.shop_helpers import page


def _body(**overrides: Any) -> dict[str, Any]:
    return {
        "shop_name": "Conserta Rápido",
        "cnpj": new_cnpj(),
        "email": f"dono-{uuid.uuid4().hex[:10]}@exemplo.com.br",
        "phone": "(11) 98765-4321",
        "owner_name": "Maria da Silva",
        "password": "senha-forte-123",
        **overrides,
    }


def _count(database: PgDatabase, query: str, *params: Any) -> int:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


def test_nothing_of_the_shop_exists_until_the_mailed_link_is_confirmed(
    client: Client, database: PgDatabase, bus: FakeBus, api_root: Any
) -> None:
    # Given a signup request
    body = _body()
    mailer: FakeMailer = api_root.mailer
    status, answer, _ = client.call("POST", "/signup", body=body, source_ip=new_source_ip())

    # Then it is accepted (202) and one confirmation mail goes to the address typed, with the link
    assert status == 202, answer
    assert answer["status"] == "confirmation_sent"
    assert "e-mail de confirmação" in answer["message"]
    assert [(to, subject) for to, subject, _ in mailer.sent] == [
        (body["email"], "Confirme seu cadastro no assistec")
    ]
    token = mailer.confirmation_token(body["email"])
    assert body["password"] not in mailer.sent[0][2]
    assert body["shop_name"] not in mailer.sent[0][2]
    # And no shop, no owner, no subscription, no ShopSignedUp (nothing to provision at Asaas)
    assert _count(database, "select count(*) from tenants where cnpj = %s", body["cnpj"]) == 0
    assert _count(database, "select count(*) from users where email = %s", body["email"]) == 0
    assert bus.details("ShopSignedUp") == []
    # And the password is kept hashed only
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute(
            "select shop::text from signup_requests where email = %s", (body["email"],)
        ).fetchone()
    assert row is not None
    assert body["password"] not in row[0]

    # When the owner opens the link: a page with a button (opening it creates nothing)
    status, html, _ = page(client, "GET", f"/public/signup/{token}")
    assert status == 200
    assert body["shop_name"] in html
    assert 'method="post"' in html
    assert _count(database, "select count(*) from tenants where cnpj = %s", body["cnpj"]) == 0

    # And confirms
    status, tokens_out, _ = client.call("POST", f"/public/signup/{token}", body={})

    # Then the shop exists, the owner is logged in, and ShopSignedUp is out (once)
    assert status == 201, tokens_out
    status, me, _ = client.call("GET", "/me", tokens_out["access_token"])
    assert (status, me["shop"]["name"], me["user"]["email"]) == (200, body["shop_name"], body["email"])
    assert [d["tenant_id"] for d in bus.details("ShopSignedUp")] == [tokens_out["tenant_id"]]
    # And the owner logs in with the password typed at signup
    status, _, _ = client.call(
        "POST", "/auth/login", body={"email": body["email"], "password": body["password"]}
    )
    assert status == 200
    # And the link is spent: a second confirmation creates nothing
    status, again, _ = client.call("POST", f"/public/signup/{token}", body={})
    assert (status, again["code"]) == (409, "signup_already_confirmed")
    status, html, _ = page(client, "POST", f"/public/signup/{token}", form={"confirm": "1"})
    assert status == 409
    assert "já foi confirmado" in html
    assert _count(database, "select count(*) from tenants where cnpj = %s", body["cnpj"]) == 1
    assert len(bus.details("ShopSignedUp")) == 1


def test_the_html_button_confirms_and_shows_a_clear_page(
    client: Client, database: PgDatabase, api_root: Any
) -> None:
    # Given a signup request and its mailed link
    body = _body()
    assert client.call("POST", "/signup", body=body, source_ip=new_source_ip())[0] == 202
    token = api_root.mailer.confirmation_token(body["email"])

    # When the owner presses the page's button (a plain form post)
    status, html, _ = page(client, "POST", f"/public/signup/{token}", form={"confirm": "1"})

    # Then the shop is created and the page says so
    assert status == 200
    assert "loja criada" in html.lower()
    assert _count(database, "select count(*) from tenants where cnpj = %s", body["cnpj"]) == 1


def test_a_taken_email_gets_the_same_answer_and_its_owner_a_notice(
    client: Client, database: PgDatabase, api_root: Any
) -> None:
    # Given a shop whose owner has an e-mail
    shop = signup(client)
    mailer: FakeMailer = api_root.mailer
    fresh = client.call("POST", "/signup", body=_body(), source_ip=new_source_ip())
    before = len(mailer.sent)
    tenants = _count(database, "select count(*) from tenants")

    # When an anonymous caller signs up with that e-mail (in other letters' case)
    taken = _body(email=shop.email.upper())
    status, answer, headers = client.call("POST", "/signup", body=taken, source_ip=new_source_ip())

    # Then the answer is exactly a fresh signup's: nothing tells the caller the account exists
    assert fresh[0] == 202
    assert (status, answer) == (fresh[0], fresh[1])
    assert set(headers) - {"x-correlation-id"} == set(fresh[2]) - {"x-correlation-id"}
    # And the address's owner gets a notice, with no link that could create anything
    assert len(mailer.sent) == before + 1
    to, subject, text = mailer.sent[-1]
    assert (to, subject) == (shop.email, "Tentativa de cadastro com seu e-mail no assistec")
    assert "/public/signup/" not in text
    # And nothing of a shop was kept
    assert _count(database, "select count(*) from tenants") == tenants
    assert (
        _count(
            database, "select count(*) from signup_requests where email = %s and shop is not null", shop.email
        )
        == 0
    )


def test_signups_are_throttled_per_source_address(
    client: Client, database: PgDatabase, api_root: Any
) -> None:
    # Given one address that made its ten signups this hour (the default budget)
    assert api_root.settings.signup_limit == 10
    address = new_source_ip()
    for _ in range(10):
        assert client.call("POST", "/signup", body=_body(), source_ip=address)[0] == 202
    sent = len(api_root.mailer.sent)

    # When it asks for one more
    extra = _body()
    status, body, headers = client.call("POST", "/signup", body=extra, source_ip=address)

    # Then 429 with a stable code, a pt-BR message and Retry-After; nothing kept, nothing mailed
    assert (status, body["code"]) == (429, "signup_throttled")
    assert "Muitos cadastros" in body["message"]
    assert 1 <= int(headers["retry-after"]) <= 3600
    assert len(api_root.mailer.sent) == sent
    assert _count(database, "select count(*) from signup_requests where email = %s", extra["email"]) == 0
    # And another address is not affected
    assert client.call("POST", "/signup", body=extra, source_ip=new_source_ip())[0] == 202


def test_parallel_signups_from_one_address_never_overrun_the_budget(
    client: Client, database: PgDatabase, lambda_context: LambdaContext
) -> None:
    from assistec.api.app import serve
    from assistec.settings import ApiSettings
    from assistec.wiring.api import ApiRoot

    # Given 25 API environments (each its own connection), as 25 Lambda instances would be
    mailer = FakeMailer()
    roots = [ApiRoot(ApiSettings()) for _ in range(25)]  # type: ignore[call-arg]
    for root in roots:
        root.mailer = mailer
    barrier = threading.Barrier(len(roots))
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    address = new_source_ip()

    def request(root: ApiRoot) -> None:
        event = rest_event("POST", "/signup", body=_body(), source_ip=address)
        try:
            barrier.wait()
            response = serve(event, lambda_context, root)  # type: ignore[arg-type]
            with lock:
                statuses.append(response["statusCode"])
        except BaseException as exc:  # reported below
            with lock:
                errors.append(exc)

    # When 25 signups from one address arrive at the same moment
    threads = [threading.Thread(target=request, args=(root,)) for root in roots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for root in roots:
        root.database.close()

    # Then exactly ten were accepted (and mailed), the rest refused with 429
    assert not errors, errors
    assert sorted(statuses) == [202] * 10 + [429] * 15
    assert len(mailer.sent) == 10


def test_unknown_and_expired_links(client: Client, database: PgDatabase, api_root: Any) -> None:
    # Given a signup whose link expired
    body = _body()
    assert client.call("POST", "/signup", body=body, source_ip=new_source_ip())[0] == 202
    token = api_root.mailer.confirmation_token(body["email"])
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "update signup_requests set expires_at = now() - interval '1 second' where email = %s",
            (body["email"],),
        )

    # When the owner uses it, or someone a made-up one
    expired = client.call("POST", f"/public/signup/{token}", body={})
    expired_page = page(client, "GET", f"/public/signup/{token}")
    unknown = client.call("POST", f"/public/signup/{'x' * 43}", body={})

    # Then 410 and 404 with stable codes, and no shop
    assert (expired[0], expired[1]["code"]) == (410, "signup_link_expired")
    assert expired_page[0] == 410
    assert "expirou" in expired_page[1]
    assert (unknown[0], unknown[1]["code"]) == (404, "signup_link_not_found")
    assert _count(database, "select count(*) from tenants where cnpj = %s", body["cnpj"]) == 0


def test_one_link_confirmed_twice_at_once_creates_one_shop(
    client: Client, database: PgDatabase, api_root: Any, lambda_context: LambdaContext
) -> None:
    from assistec.api.app import serve
    from assistec.settings import ApiSettings
    from assistec.wiring.api import ApiRoot

    # Given a signup's link, and two API environments
    body = _body()
    assert client.call("POST", "/signup", body=body, source_ip=new_source_ip())[0] == 202
    token = api_root.mailer.confirmation_token(body["email"])
    roots = [ApiRoot(ApiSettings()) for _ in range(2)]  # type: ignore[call-arg]
    for root in roots:
        root.event_bus = api_root.event_bus
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def confirm(root: ApiRoot) -> None:
        event = rest_event("POST", f"/public/signup/{token}", body={})
        barrier.wait()
        statuses.append(serve(event, lambda_context, root)["statusCode"])  # type: ignore[arg-type]

    # When both confirm at the same moment (a double click)
    threads = [threading.Thread(target=confirm, args=(root,)) for root in roots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for root in roots:
        root.database.close()

    # Then one shop, one 201, one 409
    assert sorted(statuses) == [201, 409]
    assert _count(database, "select count(*) from tenants where cnpj = %s", body["cnpj"]) == 1


def test_the_mail_failing_answers_503_and_a_retry_works(client: Client, api_root: Any) -> None:
    # Given SES refusing
    api_root.mailer.down = True
    body = _body()

    # When a signup is asked for: 503, and asking again once SES is back works
    status, answer, _ = client.call("POST", "/signup", body=body, source_ip=new_source_ip())
    assert (status, answer["code"]) == (503, "service_unavailable")
    api_root.mailer.down = False
    assert client.call("POST", "/signup", body=body, source_ip=new_source_ip())[0] == 202


# --- prod refuses Asaas sandbox keys ---------------------------------------------------------------
def test_prod_refuses_an_asaas_sandbox_key(client: Client, asaas: Any, api_root: Any) -> None:
    # Given the prod stage and a shop
    shop = signup(client)
    api_root.settings = api_root.settings.model_copy(update={"stage": "prod"})

    # When the owner connects an account declared sandbox, or a key of Asaas's sandbox ($aact_hmlg_)
    declared = client.call(
        "PUT", "/settings/payments", shop.access_token, body={"api_key": KEY, "environment": "sandbox"}
    )
    hmlg_key = "$aact_hmlg_" + "A1b2" * 10
    disguised = client.call(
        "PUT",
        "/settings/payments",
        shop.access_token,
        body={"api_key": hmlg_key, "environment": "production"},
    )

    # Then both are refused with a clear pt-BR error, and nothing is connected
    for status, body, _ in (declared, disguised):
        assert (status, body["code"]) == (422, "asaas_sandbox_refused"), body
        assert "sandbox" in body["message"]
        assert "produção" in body["message"]
    status, account, _ = client.call("GET", "/settings/payments", shop.access_token)
    assert (status, account["connected"]) == (200, False)


def test_outside_prod_a_sandbox_key_connects(client: Client, asaas: Any, api_root: Any) -> None:
    # Given the test stage: a sandbox key is what development uses
    assert api_root.settings.stage != "prod"
    shop = signup(client)
    status, body, _ = client.call(
        "PUT", "/settings/payments", shop.access_token, body={"api_key": KEY, "environment": "sandbox"}
    )
    assert status == 200, json.dumps(body)


# --- per-shop throttling: the shop's key in the usage plan (issue 10 §6) ----------------------------
class RecordingUsageKeys:
    """API Gateway's usage plan as signup sees it (the real one runs against LocalStack in the e2e
    suite): the keys ensured, in order; can be told to be unavailable."""

    def __init__(self) -> None:
        self.ensured: list[str] = []
        self.down = False

    def ensure(self, tenant_id: uuid.UUID) -> None:
        if self.down:
            raise ConnectionError("API Gateway unavailable")
        self.ensured.append(str(tenant_id))


def test_each_shop_gets_its_key_before_it_exists_and_the_authorizer_names_it(
    client: Client, api_root: Any
) -> None:
    from assistec.integrations.usage_keys import usage_key
    from tests.integration.conftest import authorize, confirm_signup

    keys = RecordingUsageKeys()
    api_root.usage_keys = keys
    # Given two shops signing up
    first, second = signup(client), signup(client)
    # Then each one's key was put in the plan (before its owner's first request)
    assert keys.ensured == [first.tenant_id, second.tenant_id]

    # And the authorizer names the caller's shop key: API Gateway throttles each shop on its own
    from assistec.handlers import authorizer
    from tests.conftest import LambdaContext as Context
    from tests.integration.conftest import METHOD_ARN

    def named_key(token: str) -> str:
        event = {"type": "TOKEN", "methodArn": METHOD_ARN, "authorizationToken": f"Bearer {token}"}
        return str(
            authorizer.handler(event, Context(function_name="assistec-authorizer"))["usageIdentifierKey"]
        )

    assert named_key(first.access_token) == usage_key(first.tenant_id)
    assert named_key(second.access_token) == usage_key(second.tenant_id) != usage_key(first.tenant_id)
    assert authorize(first.access_token)["tenant_id"] == first.tenant_id
    assert 20 <= len(usage_key(first.tenant_id)) <= 128  # API Gateway's bounds for a key's value

    # When API Gateway cannot take the key, the confirmation answers 503 and writes nothing; the
    # link stays good, and confirming again once it is back creates the shop
    body = _body()
    assert client.call("POST", "/signup", body=body, source_ip=new_source_ip())[0] == 202
    keys.down = True
    status, answer = confirm_signup(client, body["email"])
    assert (status, answer["code"]) == (503, "service_unavailable"), answer
    login = client.call("POST", "/auth/login", body={"email": body["email"], "password": body["password"]})
    assert login[0] == 401
    keys.down = False
    status, answer = confirm_signup(client, body["email"])
    assert status == 201, answer
    assert keys.ensured[-1] == answer["tenant_id"]
