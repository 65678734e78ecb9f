"""The reconciliation past one invocation (issue 10 §4): the hourly fan-out enqueues one message per
shop due, the shops reconciled longest ago (never first) first; the per-shop worker (SQS, partial
batch failures) reconciles one shop and records when, so a run cut short resumes where it stopped;
a duplicate message finds the shop done; an Asaas payment with no charge here is recorded once, not
every hour.

Through the services and the handlers, the offline Asaas simulator, the real database."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from tests.conftest import LambdaContext, PgDatabase
from tests.integration.conftest import Client, FakeQueue, signup
from tests.integration.payment_helpers import KEY, _rows, approved_order, charge, connect


@dataclass
class FakeShopQueue:
    """The reconciliation queue's SendMessageBatch contract: the shops, in the order sent."""

    sent: list[uuid.UUID] = field(default_factory=list)

    def send_shops(self, tenant_ids: list[uuid.UUID]) -> None:
        self.sent.extend(tenant_ids)


class _Context(LambdaContext):
    def get_remaining_time_in_millis(self) -> int:
        return 600_000  # the worker's timeout is 15 minutes; ten left is plenty for two small shops


@pytest.fixture
def reconciliation(api_root: Any, asaas: Any) -> Any:
    from assistec.services.payments.reconcile import Reconciliation

    return Reconciliation(api_root.work, api_root.payments)


def _connected_shop(client: Client) -> uuid.UUID:
    shop = signup(client)
    connect(client, shop)
    return uuid.UUID(shop.tenant_id)


def test_the_fan_out_sends_never_reconciled_shops_first_then_the_oldest(
    client: Client, reconciliation: Any, database: PgDatabase
) -> None:
    # Given four shops: reconciled 3 h ago, never, 2 h ago, and 5 minutes ago
    old, never, older, fresh = (_connected_shop(client) for _ in range(4))
    with psycopg.connect(database.superuser_url) as conn:
        for tenant_id, ago in ((old, "3 hours"), (older, "2 hours"), (fresh, "5 minutes")):
            conn.execute(
                "update payment_accounts set last_reconciled_at = now() - %s::interval where tenant_id = %s",
                (ago, tenant_id),
            )

    # When the hourly fan-out runs
    queue = FakeShopQueue()
    enqueued = reconciliation.fan_out(queue)

    # Then the shop never reconciled comes first, then the one reconciled longest ago; the shop
    # reconciled minutes ago is not due (other tests' shops may be enqueued too, in the same order)
    ours = [t for t in queue.sent if t in {old, never, older, fresh}]
    assert ours == [never, old, older]
    assert enqueued == len(queue.sent)


def test_a_fan_out_cut_short_resumes_with_the_shops_it_did_not_reach(
    client: Client, reconciliation: Any, database: PgDatabase, queue: FakeQueue
) -> None:
    # Given every shop reconciled just now but three due ones
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute("update payment_accounts set last_reconciled_at = now()")
    shops = [_connected_shop(client) for _ in range(3)]

    # When a fan-out reaches only two of them, and those two are reconciled
    first = FakeShopQueue()
    reconciliation.fan_out(first, limit=2)
    assert len(first.sent) == 2
    for tenant_id in first.sent:
        assert reconciliation.shop(tenant_id).shops == 1

    # Then the next fan-out starts with the shop the first did not reach
    second = FakeShopQueue()
    reconciliation.fan_out(second, limit=2)
    assert second.sent == [t for t in shops if t not in first.sent]


def test_a_duplicate_message_finds_the_shop_recently_reconciled(
    client: Client, reconciliation: Any, asaas: Any
) -> None:
    # Given a shop reconciled by its message
    tenant_id = _connected_shop(client)
    assert reconciliation.shop(tenant_id).shops == 1

    # When the same shop's message comes again (SQS at least once, two fan-outs overlapping)
    again = reconciliation.shop(tenant_id)

    # Then it is skipped without asking Asaas
    assert (again.shops, again.skipped) == (0, 1)


def test_an_unknown_asaas_payment_is_recorded_once_not_every_run(
    client: Client, reconciliation: Any, asaas: Any, database: PgDatabase
) -> None:
    # Given a payment Asaas says was paid, carrying our reference, with no charge here
    tenant_id = _connected_shop(client)
    customer = asaas.handle("POST", "/v3/customers", {}, {"name": "Cliente Avulso"}, KEY)[1]["id"]
    payment = asaas.handle(
        "POST",
        "/v3/payments",
        {},
        {"customer": customer, "billingType": "PIX", "value": 10.0, "externalReference": "assistec:x:1"},
        KEY,
    )[1]
    asaas._deliver = lambda url, token, body: 500  # its webhooks are of no interest here
    asaas.pay_by_id(payment["id"])

    # When the shop is reconciled three times (three hours)
    reports = [reconciliation.shop(tenant_id, recent_s=0) for _ in range(3)]

    # Then the unknown payment was recorded once, and seen three times
    assert [(r.mismatches, r.still_open) for r in reports] == [(1, 0), (0, 1), (0, 1)]
    assert _rows(
        database,
        "select charge_id, local_status, remote_status, repaired, times_seen from reconciliation_mismatches "
        "where asaas_payment_id = %s",
        payment["id"],
    ) == [(None, None, "RECEIVED", False, 3)]


def test_the_shop_worker_reconciles_each_message_and_returns_the_failed_ones(
    client: Client,
    asaas: Any,
    queue: FakeQueue,
    api_root: Any,
    database: PgDatabase,
    bus: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assistec.handlers import reconcile_shop
    from assistec.observability import metrics
    from assistec.settings import ConsumerSettings
    from assistec.wiring import workers

    # Given a shop whose paid charge's webhook was lost, and a shop whose account is gone
    shop = signup(client)
    connect(client, shop)
    order = approved_order(client, shop, 9000)
    _, pix = charge(client, shop, order)
    queue.drain()
    asaas._deliver = lambda url, token, body: 500
    asaas.pay_by_id(pix["asaas_payment_id"])
    broken = _connected_shop(client)
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute("update payment_accounts set api_key_ciphertext = 'x' where tenant_id = %s", (broken,))
    worker = workers.WorkerRoot(ConsumerSettings())  # type: ignore[call-arg]
    worker.database = api_root.database
    worker.event_bus = bus
    worker.payments_cipher = api_root.payments_cipher
    worker.asaas_client = api_root.asaas_client
    event = {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": json.dumps({"tenant_id": str(t)}),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:sa-east-1:111111111111:assistec-reconcile",
                "awsRegion": "sa-east-1",
            }
            for i, t in enumerate([uuid.UUID(shop.tenant_id), broken])
        ]
    }

    # As the functions' environment sets it
    monkeypatch.setattr(metrics.provider, "namespace", "AssistecTest")

    # When the per-shop worker gets both in one batch
    workers.install(worker)
    try:
        answer = reconcile_shop.handler(event, _Context(function_name="assistec-reconcile-shop"))
    finally:
        workers.install(None)

    # Then the first shop is repaired and marked reconciled; the broken one goes back to SQS alone
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert _rows(database, "select status from charges where id = %s", pix["id"]) == [("paid",)]
    reconciled = dict(
        _rows(
            database,
            "select tenant_id::text, last_reconciled_at is not null from payment_accounts "
            "where tenant_id = any(%s::uuid[])",
            [shop.tenant_id, str(broken)],
        )
    )
    assert reconciled == {shop.tenant_id: True, str(broken): False}


def test_the_hourly_handler_fans_out_through_the_reconciliation_queue(
    client: Client, api_root: Any, asaas: Any, bus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.handlers import reconcile
    from assistec.observability import metrics
    from assistec.settings import ConsumerSettings
    from assistec.wiring import workers

    # Given a shop due for reconciliation and the workers' root with the queue replaced
    tenant_id = _connected_shop(client)
    worker = workers.WorkerRoot(ConsumerSettings())  # type: ignore[call-arg]
    worker.database = api_root.database
    worker.reconcile_queue = FakeShopQueue()
    monkeypatch.setattr(metrics.provider, "namespace", "AssistecTest")

    # When the rule runs the fan-out function
    workers.install(worker)
    try:
        answer = reconcile.handler({}, _Context(function_name="assistec-reconciler"))
    finally:
        workers.install(None)

    # Then every shop due went to the queue, this one among them
    assert tenant_id in worker.reconcile_queue.sent
    assert answer == {"enqueued": len(worker.reconcile_queue.sent)}


def test_the_migration_keeps_one_row_per_unrepaired_difference_recorded_every_hour(
    empty_database: PgDatabase,
) -> None:
    from assistec.db import migrate

    # Given a database before 0017 where the hourly runs recorded the same unknown payment three
    # times (and a repaired difference, which stays as it is)
    before = [m for m in migrate.load_migrations() if m.version < 17]
    with psycopg.connect(empty_database.migrator_url, autocommit=True) as conn:
        migrate.apply(conn, before)
    tenant = uuid.uuid4()
    with psycopg.connect(empty_database.superuser_url) as conn:
        conn.execute(
            "insert into tenants (id, name, cnpj, email, phone) "
            "values (%s, 'Loja Antiga', '11222333000181', 'antiga@exemplo.com.br', '+5511987654321')",
            (tenant,),
        )
        for hours_ago in (3, 2, 1):
            conn.execute(
                "insert into reconciliation_mismatches (tenant_id, asaas_payment_id, local_status, "
                "remote_status, repaired, found_at) "
                "values (%s, 'pay_unknown', null, 'RECEIVED', false, now() - make_interval(hours => %s))",
                (tenant, hours_ago),
            )
        conn.execute(
            "insert into reconciliation_mismatches (tenant_id, asaas_payment_id, local_status, "
            "remote_status, repaired) values (%s, 'pay_fixed', 'pending', 'RECEIVED', true)",
            (tenant,),
        )

    # When 0017 is applied (as the migrator, row-level security forced on the table)
    with psycopg.connect(empty_database.migrator_url, autocommit=True) as conn:
        applied = migrate.apply(conn)
    assert [m.version for m in applied] == [m.version for m in migrate.load_migrations() if m.version >= 17]

    # Then the unknown payment is one row, first found three hours ago, seen three times, last an
    # hour ago; the repaired difference is untouched
    with psycopg.connect(empty_database.superuser_url) as conn:
        rows = conn.execute(
            "select asaas_payment_id, times_seen, round(extract(epoch from now() - found_at) / 3600), "
            "round(extract(epoch from now() - last_seen_at) / 3600) from reconciliation_mismatches "
            "order by asaas_payment_id"
        ).fetchall()
    assert [(r[0], r[1], int(r[2]), int(r[3])) for r in rows] == [
        ("pay_fixed", 1, 0, 0),
        ("pay_unknown", 3, 3, 1),
    ]
