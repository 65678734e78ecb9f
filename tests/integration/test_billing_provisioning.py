"""The shops' subscription to assistec (issue 5 §4), signup and provisioning: the trial, the plans,
and the Asaas customer and subscription made once whatever Asaas answers.

Through the API handler, the billing service and the offline Asaas simulator (the platform
account), against the real database."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from assistec.domain.payments import reais
from tests.conftest import PgDatabase
from tests.integration.billing_fixtures import Platform, _billing, _ok, _post_platform, _today
from tests.integration.conftest import Client, FakeBus, Shop, new_cnpj, signup, signup_confirmed


def test_signup_opens_a_trial_and_provisioning_creates_one_asaas_subscription(
    client: Client, platform: Platform, bus: FakeBus
) -> None:
    status, body = signup_confirmed(  # the e-mail confirmed on the mailed link
        client,
        {
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
            "value": reais(7990),  # as provisioning sends it: exact reais, never a float
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


# --- prod refuses a sandbox platform account (issue 10 §5) ------------------------------------------
def _worker_in(stage: str, platform: Platform, account: Any) -> Any:
    """The payments workers' root of a stage, on the platform fixture's database, bus and simulator,
    with the platform account ``account``."""
    from assistec.settings import ConsumerSettings
    from assistec.wiring.workers import WorkerRoot

    worker = WorkerRoot(ConsumerSettings(stage=stage))  # type: ignore[call-arg]
    worker.database = platform.worker.database
    worker.event_bus = platform.worker.event_bus
    worker.mailer = platform.worker.mailer
    worker.asaas_client = platform.worker.asaas_client
    worker.platform_account = lambda: account
    return worker


def _subscriptions_of(platform: Platform, shop: Shop) -> list[dict[str, Any]]:
    """Every subscription of the shop in every account of the simulator."""
    ref = f"assistec-shop:{shop.tenant_id}"
    return [
        s
        for acc in platform.sim._accounts.values()
        for s in acc.subscriptions.values()
        if s["externalReference"] == ref
    ]


@pytest.mark.parametrize(
    ("environment", "hmlg_key"),
    [("sandbox", False), ("production", True)],
    ids=["declared-sandbox", "sandbox-key-declared-production"],
)
def test_prod_refuses_a_sandbox_platform_account(
    client: Client, platform: Platform, api_root: Any, environment: str, hmlg_key: bool
) -> None:
    from dataclasses import replace

    from assistec.integrations.platform import PlatformAccountRefusedError
    from assistec.services.billing.common import PlatformAsaas
    from assistec.services.billing.platform_webhook import PlatformWebhook
    from assistec.services.billing.standing import Notices

    # Given the platform's account as ops put it in the secret: sandbox, declared or by its key
    real = platform.worker.platform_account()
    key = "$aact_hmlg_" + real.api_key.removeprefix("$aact_") if hmlg_key else real.api_key
    sandbox = replace(real, environment=environment, api_key=key)
    shop = signup(client)

    # When the prod stage's consumer provisions a new shop: refused before Asaas is called
    # (the message is retried, then dead-lettered: ops' alarm), nothing made at Asaas or stored
    with pytest.raises(PlatformAccountRefusedError):
        _worker_in("prod", platform, sandbox).provisioning.provision(UUID(shop.tenant_id))
    assert _subscriptions_of(platform, shop) == []
    assert _billing(client, shop)["provisioned"] is False

    # And the prod API refuses the account's webhook token (as for an account with no token)
    body = (
        '{"id": "evt_sbx", "event": "PAYMENT_RECEIVED", "payment": {"id": "pay_x", "subscription": "sub_x"}}'
    )
    api_root.platform_webhook = PlatformWebhook(
        api_root.work,
        PlatformAsaas(lambda: sandbox, api_root.asaas_client, refuse_sandbox=True),
        Notices(None),
        queue=api_root.payments_queue,
    )
    assert _post_platform(client, body, sandbox.webhook_token)["statusCode"] == 401
    assert platform.queue.messages == []

    # While outside prod the same account works (development runs on sandbox), and in prod a
    # production account does: the refusal is the stage's, not the account's state
    if not hmlg_key:
        assert (
            _worker_in("test", platform, sandbox).provisioning.provision(UUID(shop.tenant_id))
            == "provisioned"
        )
    else:
        production = replace(real, environment="production")
        assert (
            _worker_in("prod", platform, production).provisioning.provision(UUID(shop.tenant_id))
            == "provisioned"
        )
    assert len(_subscriptions_of(platform, shop)) == 1
