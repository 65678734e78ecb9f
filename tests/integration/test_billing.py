"""The shops' subscription to assistec (issue 5 §4), through the API handler, the billing service and
the offline Asaas simulator (the platform account), against the real database.

The calendar moves the way it does at Asaas: the simulator's control call lets an invoice fall
``days`` days overdue (its due date moves back) and fires the platform webhook."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, FakeQueue, Shop, new_cnpj, rest_event, signup
from tests.integration.test_bad_input import _snapshot
from tests.integration.test_users_api import _add_user, _login

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asaas"
PLATFORM_URL = "https://api.test/v1/webhooks/asaas-platform"


@dataclass
class FakeMailer:
    """SES's SendEmail contract: recorded; can be told to fail."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    down: bool = False

    def send(self, to: str, subject: str, body: str) -> None:
        if self.down:
            raise ConnectionError("SES unavailable")
        self.sent.append((to, subject, body))


@dataclass
class Platform:
    sim: Any
    api_key: str
    webhook_token: str
    mailer: FakeMailer
    queue: FakeQueue
    worker: Any  # the payments workers' root: the consumer's and the daily run's services (with the mailer)

    def provision(self, shop: Shop) -> str:
        # What EventBridge's rule + the consumer do with ShopSignedUp.
        outcome: str = self.worker.provisioning.provision(UUID(shop.tenant_id))
        # Asaas's PAYMENT_CREATED for the first invoice, applied: it changes nothing we lack
        assert set(self.queue.drain()) <= {"no_change"}
        return outcome

    def account(self) -> Any:
        return self.sim._accounts[self.api_key]

    def subscription_of(self, shop: Shop) -> dict[str, Any]:
        found = [
            s
            for s in self.account().subscriptions.values()
            if s["externalReference"] == f"assistec-shop:{shop.tenant_id}"
        ]
        assert len(found) == 1, found
        return dict(found[0])

    def payments_of(self, shop: Shop) -> list[dict[str, Any]]:
        sub = self.subscription_of(shop)
        return sorted(
            (p for p in self.account().payments.values() if p.get("subscription") == sub["id"]),
            key=lambda p: p["dueDate"],
        )

    def overdue(self, payment_id: str, days: int) -> list[str]:
        self.sim.overdue_by_id(payment_id, days=days)
        return self.queue.drain()

    def pay(self, payment_id: str) -> list[str]:
        self.sim.pay_by_id(payment_id)
        return self.queue.drain()


@pytest.fixture
def platform(api_root: Any, asaas: Any, queue: FakeQueue, bus: FakeBus) -> Platform:
    from assistec.integrations.platform import PlatformAccount
    from assistec.settings import ConsumerSettings
    from assistec.wiring.workers import WorkerRoot

    account = PlatformAccount(
        api_key=f"$aact_platform_{secrets.token_hex(6)}", webhook_token=secrets.token_urlsafe(24)
    )
    api_root.platform_account = lambda: account
    api_root.asaas_client("sandbox", account.api_key).create_webhook(
        {
            "name": "assistec-platform",
            "url": PLATFORM_URL,
            "email": "ops@assistec.local",
            "enabled": True,
            "interrupted": False,
            "apiVersion": 3,
            "authToken": account.webhook_token,
            "sendType": "SEQUENTIALLY",
        }
    )
    # The payments workers' root, as deployed, on the API's database, bus and Asaas simulator
    worker = WorkerRoot(ConsumerSettings())  # type: ignore[call-arg]
    worker.database = api_root.database
    worker.event_bus = bus
    worker.mailer = FakeMailer()
    worker.asaas_client = lambda environment, api_key: api_root.asaas_client(environment, api_key)
    worker.platform_account = lambda: account
    platform = Platform(asaas, account.api_key, account.webhook_token, worker.mailer, queue, worker)
    # The consumer applies the platform's events with its own service (it mails; the API does not)
    queue.billing = worker.platform_webhook
    return platform


def _ok(result: tuple[int, Any, Any], status: int = 200) -> Any:
    code, body, _ = result
    assert code == status, body
    return body


def _billing(client: Client, shop: Shop) -> dict[str, Any]:
    return dict(_ok(client.call("GET", "/billing", shop.access_token)))


def _post_platform(client: Client, body: str, token: str | None) -> dict[str, Any]:
    headers = {"asaas-access-token": token} if token else {}
    response: dict[str, Any] = client.invoke(
        rest_event("POST", "/webhooks/asaas-platform", raw_body=body, headers=headers)
    )
    return response


def _today() -> date:
    from assistec.services.billing.common import today_in_brazil

    return today_in_brazil()


# --- signup and provisioning ----------------------------------------------------------------------
def test_signup_opens_a_trial_and_provisioning_creates_one_asaas_subscription(
    client: Client, platform: Platform, bus: FakeBus
) -> None:
    status, body, _ = client.call(
        "POST",
        "/signup",
        body={
            "shop_name": "Celular Bom",
            "cnpj": new_cnpj(),
            "email": f"dono-{uuid.uuid4().hex[:8]}@exemplo.com.br",
            "phone": "(11) 98765-4321",
            "owner_name": "Maria da Silva",
            "password": "senha-forte-123",
            "plan": "profissional",
        },
    )
    assert status == 201, body
    shop = Shop(body["tenant_id"], body["user_id"], "", "", body["access_token"], body["refresh_token"])
    billing = _billing(client, shop)
    assert (billing["status"], billing["plan"]["code"], billing["plan"]["price_cents"]) == (
        "trial",
        "profissional",
        14990,
    )
    assert billing["trial_ends_on"] == (_today() + timedelta(days=14)).isoformat()
    assert billing["provisioned"] is False
    # Signup's event, published after commit (EventBridge's rule hands it to the consumer)
    assert [d["tenant_id"] for d in bus.details("ShopSignedUp")] == [shop.tenant_id]

    assert platform.provision(shop) == "provisioned"
    sub = platform.subscription_of(shop)
    assert (sub["value"], sub["cycle"], sub["billingType"]) == (149.90, "MONTHLY", "UNDEFINED")
    customer = platform.account().customers[sub["customer"]]
    assert (customer["name"], customer["externalReference"]) == (
        "Celular Bom",
        f"assistec-shop:{shop.tenant_id}",
    )
    billing = _billing(client, shop)
    assert billing["provisioned"] is True
    assert billing["status"] == "trial"
    first = platform.payments_of(shop)[0]
    assert billing["invoices"] == [
        {
            "id": first["id"],
            "due_date": (_today() + timedelta(days=14)).isoformat(),
            "value_cents": 14990,
            "status": "pending",
            "invoice_url": first["invoiceUrl"],
            "paid_on": None,
        }
    ]
    assert billing["next_due_date"] == first["dueDate"]
    # Again (a redelivered message): nothing new at Asaas
    assert platform.provision(shop) == "already_provisioned"
    assert len(platform.account().customers) == 1
    assert len(platform.account().subscriptions) == 1


def test_provisioning_after_a_lost_answer_finds_what_asaas_made(client: Client, platform: Platform) -> None:
    shop = signup(client)
    # Asaas created the customer and subscription, but the answers never came back to us
    asaas = platform.worker.asaas_client("sandbox", platform.api_key)
    reference = f"assistec-shop:{shop.tenant_id}"
    customer = asaas.create_customer({"name": "Loja", "externalReference": reference})
    asaas.create_subscription(
        {
            "customer": customer["id"],
            "billingType": "UNDEFINED",
            "value": 79.9,
            "nextDueDate": (_today() + timedelta(days=14)).isoformat(),
            "cycle": "MONTHLY",
            "externalReference": reference,
        }
    )
    assert platform.provision(shop) == "provisioned"
    assert len(platform.account().subscriptions) == 1
    assert len(platform.account().customers) == 1
    assert _billing(client, shop)["provisioned"] is True


def test_provisioning_waits_out_an_unavailable_asaas_and_records_a_refusal(
    client: Client, platform: Platform, database: PgDatabase
) -> None:
    from assistec.integrations.asaas import AsaasError

    shop = signup(client)
    platform.sim.fail_next = [503] * 4  # every retry of the first call
    with pytest.raises(AsaasError):
        platform.provision(shop)  # the queue message comes back later
    assert _billing(client, shop)["provisioned"] is False
    # Asaas refuses the shop's data: retrying cannot help; kept for ops, not retried forever
    platform.sim.fail_next = [400]
    assert platform.provision(shop) == "refused"
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute(
            "select provision_error, asaas_subscription_id from tenant_subscriptions where tenant_id = %s",
            (shop.tenant_id,),
        ).fetchone()
    assert row is not None
    assert "400" in row[0]
    assert row[1] is None
    # The daily run provisions it once Asaas accepts
    report = platform.worker.dunning.run(only=[UUID(shop.tenant_id)])
    assert (report.provisioned, report.errors) == (1, 0)
    assert _billing(client, shop)["provisioned"] is True


def test_an_unknown_plan_refuses_the_signup_and_writes_nothing(client: Client, database: PgDatabase) -> None:
    cnpj = new_cnpj()
    status, body, _ = client.call(
        "POST",
        "/signup",
        body={
            "shop_name": "Loja Teste",
            "cnpj": cnpj,
            "email": f"dono-{uuid.uuid4().hex[:8]}@exemplo.com.br",
            "phone": "(11) 98765-4321",
            "owner_name": "Maria da Silva",
            "password": "senha-forte-123",
            "plan": "ouro",
        },
    )
    assert status == 422, body
    assert body["code"] == "validation_error"
    assert "essencial" in body["details"][0]["message"]
    with psycopg.connect(database.superuser_url) as conn:
        assert conn.execute("select count(*) from tenants where cnpj = %s", (cnpj,)).fetchone() == (0,)


def test_plans_are_listed(client: Client) -> None:
    shop = signup(client)
    plans = _ok(client.call("GET", "/billing/plans", shop.access_token))["items"]
    assert [(p["code"], p["price_cents"]) for p in plans] == [("essencial", 7990), ("profissional", 14990)]


# --- the platform webhook -------------------------------------------------------------------------
def test_the_platform_webhook_refuses_a_wrong_token_and_bad_bodies_storing_nothing(
    client: Client, platform: Platform, database: PgDatabase
) -> None:
    def count() -> int:
        with psycopg.connect(database.superuser_url) as conn:
            row = conn.execute("select count(*) from platform_webhook_inbox").fetchone()
        assert row is not None
        return int(row[0])

    before = count()
    body = '{"id": "evt_1", "event": "PAYMENT_RECEIVED", "payment": {"id": "pay_x", "subscription": "sub_x"}}'
    for token in (None, "errado", platform.webhook_token[:-1]):
        assert _post_platform(client, body, token)["statusCode"] == 401
    for raw in ("{não é json", '{"id": "evt_2"}', "[]"):
        response = _post_platform(client, raw, platform.webhook_token)
        assert response["statusCode"] == 422, response
    assert count() == before
    # Delivered twice: stored and queued once
    for _ in range(2):
        response = _post_platform(client, body, platform.webhook_token)
        assert (response["statusCode"], response["body"]) == (200, "{}")
    assert count() == before + 1
    assert platform.queue.messages == [(None, "evt_1")]
    # A payment of no subscription of ours: ignored, recorded
    assert platform.queue.drain() == ["ignored_unknown_subscription"]


def test_a_payment_that_is_no_subscription_is_ignored(client: Client, platform: Platform) -> None:
    # A real delivery (sandbox capture) of a one-off payment: nothing of the shops' subscriptions
    body = (FIXTURES / "payment_received_boleto__sandbox_capture.json").read_text()
    response = _post_platform(client, body, platform.webhook_token)
    assert response["statusCode"] == 200
    assert platform.queue.drain() == ["ignored_not_a_subscription"]


# --- dunning ---------------------------------------------------------------------------------------
def test_dunning_escalates_suspends_and_payment_brings_the_shop_back(
    client: Client, platform: Platform, database: PgDatabase, bus: FakeBus
) -> None:
    shop = signup(client)
    platform.provision(shop)
    customer = _ok(
        client.call(
            "POST", "/customers", shop.access_token, body={"name": "Ana Souza", "phone": "(11) 91234-5678"}
        ),
        201,
    )
    invoice = platform.payments_of(shop)[0]
    service = platform.worker.dunning
    current = _ok(client.call("GET", "/settings", shop.access_token))
    keys = ("version", "timezone", "business_hours", "welcome_message", "out_of_hours_message")
    settings = {k: current[k] for k in keys}

    # A day late (Asaas's webhook): past due, the first notice goes out once
    assert platform.overdue(invoice["id"], days=1) == ["trial->past_due"]
    assert _billing(client, shop)["status"] == "past_due"
    assert _billing(client, shop)["past_due_since"] == (_today() - timedelta(days=1)).isoformat()
    assert service.run(only=[UUID(shop.tenant_id)]).notices == 1
    assert service.run(only=[UUID(shop.tenant_id)]).notices == 0  # the same day again: nothing
    _to, subject, text = platform.mailer.sent[-1]
    assert subject == "Fatura do assistec vencida"
    assert "R$ 79,90" in text
    assert invoice["invoiceUrl"] in text
    # Still working while past due
    _ok(client.call("GET", "/customers", shop.access_token))

    # Three and seven days: the reminder and the last warning
    platform.overdue(invoice["id"], days=3)
    service.run(only=[UUID(shop.tenant_id)])
    platform.overdue(invoice["id"], days=7)
    service.run(only=[UUID(shop.tenant_id)])
    assert [s for _, s, _ in platform.mailer.sent] == [
        "Fatura do assistec vencida",
        "Lembrete: fatura do assistec em aberto",
        "Último aviso: o acesso ao assistec será suspenso",
    ]
    assert "suspenso em 4 dia(s)" in platform.mailer.sent[-1][2]
    assert {to for to, _, _ in platform.mailer.sent} == {shop.email}

    # Past the grace period (10 days): suspended; the API answers 402 and touches nothing
    platform.sim.overdue_by_id(invoice["id"], days=11)
    platform.queue.messages.clear()  # the webhook is lost this time: the daily run finds it anyway
    report = service.run(only=[UUID(shop.tenant_id)])
    assert (report.suspended, report.notices) == (1, 1)
    assert platform.mailer.sent[-1][1] == "Acesso ao assistec suspenso"
    before = _snapshot(database, shop.tenant_id)
    for method, path, payload in [
        ("GET", "/customers", None),
        ("GET", f"/customers/{customer['id']}", None),
        ("POST", "/customers", {"name": "Outro Cliente", "phone": "(11) 91234-0000"}),
        ("GET", "/orders", None),
        ("PUT", "/settings", settings),
    ]:
        status, body, _ = client.call(method, path, shop.access_token, body=payload)
        assert status == 402, (path, body)
        assert body["code"] == "subscription_suspended"
        assert "suspenso por falta de pagamento" in body["message"]
    assert _snapshot(database, shop.tenant_id) == before
    # ...while the owner can still log in, see the invoice and pay it
    billing = _billing(client, shop)
    assert billing["status"] == "suspended"
    assert billing["suspended_at"] is not None
    assert [(i["id"], i["status"]) for i in billing["invoices"]] == [(invoice["id"], "overdue")]
    assert _ok(client.call("GET", "/me", shop.access_token))["shop"]["billing_status"] == "suspended"
    logged_in = _login(client, shop.email, shop.password)
    assert logged_in["access_token"]
    changes = [d for d in bus.details("ShopBillingStatusChanged") if d["tenant_id"] == shop.tenant_id]
    assert [(d["from"], d["to"]) for d in changes] == [("trial", "past_due"), ("past_due", "suspended")]

    # Paid: back at once, with the next due date one cycle on
    assert platform.pay(invoice["id"]) == ["suspended->active", "no_change"]  # RECEIVED, then the new cycle
    billing = _billing(client, shop)
    assert (billing["status"], billing["past_due_since"], billing["suspended_at"]) == ("active", None, None)
    next_invoice = platform.payments_of(shop)[-1]
    assert next_invoice["id"] != invoice["id"]
    assert billing["next_due_date"] == next_invoice["dueDate"]
    assert date.fromisoformat(billing["next_due_date"]) > _today()
    assert platform.mailer.sent[-1][1] == "Pagamento recebido: acesso ao assistec liberado"
    [paid] = [i for i in billing["invoices"] if i["id"] == invoice["id"]]
    assert (paid["status"], paid["paid_on"]) == ("paid", _today().isoformat())
    _ok(client.call("GET", f"/customers/{customer['id']}", shop.access_token))
    # The paid invoice redelivered changes nothing; no more notices
    sent = len(platform.mailer.sent)
    service.run(only=[UUID(shop.tenant_id)])
    assert len(platform.mailer.sent) == sent


def test_a_lost_payment_webhook_is_repaired_by_the_daily_run(client: Client, platform: Platform) -> None:
    shop = signup(client)
    platform.provision(shop)
    invoice = platform.payments_of(shop)[0]
    platform.overdue(invoice["id"], days=12)
    assert _billing(client, shop)["status"] == "suspended"
    platform.sim.pay_by_id(invoice["id"])
    platform.queue.messages.clear()  # the webhooks never arrive
    assert _billing(client, shop)["status"] == "suspended"
    report = platform.worker.dunning.run(only=[UUID(shop.tenant_id)])
    assert (report.synced, report.reactivated) == (1, 1)
    assert _billing(client, shop)["status"] == "active"
    _ok(client.call("GET", "/customers", shop.access_token))


def test_a_failing_shop_does_not_stop_the_daily_run_and_mail_failures_retry(
    client: Client, platform: Platform
) -> None:
    first, second = signup(client), signup(client)
    for shop in (first, second):
        platform.provision(shop)
        platform.overdue(platform.payments_of(shop)[0]["id"], days=2)
    platform.mailer.down = True
    report = platform.worker.dunning.run(only=[UUID(first.tenant_id), UUID(second.tenant_id)])
    assert (report.errors, report.notices) == (2, 0)
    platform.mailer.down = False
    # The claim was rolled back with the failed send: the notice goes out on the next run
    report = platform.worker.dunning.run(only=[UUID(first.tenant_id), UUID(second.tenant_id)])
    assert (report.errors, report.notices) == (0, 2)


def test_a_cancelled_shop_gets_its_own_answer(
    client: Client, platform: Platform, database: PgDatabase
) -> None:
    shop = signup(client)
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute("update tenants set billing_status = 'cancelled' where id = %s", (shop.tenant_id,))
    status, body, _ = client.call("GET", "/customers", shop.access_token)
    assert (status, body["code"]) == (402, "subscription_cancelled")
    assert _billing(client, shop)["status"] == "cancelled"


# --- plan changes ----------------------------------------------------------------------------------
def test_changing_plan_moves_the_asaas_subscription_and_open_invoices(
    client: Client, platform: Platform
) -> None:
    shop = signup(client)
    platform.provision(shop)
    billing = _billing(client, shop)
    changed = _ok(
        client.call(
            "PUT",
            "/billing/plan",
            shop.access_token,
            body={"plan": "profissional", "version": billing["version"]},
        )
    )
    assert (changed["plan"]["code"], changed["plan"]["price_cents"]) == ("profissional", 14990)
    assert changed["invoices"][0]["value_cents"] == 14990
    assert platform.subscription_of(shop)["value"] == 149.90
    assert platform.payments_of(shop)[0]["value"] == 149.90
    # A stale version, an unknown plan, a technician: refused, nothing changed
    status, body, _ = client.call(
        "PUT", "/billing/plan", shop.access_token, body={"plan": "essencial", "version": billing["version"]}
    )
    assert (status, body["code"]) == (409, "conflict")
    assert body["details"]["current_version"] == changed["version"]
    status, body, _ = client.call(
        "PUT", "/billing/plan", shop.access_token, body={"plan": "ouro", "version": changed["version"]}
    )
    assert status == 422
    tech = _add_user(client, shop, "technician")
    token = _login(client, tech["email"])["access_token"]
    status, body, _ = client.call(
        "PUT", "/billing/plan", token, body={"plan": "essencial", "version": changed["version"]}
    )
    assert status == 403
    assert client.call("GET", "/billing", token)[0] == 403
    assert platform.subscription_of(shop)["value"] == 149.90


def test_a_past_due_shop_cannot_change_plan(client: Client, platform: Platform) -> None:
    shop = signup(client)
    platform.provision(shop)
    platform.overdue(platform.payments_of(shop)[0]["id"], days=2)
    billing = _billing(client, shop)
    status, body, _ = client.call(
        "PUT",
        "/billing/plan",
        shop.access_token,
        body={"plan": "profissional", "version": billing["version"]},
    )
    assert (status, body["code"]) == (409, "conflict")
    assert platform.subscription_of(shop)["value"] == 79.90


def test_suspension_and_payment_take_effect_on_the_next_request(client: Client, database: PgDatabase) -> None:
    # The status is read as each request enters the shop's unit of work: nothing is remembered
    shop = signup(client)
    assert client.call("GET", "/customers", shop.access_token)[0] == 200

    def set_status(status: str) -> None:
        with psycopg.connect(database.superuser_url) as conn:
            conn.execute("update tenants set billing_status = %s where id = %s", (status, shop.tenant_id))

    set_status("suspended")
    assert client.call("GET", "/customers", shop.access_token)[0] == 402
    set_status("active")
    assert client.call("GET", "/customers", shop.access_token)[0] == 200


def test_the_platform_webhook_answers_503_with_the_database_down_and_a_lost_message_is_swept(
    client: Client, platform: Platform, database: PgDatabase, api_root: Any
) -> None:
    from assistec.db.connection import Database
    from assistec.services.billing.platform_webhook import sweep_platform
    from assistec.settings import DatabaseSettings

    shop = signup(client)
    platform.provision(shop)
    invoice = platform.payments_of(shop)[0]
    work = api_root.work  # the API's units of work: the database down for them
    healthy = work.db
    work.db = Database(
        DatabaseSettings(
            database_url="postgresql://assistec_app:x@127.0.0.1:1/assistec",
            db_sslmode="disable",
            db_connect_timeout_s=1,
        )  # type: ignore[call-arg]
    )
    platform.sim.overdue_by_id(invoice["id"], days=2)  # Asaas delivers; we answer 503: it retries
    assert platform.sim.deliveries[-1]["status"] == 503
    work.db = healthy
    assert platform.queue.messages == []
    assert _billing(client, shop)["status"] == "trial"

    # Delivered again (Asaas retries); this time SQS refuses the message after the row is stored
    platform.queue.down = True
    delivery = platform.sim.deliveries[-1]["envelope"]
    import json

    response = _post_platform(client, json.dumps(delivery), platform.webhook_token)
    assert response["statusCode"] == 200
    assert platform.queue.messages == []
    platform.queue.down = False
    assert sweep_platform(api_root.database, platform.queue, older_than_s=0) >= 1
    platform.queue.messages = [m for m in platform.queue.messages if m[1] == delivery["id"]]
    assert platform.queue.drain() == ["trial->past_due"]
    assert _billing(client, shop)["status"] == "past_due"


# --- cancellation ----------------------------------------------------------------------------------
def test_cancelling_keeps_access_to_the_end_of_the_period_then_refuses(
    client: Client, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.services.billing import common as billing_service

    shop = signup(client)
    platform.provision(shop)
    before = _billing(client, shop)
    # Only the owner cancels; a stale version changes nothing
    admin = _add_user(client, shop, "admin")
    admin_token = _login(client, admin["email"])["access_token"]
    status, body, _ = client.call("POST", "/billing/cancel", admin_token, body={"version": before["version"]})
    assert (status, body["code"]) == (403, "forbidden")
    status, body, _ = client.call(
        "POST", "/billing/cancel", shop.access_token, body={"version": before["version"] + 5}
    )
    assert status == 409
    assert platform.subscription_of(shop)["deleted"] is False

    cancelled = _ok(
        client.call("POST", "/billing/cancel", shop.access_token, body={"version": before["version"]})
    )
    assert cancelled["status"] == "trial"  # the trial runs to its end
    assert cancelled["cancel_on"] == before["trial_ends_on"]
    assert cancelled["next_due_date"] is None
    assert [i["status"] for i in cancelled["invoices"]] == ["cancelled"]  # never charged
    assert platform.subscription_of(shop)["deleted"] is True
    platform.queue.drain()  # Asaas's PAYMENT_DELETED: nothing more to do
    _ok(client.call("GET", "/customers", shop.access_token))
    again = client.call("POST", "/billing/cancel", shop.access_token, body={"version": cancelled["version"]})
    assert again[0] == 409
    plan = client.call(
        "PUT",
        "/billing/plan",
        shop.access_token,
        body={"plan": "profissional", "version": cancelled["version"]},
    )
    assert plan[0] == 409

    # The day the trial ends, the daily run closes the shop (its data stays)
    end = date.fromisoformat(cancelled["cancel_on"])
    monkeypatch.setattr(billing_service, "today_in_brazil", lambda: end)
    platform.worker.dunning.run(only=[UUID(shop.tenant_id)])
    status, body, _ = client.call("GET", "/customers", shop.access_token)
    assert (status, body["code"]) == (402, "subscription_cancelled")
    assert _billing(client, shop)["status"] == "cancelled"
    assert not platform.mailer.sent  # no dunning for a cancelled shop


def test_a_shop_in_arrears_that_cancels_is_closed_at_once(client: Client, platform: Platform) -> None:
    shop = signup(client)
    platform.provision(shop)
    platform.overdue(platform.payments_of(shop)[0]["id"], days=12)
    billing = _billing(client, shop)
    assert billing["status"] == "suspended"
    cancelled = _ok(
        client.call("POST", "/billing/cancel", shop.access_token, body={"version": billing["version"]})
    )
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_on"] == _today().isoformat()
    # The overdue invoice is still owed (Asaas keeps it); the subscription makes no new ones
    assert [i["status"] for i in cancelled["invoices"]] == ["overdue"]
    assert client.call("GET", "/customers", shop.access_token)[1]["code"] == "subscription_cancelled"


def test_a_refunded_invoice_is_not_owed_and_the_shop_stays_active(client: Client, platform: Platform) -> None:
    shop = signup(client)
    platform.provision(shop)
    invoice = platform.payments_of(shop)[0]
    platform.pay(invoice["id"])
    assert _billing(client, shop)["status"] == "active"
    asaas = platform.worker.asaas_client("sandbox", platform.api_key)
    asaas.refund_payment(invoice["id"])  # a goodwill refund
    assert platform.queue.drain() == ["no_change"]
    billing = _billing(client, shop)
    [refunded] = [i for i in billing["invoices"] if i["id"] == invoice["id"]]
    assert (refunded["status"], refunded["paid_on"]) == ("refunded", None)
    assert billing["status"] == "active"


def test_no_route_serves_a_suspended_shop(client: Client, database: PgDatabase) -> None:
    """Every documented route behind a token, with the shop's own ids and (where the matrix has one)
    a valid body: 402 (422 for a body the route cannot read), and not a byte of the shop changed."""
    import json as jsonlib

    from tests.integration.test_bad_input import ROUTES, _fill, _world

    world = _world(client)
    shop = world.shop
    ids = {
        "order_id": world.ids["order"],
        "customer_id": world.ids["customer"],
        "device_id": world.ids["device"],
        "quote_id": world.ids["quote"],
        "part_id": world.ids["part"],
        "rule_id": world.ids["rule"],
        "user_id": shop.owner_id,
        "charge_id": str(uuid.uuid4()),
    }
    valid = {(m, p): _fill(b, world.ids) for m, p, b in ROUTES}
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute("update tenants set billing_status = 'suspended' where id = %s", (shop.tenant_id,))
    before = _snapshot(database, shop.tenant_id)
    document = jsonlib.loads((Path(__file__).parents[2] / "functions/assistec/api/openapi.json").read_text())
    checked = 0
    for template, item in document["paths"].items():
        if template.startswith(("/billing", "/me", "/auth/")):
            continue
        for method, operation in item.items():
            if not operation.get("security"):
                continue
            path = template.format(**ids)
            matrix_path = (
                template.replace("{order_id}", "{order}")
                .replace("{quote_id}", "{quote}")
                .replace("{part_id}", "{part}")
            )
            body = valid.get((method.upper(), matrix_path))
            has_body = "requestBody" in operation
            query = {
                p["name"]: "tela"
                for p in operation.get("parameters", [])
                if p.get("in") == "query" and p.get("required")
            }
            status, answer, _ = client.call(
                method.upper(), path, shop.access_token, body=body if has_body else None, query=query or None
            )
            if has_body and body is None:
                assert status in (402, 422), (method, template, answer)
            else:
                assert status == 402, (method, template, answer)
                assert answer["code"] == "subscription_suspended"
            checked += 1
    assert checked >= 50
    assert _snapshot(database, shop.tenant_id) == before
