"""The payments workers hold no row lock and no open transaction while Asaas is asked (issue 10 §4):
the consumer applying a shop's webhook, provisioning a shop's subscription, applying a platform
webhook, and the reconciliation. Each Asaas call goes through a probe (an httpx transport in front of
the offline simulator) that, while the call is in flight, checks from another connection that the
rows the worker touches can be locked at once (``FOR UPDATE NOWAIT``) and that no session of the
app role sits idle in a transaction. A version check then keeps a change made meanwhile from being
overwritten.

Through the real services and the simulator, against the real database (through the pooler)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.conftest import LambdaContext, PgDatabase
from tests.integration.billing_fixtures import Platform
from tests.integration.conftest import Client, FakeBus, FakeQueue, signup
from tests.integration.payment_helpers import _rows, approved_order, charge, connect

# The tables a payments worker writes; every row of the shop's must be lockable while Asaas is asked.
TABLES = ("webhook_inbox", "charges", "payment_accounts", "service_orders", "tenant_subscriptions")


@dataclass
class Probe(httpx.BaseTransport):
    """In front of the simulator: while ``armed``, each request first looks at the database from
    outside (a superuser connection of its own) and records what it found held."""

    inner: httpx.BaseTransport
    database: PgDatabase
    armed: bool = False
    calls: int = 0
    held: list[str] = field(default_factory=list)
    during_call: Any = None  # a hook run while the first armed call is in flight

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.armed:
            self.calls += 1
            self._look(f"{request.method} {request.url.path}")
            if self.during_call is not None:
                hook, self.during_call = self.during_call, None
                hook()
        return self.inner.handle_request(request)

    def _look(self, call: str) -> None:
        app_user = conninfo_to_dict(self.database.app_url)["user"]
        with psycopg.connect(self.database.superuser_url, autocommit=True) as conn:
            idle = conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and usename = %s and state like 'idle in transaction%%'",
                (app_user,),
            ).fetchone()
            if idle and idle[0]:
                self.held.append(f"{call}: {idle[0]} app session(s) idle in transaction")
            for table in TABLES:
                try:
                    with conn.transaction():
                        conn.execute(f"select 1 from {table} for update nowait")
                except psycopg.errors.LockNotAvailable:
                    self.held.append(f"{call}: a row of {table} is locked")


@pytest.fixture
def probe(api_root: Any, asaas: Any, database: PgDatabase) -> Probe:
    """Every Asaas client the roots build from now on goes through the probe (disarmed)."""
    from assistec.integrations.asaas import AsaasClient

    probe = Probe(asaas.transport(), database)

    def client(environment: str, api_key: str) -> AsaasClient:
        return AsaasClient(api_key, base_url="https://asaas.sim/v3", transport=probe, sleep=lambda s: None)

    api_root.asaas_client = client
    return probe


def _paid_without_webhook_applied(client: Client, asaas: Any, queue: FakeQueue) -> tuple[Any, dict, dict]:
    """A shop whose PIX charge Asaas has paid; the webhook is stored and queued, not yet applied."""
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop, 9000)
    _, pix = charge(client, shop, order)
    queue.drain()
    asaas.pay_by_id(pix["asaas_payment_id"])
    assert queue.messages  # PAYMENT_RECEIVED (and its companions) waiting for the consumer
    return shop, order, pix


def test_the_consumer_asks_asaas_with_no_lock_and_no_transaction_open(
    client: Client, asaas: Any, queue: FakeQueue, probe: Probe, database: PgDatabase
) -> None:
    # Given a paid charge whose webhook waits in the queue
    _, _, pix = _paid_without_webhook_applied(client, asaas, queue)

    # When the consumer applies it (it asks Asaas before moving money)
    probe.armed = True
    outcomes = queue.drain()
    probe.armed = False

    # Then Asaas was asked, and while it was, nothing of the worker was held
    assert probe.calls >= 1
    assert probe.held == []
    assert "applied" in outcomes
    assert _rows(database, "select status, paid_cents from charges where id = %s", pix["id"]) == [
        ("paid", 9000)
    ]


def test_a_charge_that_moves_while_asaas_is_asked_is_read_again_not_overwritten(
    client: Client, asaas: Any, queue: FakeQueue, probe: Probe, database: PgDatabase, bus: FakeBus
) -> None:
    # Given a paid charge whose webhook waits in the queue
    _, _, pix = _paid_without_webhook_applied(client, asaas, queue)

    # When, while the consumer asks Asaas, someone else changes the charge (another consumer's
    # write, say: its version moves)
    def concurrent_change() -> None:
        with psycopg.connect(database.superuser_url, autocommit=True) as conn:
            conn.execute("set lock_timeout = '2s'")  # a worker holding the row makes this fail, not hang
            conn.execute(
                "update charges set asaas_status = 'CONFIRMED', version = version + 1 where id = %s",
                (pix["id"],),
            )

    probe.during_call = concurrent_change
    probe.armed = True
    outcomes = queue.drain()
    probe.armed = False

    # Then the consumer saw the version move, read the charge again, asked Asaas again, and
    # applied the payment once, over the newer row
    assert probe.calls >= 2
    assert probe.held == []
    assert "applied" in outcomes
    assert _rows(database, "select status, asaas_status from charges where id = %s", pix["id"]) == [
        ("paid", "RECEIVED")
    ]
    paid_events = [e for e in bus.details("ChargeStatusChanged") if e["charge_id"] == pix["id"]]
    assert [e["status"] for e in paid_events] == ["paid"]


def test_the_reconciliation_asks_asaas_with_no_lock_and_no_transaction_open(
    client: Client, asaas: Any, queue: FakeQueue, probe: Probe, database: PgDatabase, api_root: Any
) -> None:
    from assistec.services.payments.reconcile import Reconciliation

    # Given a charge paid at Asaas whose webhook was lost
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop, 9000)
    _, pix = charge(client, shop, order)
    queue.drain()
    asaas._deliver = lambda url, token, body: 500
    asaas.pay_by_id(pix["asaas_payment_id"])

    # When the shop is reconciled
    probe.armed = True
    report = Reconciliation(api_root.work, api_root.payments).shop(uuid.UUID(shop.tenant_id))
    probe.armed = False

    # Then Asaas was read with nothing held, and the charge was repaired
    assert probe.calls >= 2  # the charge, then the paid payments' list
    assert probe.held == []
    assert (report.repaired, report.errors) == (1, 0)
    assert _rows(database, "select status from charges where id = %s", pix["id"]) == [("paid",)]


def test_provisioning_asks_asaas_with_no_lock_and_no_transaction_open(
    client: Client, platform: Platform, probe: Probe, database: PgDatabase
) -> None:
    # Given a shop that signed up (its subscription row waits for Asaas)
    shop = signup(client)

    # When the consumer provisions it (customer and subscription created at Asaas)
    probe.armed = True
    outcome = platform.worker.provisioning.provision(uuid.UUID(shop.tenant_id))
    probe.armed = False

    # Then every Asaas call ran with nothing held, and the shop is provisioned once
    assert outcome == "provisioned"
    assert probe.calls >= 4
    assert probe.held == []
    assert platform.subscription_of(shop)["id"]
    assert _rows(
        database,
        "select asaas_subscription_id is not null, provisioning_until from tenant_subscriptions "
        "where tenant_id = %s",
        shop.tenant_id,
    ) == [(True, None)]
    # And a second delivery of ShopSignedUp finds it done
    assert platform.worker.provisioning.provision(uuid.UUID(shop.tenant_id)) == "already_provisioned"


def test_a_second_consumer_waits_while_one_is_provisioning_the_shop(
    client: Client, platform: Platform, probe: Probe, database: PgDatabase
) -> None:
    from assistec.services.billing.provisioning import ProvisioningBusy

    # Given a shop that signed up
    shop = signup(client)
    tenant_id = uuid.UUID(shop.tenant_id)
    second: list[Any] = []

    # When a second consumer (a duplicate ShopSignedUp) starts while the first is at Asaas
    def duplicate_delivery() -> None:
        try:
            second.append(platform.worker.provisioning.provision(tenant_id))
        except ProvisioningBusy as exc:
            second.append(exc)

    probe.during_call = duplicate_delivery
    probe.armed = True
    first = platform.worker.provisioning.provision(tenant_id)
    probe.armed = False

    # Then the second is refused (the queue tries it again later) and the first provisions once
    assert len(second) == 1
    assert isinstance(second[0], ProvisioningBusy)
    assert first == "provisioned"
    assert probe.held == []
    platform.subscription_of(shop)  # exactly one subscription at Asaas under the shop's reference
    assert platform.worker.provisioning.provision(tenant_id) == "already_provisioned"


def test_a_platform_payment_is_applied_with_no_lock_held_while_asaas_is_asked(
    client: Client, platform: Platform, probe: Probe, database: PgDatabase
) -> None:
    # Given a provisioned shop with its first invoice at Asaas
    shop = signup(client)
    assert platform.provision(shop) == "provisioned"
    invoice = platform.payments_of(shop)[0]

    # When the shop pays it and the consumer applies the platform's webhook
    probe.armed = True
    outcomes = platform.pay(invoice["id"])
    probe.armed = False

    # Then Asaas was read (the payment, the subscription) with nothing held
    assert outcomes
    assert probe.calls >= 2
    assert probe.held == []


class _Countdown(LambdaContext):
    """A Lambda context whose remaining time is read from a script, one value per question."""

    def __init__(self, remaining_ms: list[int]) -> None:
        super().__init__(function_name="assistec-payments-consumer")
        self._remaining = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining.pop(0) if len(self._remaining) > 1 else self._remaining[0]


def _sqs_event(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:sa-east-1:111111111111:assistec-payments",
                "awsRegion": "sa-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def test_a_batch_stops_taking_records_when_the_time_left_is_below_a_records_worst_case(
    client: Client, asaas: Any, queue: FakeQueue, platform: Platform, database: PgDatabase, api_root: Any
) -> None:
    from assistec.handlers import payments_consumer
    from assistec.wiring import workers

    # Given three shops' paid charges whose webhooks wait in the queue
    bodies, charges = [], []
    for _ in range(3):
        shop, _, pix = _paid_without_webhook_applied(client, asaas, queue)
        [(event_id,), *_] = _rows(
            database,
            "select event_id from webhook_inbox where event = 'PAYMENT_RECEIVED' and payment_id = %s "
            "order by received_at",
            pix["asaas_payment_id"],
        )
        bodies.append({"tenant_id": shop.tenant_id, "event_id": event_id})
        charges.append(pix["id"])
        queue.messages.clear()  # stored, unapplied: the batch below carries them
    event = _sqs_event(bodies)
    platform.worker.payments_cipher = api_root.payments_cipher  # the shops' keys, as the API stored them

    # When the consumer gets them in one batch with time for one record's worst case only
    worst_ms = int((payments_consumer.EVENT_WORST_CASE_S + 2.0) * 1000)
    context = _Countdown([worst_ms + 5_000, worst_ms - 1, worst_ms - 1])
    workers.install(platform.worker)
    try:
        answer = payments_consumer.handler(event, context)
    finally:
        workers.install(None)

    # Then the first was applied and the two it had no time for go back to SQS, untouched
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    statuses = dict(_rows(database, "select id::text, status from charges where id::text = any(%s)", charges))
    assert [statuses[c] for c in charges] == ["paid", "pending", "pending"]


def test_the_daily_run_reads_asaas_with_no_lock_and_no_transaction_open(
    client: Client, platform: Platform, probe: Probe
) -> None:
    from tests.integration.billing_fixtures import _billing

    # Given a suspended shop whose payment's webhooks never arrived
    shop = signup(client)
    platform.provision(shop)
    invoice = platform.payments_of(shop)[0]
    platform.overdue(invoice["id"], days=12)
    platform.sim.pay_by_id(invoice["id"])
    platform.queue.messages.clear()

    # When the daily run re-reads the shop's subscription at Asaas
    probe.armed = True
    report = platform.worker.dunning.run(only=[uuid.UUID(shop.tenant_id)])
    probe.armed = False

    # Then Asaas was read with nothing held, and the shop is active again
    assert (report.synced, report.reactivated) == (1, 1)
    assert probe.calls >= 2
    assert probe.held == []
    assert _billing(client, shop)["status"] == "active"


def test_changing_plan_and_cancelling_ask_asaas_with_no_lock_and_no_transaction_open(
    client: Client, platform: Platform, probe: Probe
) -> None:
    from tests.integration.billing_fixtures import _billing

    # Given a provisioned shop
    shop = signup(client)
    platform.provision(shop)
    version = _billing(client, shop)["version"]

    # When the owner changes plan, then cancels (each changes the subscription at Asaas)
    probe.armed = True
    status, changed, _ = client.call(
        "PUT", "/billing/plan", shop.access_token, body={"plan": "profissional", "version": version}
    )
    assert status == 200, changed
    calls_for_the_plan = probe.calls
    status, cancelled, _ = client.call(
        "POST", "/billing/cancel", shop.access_token, body={"version": changed["version"]}
    )
    probe.armed = False

    # Then every Asaas call ran with nothing held, and both took effect
    assert status == 200, cancelled
    assert calls_for_the_plan >= 2
    assert probe.calls > calls_for_the_plan
    assert probe.held == []
    assert platform.subscription_of(shop)["value"] == 149.90
    assert _billing(client, shop)["plan"]["code"] == "profissional"
