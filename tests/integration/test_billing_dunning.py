"""The shops' subscription to assistec (issue 5 §4), dunning and suspension: notices, the daily
run, the 402 a suspended or cancelled shop gets on every route, payment bringing it back.

Through the API handler, the billing service and the offline Asaas simulator (the platform
account), against the real database. The calendar moves the way it does at Asaas: the simulator's
control call lets an invoice fall ``days`` days overdue (its due date moves back) and fires the
platform webhook."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from tests.conftest import PgDatabase
from tests.integration.billing_fixtures import Platform, _billing, _ok, _today
from tests.integration.conftest import Client, FakeBus, signup
from tests.integration.test_bad_input import _snapshot
from tests.integration.test_users_api import _login


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


def test_no_route_serves_a_suspended_shop(client: Client, database: PgDatabase) -> None:
    """Every documented route behind a token, with the shop's own ids and (where the matrix has one)
    a valid body: 402 (422 for a body the route cannot read), and not a byte of the shop changed."""
    import json as jsonlib

    from assistec.api.billing import OPEN_WHEN_SUSPENDED
    from tests.integration.test_bad_input import QUERIES, ROUTES, _fill, _world

    assert OPEN_WHEN_SUSPENDED == ("/billing", "/me", "/auth/", "/data-exports")

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
        "conversation_id": str(uuid.uuid4()),
        "appointment_id": str(uuid.uuid4()),
        "agreement_id": str(uuid.uuid4()),
        "file_id": str(uuid.uuid4()),
        "boleto_id": str(uuid.uuid4()),
        "remessa_id": str(uuid.uuid4()),
        "match_id": str(uuid.uuid4()),
        "address": "ana@exemplo.com.br",
        "name": "order_document",
        "kind": "intake",
    }
    valid = {(m, p): _fill(b, world.ids) for m, p, b in ROUTES}
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute("update tenants set billing_status = 'suspended' where id = %s", (shop.tenant_id,))
    before = _snapshot(database, shop.tenant_id)
    document = jsonlib.loads((Path(__file__).parents[2] / "functions/assistec/api/openapi.json").read_text())
    checked = 0
    for template, item in document["paths"].items():
        if template.startswith(OPEN_WHEN_SUSPENDED):
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
            query = QUERIES.get(template) or {
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


def _trial_ended_days_ago(database: PgDatabase, tenant_id: str, days: int) -> None:
    """The shop's trial ended ``days`` days ago (Brazil's calendar), as if signup was that long ago."""
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "update tenant_subscriptions set trial_ends_on = %s where tenant_id = %s",
            (_today() - timedelta(days=days), tenant_id),
        )


def test_a_shop_asaas_refused_leaves_its_trial_past_due_then_suspended_with_the_emails(
    client: Client, platform: Platform, database: PgDatabase
) -> None:
    # Given a shop whose subscription Asaas refused at signup (its data), and refuses every day
    shop = signup(client)
    platform.sim.fail_next = [400]
    assert platform.provision(shop) == "refused"
    service = platform.worker.dunning
    only = [UUID(shop.tenant_id)]

    # While the trial runs: still a trial, no e-mail
    platform.sim.fail_next = [400]
    report = service.run(only=only)
    assert (report.provisioning_refused, report.past_due, report.notices) == (1, 0, 0)
    assert _billing(client, shop)["status"] == "trial"

    # When the trial has ended (yesterday) without a subscription
    _trial_ended_days_ago(database, shop.tenant_id, 1)
    platform.sim.fail_next = [400]
    report = service.run(only=only)

    # Then the shop is past due since the trial's last day, and the owner is told why
    assert (report.provisioning_refused, report.past_due, report.notices, report.errors) == (1, 1, 1, 0)
    billing = _billing(client, shop)
    assert (billing["status"], billing["provisioned"]) == ("past_due", False)
    assert billing["past_due_since"] == (_today() - timedelta(days=1)).isoformat()
    to, subject, text = platform.mailer.sent[-1]
    assert (to, subject) == (shop.email, "Seu período de teste do assistec terminou")
    assert "R$ 79,90" in text
    assert "CNPJ" in text
    platform.sim.fail_next = [400]
    assert service.run(only=only).notices == 0  # the same day again: nothing
    _ok(client.call("GET", "/customers", shop.access_token))  # still working while past due

    # When the grace period (10 days) is over
    _trial_ended_days_ago(database, shop.tenant_id, 11)
    platform.sim.fail_next = [400]
    report = service.run(only=only)

    # Then it is suspended like any shop that does not pay: 402 and the suspension e-mail
    assert (report.suspended, report.notices) == (1, 1)
    assert _billing(client, shop)["status"] == "suspended"
    assert platform.mailer.sent[-1][1] == "Acesso ao assistec suspenso"
    status, body, _ = client.call("GET", "/customers", shop.access_token)
    assert (status, body["code"]) == (402, "subscription_suspended")

    # When ops fix the shop's data and Asaas accepts it, its first invoice takes over
    report = service.run(only=only)
    assert (report.provisioned, report.errors) == (1, 0)
    billing = _billing(client, shop)
    assert billing["provisioned"] is True
    assert billing["status"] != "suspended"
    assert [i["due_date"] for i in billing["invoices"]] == [_today().isoformat()]


def test_a_cancelled_shop_without_a_subscription_is_not_dunned(
    client: Client, platform: Platform, database: PgDatabase
) -> None:
    # Given a refused shop that cancelled during its trial, whose trial then ended
    shop = signup(client)
    platform.sim.fail_next = [400]
    assert platform.provision(shop) == "refused"
    version = _billing(client, shop)["version"]
    _ok(client.call("POST", "/billing/cancel", shop.access_token, body={"version": version}))
    _trial_ended_days_ago(database, shop.tenant_id, 2)

    # When the daily run visits it
    report = platform.worker.dunning.run(only=[UUID(shop.tenant_id)])

    # Then it owes nothing and gets no e-mail
    assert (report.past_due, report.notices) == (0, 0)
    assert platform.mailer.sent == []


def test_refused_provisioning_is_a_metric_of_the_consumer_and_of_the_daily_run(
    client: Client, platform: Platform, capsys: Any, monkeypatch: Any
) -> None:
    import json

    import httpx
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from assistec.handlers import dunning, payments_consumer
    from assistec.integrations.asaas import AsaasClient
    from assistec.wiring import workers

    # Given a new shop whose data Asaas refuses (every time, whatever other shops the run visits)
    shop = signup(client)
    sim = platform.sim.transport()
    mine = f"assistec-shop:{shop.tenant_id}"

    def refusing(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("externalReference") == mine:
            return httpx.Response(400, json={"errors": [{"code": "invalid_cpfCnpj", "description": "CNPJ"}]})
        return sim.handle_request(request)

    platform.worker.asaas_client = lambda environment, api_key: AsaasClient(
        api_key,
        base_url="https://asaas.sim/v3",
        transport=httpx.MockTransport(refusing),
        sleep=lambda s: None,
    )
    message = {"detail-type": "ShopSignedUp", "detail": {"tenant_id": shop.tenant_id}, "id": "evt-1"}
    event = {
        "Records": [
            {
                "messageId": "m0",
                "receiptHandle": "r0",
                "body": json.dumps(message),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:sa-east-1:111111111111:assistec-payments",
                "awsRegion": "sa-east-1",
            }
        ]
    }

    class _Context(LambdaContext):
        _function_name = "assistec-worker"
        _function_version = "$LATEST"
        _invoked_function_arn = "arn:aws:lambda:sa-east-1:111111111111:function:assistec-worker"
        _memory_limit_in_mb = 512
        _aws_request_id = "req-1"
        _log_group_name = "/aws/lambda/assistec-worker"
        _log_stream_name = "stream"

        def get_remaining_time_in_millis(self) -> int:
            return 900_000

    from assistec.observability import metrics

    monkeypatch.setattr(
        metrics.provider, "namespace", "AssistecTest"
    )  # as the functions' environment sets it
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")  # `make test` disables metrics
    workers.install(platform.worker)
    try:
        capsys.readouterr()
        # When the consumer gets its ShopSignedUp and Asaas refuses
        assert payments_consumer.handler(event, _Context()) == {"batchItemFailures": []}
        consumer_out = capsys.readouterr().out
        # ...and the daily run tries again and is refused again
        dunning.handler({}, _Context())
        dunning_out = capsys.readouterr().out
    finally:
        workers.install(None)

    # Then both publish ProvisioningRefused (CloudWatch's embedded metric format), which the
    # alarm watches (tests/infra/test_billing_alarms.py)
    def refused(out: str) -> list[float]:
        blobs = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]
        values = [b["ProvisioningRefused"] for b in blobs if "ProvisioningRefused" in b]
        return [sum(v) if isinstance(v, list) else v for v in values]

    assert refused(consumer_out) == [1.0]
    # (the daily run visits every shop of this test database: others may still be refused too)
    assert len(refused(dunning_out)) == 1
    assert refused(dunning_out)[0] >= 1
