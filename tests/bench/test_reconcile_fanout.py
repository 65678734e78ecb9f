"""How many shops the fanned-out reconciliation handles per hour (issue 10 §4), in-process against
the local PostgreSQL and the offline Asaas simulator.

SHOPS shops, each with its own Asaas account and CHARGES open charges (one in five paid at Asaas with
its webhook lost, so the run repairs something): the fan-out enqueues them, then WORKERS threads
reconcile one shop per message, as the queue's event source does with its maximum concurrency
(infra: RECONCILE_CONCURRENCY). Each Asaas call is served by the simulator after LATENCY_S (0: the
code and the database alone; 0.15 s: about what one call to Asaas's API costs from São Paulo).

Reported, never asserted: shops per hour = shops / elapsed * 3600.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from queue import Empty, SimpleQueue
from typing import Any

import httpx
import psycopg
import pytest

from tests.bench.conftest import report
from tests.conftest import PgDatabase
from tests.integration.conftest import FakeBus, FakeCipher, configure_api

QUICK = os.environ.get("BENCH_RUNS") == "1"
SHOPS = 20 if QUICK else 200
CHARGES = 10
WORKERS = 5  # the worker's maximum concurrency in the stack (capabilities/payments.py)
LATENCIES_S = (0.0,) if QUICK else (0.0, 0.15)


class _Slow(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, latency_s: float) -> None:
        self.inner, self.latency_s = inner, latency_s

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.latency_s:
            time.sleep(self.latency_s)
        return self.inner.handle_request(request)


class _Queue:
    def __init__(self) -> None:
        self.sent: list[uuid.UUID] = []

    def send_shops(self, tenant_ids: list[uuid.UUID]) -> None:
        self.sent.extend(tenant_ids)


def _seed(database: PgDatabase, sim: Any, cipher: FakeCipher) -> list[uuid.UUID]:
    """SHOPS shops with an Asaas account each (its key stored as the API stores it) and CHARGES charges."""
    from validate_docbr import CNPJ

    shops = []
    with psycopg.connect(database.superuser_url) as conn:
        for s in range(SHOPS):
            tenant = uuid.uuid4()
            key = f"$aact_bench_reconcile_{tenant.hex}"
            conn.execute(
                "insert into tenants (id, name, cnpj, email, phone) "
                "values (%s, %s, %s, %s, '+5511987654321')",
                (tenant, f"Loja Bench {s}", CNPJ().generate(), f"bench-{tenant.hex[:12]}@exemplo.com.br"),
            )
            conn.execute(
                "insert into payment_accounts (tenant_id, environment, api_key_ciphertext, webhook_key, "
                "webhook_token_hash) values (%s, 'sandbox', %s, %s, %s)",
                (
                    tenant,
                    cipher.encrypt(key, {"tenant_id": str(tenant), "purpose": "asaas-api-key"}),
                    f"{tenant}.{secrets.token_hex(8)}",
                    hashlib.sha256(b"bench").digest(),
                ),
            )
            customer = conn.execute(
                "insert into customers (tenant_id, name, phone) values (%s, 'Carga', '+5511999990000') "
                "returning id",
                (tenant,),
            ).fetchone()[0]  # type: ignore[index]
            device = conn.execute(
                "insert into devices (tenant_id, customer_id, type, brand, model) "
                "values (%s, %s, 'phone', 'X', 'Y') returning id",
                (tenant, customer),
            ).fetchone()[0]  # type: ignore[index]
            order = conn.execute(
                "insert into service_orders (tenant_id, number, customer_id, device_id, reported_problem, "
                "tracking_token) values (%s, 1, %s, %s, 'Carga', %s) returning id",
                (tenant, customer, device, f"{tenant}.bench"),
            ).fetchone()[0]  # type: ignore[index]
            asaas_customer = sim.handle("POST", "/v3/customers", {}, {"name": "Carga"}, key)[1]["id"]
            for c in range(CHARGES):
                reference = f"assistec:{order}:{c + 1}"
                payment = sim.handle(
                    "POST",
                    "/v3/payments",
                    {},
                    {
                        "customer": asaas_customer,
                        "billingType": "PIX",
                        "value": 10,
                        "externalReference": reference,
                    },
                    key,
                )[1]
                if c % 5 == 0:
                    sim.pay(sim._accounts[key], sim._accounts[key].payments[payment["id"]])
                conn.execute(
                    "insert into charges (tenant_id, order_id, attempt, external_reference, billing_type, "
                    "value_cents, due_date, asaas_payment_id, asaas_status) "
                    "values (%s, %s, %s, %s, 'PIX', 1000, current_date, %s, 'PENDING')",
                    (tenant, order, c + 1, reference, payment["id"]),
                )
            shops.append(tenant)
        # Only these shops are due: the run measures them alone
        conn.execute(
            "update payment_accounts set last_reconciled_at = now() where not (tenant_id = any(%s))", (shops,)
        )
    return shops


def _environment(cipher: FakeCipher, transport: httpx.BaseTransport) -> Any:
    """One worker's execution environment: its own root (its own database connection)."""
    from assistec.integrations.asaas import AsaasClient
    from assistec.services.payments.reconcile import Reconciliation
    from assistec.settings import ApiSettings
    from assistec.wiring import api as wiring

    root: Any = wiring.ApiRoot(ApiSettings())  # type: ignore[call-arg]
    root.payments_cipher = cipher
    root.event_bus = FakeBus()
    root.asaas_client = lambda env, key: AsaasClient(
        key, base_url="https://asaas.sim/v3", transport=transport
    )
    return Reconciliation(root.work, root.payments)


def _drain(reconciliation: Any, messages: SimpleQueue[uuid.UUID]) -> list[Any]:
    """One worker: the next shop's message, until none is left."""
    done: list[Any] = []
    while True:
        try:
            tenant_id = messages.get_nowait()
        except Empty:
            return done
        done.append(reconciliation.shop(tenant_id))


def _run(database: PgDatabase, latency_s: float) -> dict[str, Any]:
    from asaas_sim import AsaasSimulator

    sim = AsaasSimulator(deliver=lambda url, token, body: 500)  # the webhooks are lost
    cipher = FakeCipher()
    transport = _Slow(sim.transport(), latency_s)
    shops = _seed(database, sim, cipher)
    environments = [_environment(cipher, transport) for _ in range(WORKERS)]

    # The hourly fan-out, then WORKERS shops at a time, each worker taking the next message
    started = time.perf_counter()
    queue = _Queue()
    environments[0].fan_out(queue)
    fanned_out_s = time.perf_counter() - started
    assert set(queue.sent) == set(shops)
    messages: SimpleQueue[uuid.UUID] = SimpleQueue()
    for tenant_id in queue.sent:
        messages.put(tenant_id)
    with ThreadPoolExecutor(WORKERS) as pool:
        batches = list(pool.map(_drain, environments, [messages] * WORKERS))
    elapsed = time.perf_counter() - started
    reports = [r for batch in batches for r in batch]
    assert len(reports) == len(shops)
    return {
        "asaas_latency_s": latency_s,
        "shops": len(shops),
        "charges_per_shop": CHARGES,
        "workers": WORKERS,
        "fan_out_s": round(fanned_out_s, 3),
        "total_s": round(elapsed, 2),
        "s_per_shop_per_worker": round(elapsed * WORKERS / len(shops), 3),
        "shops_per_hour": int(len(shops) / elapsed * 3600),
        "repaired": sum(r.repaired for r in reports),
        "errors": sum(r.errors for r in reports),
    }


def test_reconciliation_shops_per_hour(database: PgDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    configure_api(monkeypatch, database.app_url)
    report("reconcile_fanout", [_run(database, latency_s) for latency_s in LATENCIES_S])
