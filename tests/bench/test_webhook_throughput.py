"""Asaas webhook ingress and consumer throughput, in-process against the local PostgreSQL.

Ingress: POST /webhooks/asaas/{key} through the API handler (token check, one transaction that
stores the event once, the queue hand-off) for distinct events, then the same events again
(duplicates). Consumer: applying each stored event (charge state change with the Asaas re-read
served by the in-process simulator, audit, outbox). Beside them, the bare INSERT the ingress
runs. Target (issue 5): >= 1,000 events/s ingress on this machine. Reported, never asserted.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import psycopg
import pytest

from tests.bench.conftest import report, run_parallel
from tests.conftest import LambdaContext, PgDatabase
from tests.integration.billing_fixtures import FakeMailer
from tests.integration.conftest import (
    FakeBus,
    FakeCipher,
    FakeQueue,
    configure_api,
    new_source_ip,
    rest_event,
)

EVENTS = 300 if os.environ.get("BENCH_RUNS") == "1" else 6000
PARALLEL = 4
KEY = "$aact_bench_" + "0" * 40


def test_webhook_ingress_and_consumer_throughput(
    database: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asaas_sim import AsaasSimulator

    from assistec.handlers import api as api_handler
    from assistec.integrations.asaas import AsaasClient
    from assistec.settings import ApiSettings
    from assistec.wiring import api as wiring

    configure_api(monkeypatch, database.app_url)
    queue, sim, context = FakeQueue(), AsaasSimulator(deliver=lambda url, token, body: 200), LambdaContext()
    root: Any = wiring.ApiRoot(ApiSettings())  # type: ignore[call-arg]
    root.payments_cipher = FakeCipher()
    root.payments_queue = queue
    root.event_bus = FakeBus()
    root.mailer = FakeMailer()  # signup's confirmation mail
    root.asaas_client = lambda env, key: AsaasClient(
        key, base_url="https://asaas.sim/v3", transport=sim.transport()
    )
    wiring.install(root)

    def call(method: str, path: str, token: str | None = None, **kwargs: Any) -> tuple[int, Any]:
        from tests.integration.conftest import authorize

        response = api_handler.handler(
            rest_event(method, path, authorizer=authorize(token) if token else None, **kwargs), context
        )
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    from validate_docbr import CNPJ

    email = f"bench-{time.time_ns()}@exemplo.com.br"
    status, _ = call(
        "POST",
        "/signup",
        body={
            "shop_name": "Bench Pagamentos",
            "cnpj": CNPJ().generate(),
            "email": email,
            "phone": "(11) 98765-4321",
            "owner_name": "Dona Bench",
            "password": "senha-forte-123",
        },
        source_ip=new_source_ip(),
    )
    assert status == 202
    status, shop = call("POST", f"/public/signup/{root.mailer.confirmation_token(email)}", body={})
    assert status == 201, shop
    status, account = call(
        "PUT", "/settings/payments", shop["access_token"], body={"api_key": KEY, "environment": "sandbox"}
    )
    assert status == 200, account
    path = account["webhook_url"].split("/v1", 1)[1]
    headers = {"asaas-access-token": account["webhook_token"]}
    # One order with EVENTS charges, each paid once in Asaas: EVENTS distinct PAYMENT_RECEIVED events
    customer = sim.handle("POST", "/v3/customers", {}, {"name": "Carga"}, KEY)[1]["id"]
    tenant = shop["tenant_id"]
    with psycopg.connect(database.superuser_url) as conn:
        customer_id = _one(
            conn,
            "insert into customers (tenant_id, name, phone) values (%s, 'Carga', '+5511999990000')",
            tenant,
        )
        device_id = _one(
            conn,
            "insert into devices (tenant_id, customer_id, type, brand, model) "
            "values (%s, %s, 'phone', 'X', 'Y')",
            tenant,
            customer_id,
        )
        order_id = _one(
            conn,
            "insert into service_orders (tenant_id, number, customer_id, device_id, reported_problem, "
            "tracking_token) values (%s, 1, %s, %s, 'Carga', %s)",
            tenant,
            customer_id,
            device_id,
            f"{tenant}.bench",
        )
        envelopes = []
        for i in range(EVENTS):
            payment = sim.handle(
                "POST", "/v3/payments", {}, {"customer": customer, "billingType": "PIX", "value": 10}, KEY
            )[1]
            sim.pay(sim._accounts[KEY], sim._accounts[KEY].payments[payment["id"]])
            conn.execute(
                "insert into charges (tenant_id, order_id, attempt, external_reference, billing_type, "
                "value_cents, due_date, asaas_payment_id) "
                "values (%s, %s, %s, %s, 'PIX', 1000, current_date, %s)",
                (tenant, order_id, i + 1, f"bench:{i}", payment["id"]),
            )
            envelopes.append(
                json.dumps(
                    {
                        "id": f"evt_bench_{time.time_ns()}_{i}",
                        "event": "PAYMENT_RECEIVED",
                        "dateCreated": "2026-11-26 10:00:00",
                        "payment": sim._accounts[KEY].payments[payment["id"]],
                    }
                )
            )

    def ingress(bodies: list[str]) -> float:
        t0 = time.perf_counter()
        for body in bodies:
            response = api_handler.handler(rest_event("POST", path, raw_body=body, headers=headers), context)
            assert response["statusCode"] == 200
        return len(bodies) / (time.perf_counter() - t0)

    half = EVENTS // 2
    new_rate = ingress(envelopes[:half])
    duplicate_rate = ingress(envelopes[:half])
    # Lambda runs the ingress in parallel environments: four processes, each its own connection
    root.database.close()
    parallel_rate = run_parallel(_ingress_worker, path, headers, envelopes[half:], workers=PARALLEL)
    with psycopg.connect(database.superuser_url) as conn:
        stored = conn.execute("select count(*) from webhook_inbox where tenant_id = %s", (tenant,)).fetchone()
    assert stored == (EVENTS,)
    for body in envelopes[half:]:  # the children's queue messages stayed in the children
        envelope = json.loads(body)
        queue.send(tenant, envelope["id"])
    assert len(queue.messages) == EVENTS
    t0 = time.perf_counter()
    outcomes = queue.drain()
    consumer_rate = EVENTS / (time.perf_counter() - t0)
    assert outcomes == ["applied"] * EVENTS

    # Connected as the functions connect (through the pooler, no server-side prepared statements).
    with psycopg.connect(database.app_url, prepare_threshold=None) as bare:
        t0 = time.perf_counter()
        for i in range(EVENTS):
            with bare.transaction():
                bare.execute("select set_config('app.tenant_id', %s, true)", (shop["tenant_id"],))
                bare.execute(
                    "select webhook_token_hash from payment_accounts "
                    "where tenant_id = %s and webhook_key = %s",
                    (shop["tenant_id"], path.rsplit("/", 1)[1]),
                ).fetchone()
                bare.execute(
                    "insert into webhook_inbox (tenant_id, event_id, event, payment_id, payload) "
                    "values (%s, %s, %s, %s, %s) on conflict do nothing",
                    (
                        shop["tenant_id"],
                        f"bare_{time.time_ns()}_{i}",
                        "PAYMENT_RECEIVED",
                        "pay_x",
                        envelopes[i],
                    ),
                )
        bare_rate = EVENTS / (time.perf_counter() - t0)
    report(
        "webhook_throughput",
        [
            {"path": "ingress, new events (API handler)", "events_per_s": round(new_rate), "events": half},
            {
                "path": "ingress, duplicates (API handler)",
                "events_per_s": round(duplicate_rate),
                "events": half,
            },
            {
                "path": f"ingress, new events, {PARALLEL} processes (API handler each)",
                "events_per_s": round(parallel_rate),
                "events": EVENTS - half,
            },
            {
                "path": "consumer, apply with Asaas re-read",
                "events_per_s": round(consumer_rate),
                "events": EVENTS,
            },
            {"path": "bare SQL of the ingress", "events_per_s": round(bare_rate), "events": EVENTS},
        ],
    )
    wiring.install(None)


def _one(conn: psycopg.Connection[Any], statement: str, *params: Any) -> Any:
    row = conn.execute(statement + " returning id", params).fetchone()
    assert row is not None
    return row[0]


def _ingress_worker(path: str, headers: dict[str, str], bodies: list[str], start: Any) -> None:
    """One process of the parallel ingress (spawned: a fresh interpreter, its own connection; the
    environment, API settings included, is inherited)."""
    from assistec.handlers import api as api_handler
    from assistec.wiring.api import root

    queue = FakeQueue()
    root().payments_queue = queue
    context = LambdaContext()
    api_handler.handler(rest_event("POST", path, raw_body=bodies[0], headers=headers), context)  # warm
    start.wait()
    for body in bodies[1:]:
        response = api_handler.handler(rest_event("POST", path, raw_body=body, headers=headers), context)
        assert response["statusCode"] == 200
