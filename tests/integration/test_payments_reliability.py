"""10,000 Asaas webhook deliveries, 30% of them duplicates, in shuffled order, through the real
ingress (the API handler) and the consumer: every charge ends in Asaas's final state and every
effect (a charge changing state) happens exactly once."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, FakeQueue, rest_event, signup
from tests.integration.payment_helpers import KEY, approved_order, connect

DELIVERIES = 10_000
DUPLICATE_SHARE = 0.30


# 10,000 deliveries, bound by PostgreSQL round trips: 216 s in a clean-clone run while every commit
# waited for the WAL flush; 59 s alone on two cores beside other work since the test databases'
# commits do not (tests/conftest.py). The limit leaves room for a loaded machine.
@pytest.mark.timeout(900)
def test_shuffled_duplicated_deliveries_converge_with_one_effect_each(
    client: Client, asaas: Any, queue: FakeQueue, bus: FakeBus, database: PgDatabase
) -> None:
    from assistec.domain import payments as rules

    rng = random.Random(20261126)
    shop = signup(client)
    account = connect(client, shop)
    path = account["webhook_url"].split("/v1", 1)[1]
    headers = {"asaas-access-token": account["webhook_token"]}
    orders = [approved_order(client, shop, 10000) for _ in range(20)]

    # Asaas's side: charges made through its API, then paid, refunded, overdue, deleted...; their
    # webhooks are captured instead of delivered, to be replayed below.
    captured: list[dict[str, Any]] = []
    asaas._deliver = lambda url, token, body: captured.append(json.loads(body)) or 200  # type: ignore[method-assign]
    unique = int(DELIVERIES * (1 - DUPLICATE_SHARE))
    sim = asaas._accounts[KEY]
    customer = asaas.handle("POST", "/v3/customers", {}, {"name": "Cliente Carga"}, KEY)[1]["id"]
    charges: list[tuple[str, str, int]] = []  # (order id, asaas payment id, value cents)
    with psycopg.connect(database.superuser_url) as conn:
        while len(captured) < unique:
            order = orders[len(charges) % len(orders)]
            value = rng.choice([1500, 9990, 25000])
            reference = f"assistec:{order['id']}:{len(charges) + 10}"
            payment = asaas.handle(
                "POST",
                "/v3/payments",
                {},
                {
                    "customer": customer,
                    "billingType": "PIX",
                    "value": value / 100,
                    "externalReference": reference,
                },
                KEY,
            )[1]
            conn.execute(
                "insert into charges (tenant_id, order_id, attempt, external_reference, billing_type, "
                "value_cents, due_date, asaas_payment_id, asaas_status) "
                "values (%s, %s, %s, %s, 'PIX', %s, current_date, %s, 'PENDING')",
                (shop.tenant_id, order["id"], len(charges) + 10, reference, value, payment["id"]),
            )
            charges.append((order["id"], payment["id"], value))
            path_kind = rng.random()
            if path_kind < 0.2 or 0.6 <= path_kind < 0.75:
                asaas.handle("POST", f"/_sim/payments/{payment['id']}/overdue", {}, None, None)
            if path_kind < 0.6:
                asaas.pay(sim, sim.payments[payment["id"]])
                if path_kind >= 0.45:
                    asaas.handle("POST", f"/v3/payments/{payment['id']}/refund", {}, {}, KEY)
            elif path_kind >= 0.9:
                asaas.handle("DELETE", f"/v3/payments/{payment['id']}", {}, None, KEY)
    captured = captured[:unique]
    deliveries = captured + [rng.choice(captured) for _ in range(DELIVERIES - len(captured))]
    rng.shuffle(deliveries)
    assert len(deliveries) == DELIVERIES

    # Our side: every delivery through the webhook route, then the consumer, in arrival order
    answers = Counter()
    for envelope in deliveries:
        response = client.invoke(rest_event("POST", path, raw_body=json.dumps(envelope), headers=headers))
        answers[(response["statusCode"], response["body"])] += 1
    assert answers == {(200, "{}"): DELIVERIES}
    assert len(queue.messages) == len({e["id"] for e in deliveries})  # duplicates never enqueued
    outcomes = Counter(queue.drain())
    assert set(outcomes) <= {"applied", "no_change"}

    expected = {pid: rules.state_of(sim.payments[pid]) for _, pid, _ in charges}
    with psycopg.connect(database.superuser_url) as conn:
        actual = dict(
            conn.execute(
                "select asaas_payment_id, status from charges "
                "where tenant_id = %s and asaas_payment_id is not null",
                (shop.tenant_id,),
            ).fetchall()
        )
        paid_by_order = dict(
            conn.execute(
                "select id::text, paid_cents from service_orders where tenant_id = %s", (shop.tenant_id,)
            ).fetchall()
        )
    assert {pid: actual[pid] for pid in expected} == expected
    # Exactly one effect per state a charge reached: no (charge, state) twice among the events
    changes = Counter((e["charge_id"], e["status"]) for e in bus.details("ChargeStatusChanged"))
    assert changes
    assert max(changes.values()) == 1
    # What each order received is the sum of its paid charges, no more
    for order in orders:
        owed = sum(v for oid, pid, v in charges if oid == order["id"] and expected[pid] == "paid")
        assert paid_by_order[order["id"]] == owed
