"""The shops' subscriptions at scale, in-process against the local PostgreSQL and the in-process
Asaas simulator: provisioning (customer + subscription + first invoice), the daily dunning run over
shops in good standing (no Asaas call) and with a fifth of them late (re-read from Asaas, status
change, one e-mail each), and the API's per-request billing gate without its cache.

What ops need from it: how many shops one 15-minute dunning Lambda gets through. Reported, never
asserted. The last two rows are transactions per second (the API's gate costs no extra round trip)."""

from __future__ import annotations

import os
import secrets
import string
import time
import uuid
from typing import Any

import psycopg
import pytest

from tests.bench.conftest import report
from tests.conftest import PgDatabase
from tests.integration.conftest import FakeBus, configure_api

SHOPS = 100 if os.environ.get("BENCH_RUNS") == "1" else 2000
LATE_SHARE = 5  # one shop in five is late


class Mailer:
    def __init__(self) -> None:
        self.sent = 0

    def send(self, mail: Any) -> str:
        self.sent += 1
        return f"bench-{self.sent}"


def _cnpj() -> str:
    alphabet = string.digits + string.ascii_uppercase
    return "".join(secrets.choice(alphabet) for _ in range(12)) + f"{secrets.randbelow(100):02d}"


def test_provisioning_dunning_and_gate_throughput(
    database: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asaas_sim import AsaasSimulator

    from assistec.integrations.asaas import AsaasClient
    from assistec.integrations.platform import PlatformAccount
    from assistec.settings import ConsumerSettings
    from assistec.wiring.workers import WorkerRoot

    configure_api(monkeypatch, database.app_url)
    sim = AsaasSimulator(deliver=lambda url, token, body: 200)
    account = PlatformAccount(api_key=f"$aact_bench_platform_{uuid.uuid4().hex}", webhook_token="t" * 32)
    mailer = Mailer()
    # The payments workers' root (the consumer provisions, the daily run duns), with the fakes
    worker: Any = WorkerRoot(ConsumerSettings())  # type: ignore[call-arg]
    worker.event_bus = FakeBus()
    worker.mailer = mailer
    worker.platform_account = lambda: account
    worker.asaas_client = lambda env, key: AsaasClient(
        key, base_url="https://asaas.sim/v3", transport=sim.transport()
    )
    provisioning, dunning = worker.provisioning, worker.dunning
    shops = [uuid.uuid4() for _ in range(SHOPS)]
    with psycopg.connect(database.superuser_url) as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into tenants (id, name, cnpj, email, phone) values (%s, %s, %s, %s, '+5511987654321')",
            [(s, f"Loja {i}", _cnpj(), f"bench-{s.hex[:12]}@exemplo.com.br") for i, s in enumerate(shops)],
        )
        cur.executemany(
            "insert into tenant_subscriptions (tenant_id, plan_code, trial_ends_on) "
            "values (%s, 'essencial', current_date + 14)",
            [(s,) for s in shops],
        )

    t0 = time.perf_counter()
    for shop in shops:
        assert provisioning.provision(shop) == "provisioned"
    provision_rate = SHOPS / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    calm = dunning.run(only=list(shops))
    calm_rate = SHOPS / (time.perf_counter() - t0)
    assert (calm.shops, calm.synced, calm.notices, calm.errors) == (SHOPS, 0, 0, 0)

    # A fifth of the shops' first invoices came due three days ago (both sides agree on the date)
    # and Asaas's OVERDUE webhooks were lost: the run must ask Asaas
    sim_account = sim._accounts[account.api_key]
    late = shops[::LATE_SHARE]
    references = {f"assistec-shop:{s}" for s in late}
    with psycopg.connect(database.superuser_url) as conn:
        for payment in list(sim_account.payments.values()):
            if payment["externalReference"] in references:
                sim.overdue(sim_account, payment, days=3)
                conn.execute(
                    "update subscription_invoices set due_date = %s where asaas_payment_id = %s",
                    (payment["dueDate"], payment["id"]),
                )
    t0 = time.perf_counter()
    busy = dunning.run(only=list(shops))
    busy_rate = SHOPS / (time.perf_counter() - t0)
    assert (busy.synced, busy.past_due, busy.notices, busy.errors) == (len(late), len(late), len(late), 0)
    assert mailer.sent == len(late)

    # The API's gate rides on entering the shop: one statement sets the tenant and reads the status.
    # Against the bare set_config it replaces, per transaction (BEGIN, enter, COMMIT).
    def enter_rate(statement: str) -> float:
        # Connected as the functions connect (through the pooler, no server-side prepared statements).
        with psycopg.connect(database.app_url, autocommit=True, prepare_threshold=None) as conn:
            t0 = time.perf_counter()
            for _ in range(3):
                for shop in shops:
                    with conn.transaction():
                        conn.execute(statement, (str(shop), "")).fetchone()
            return 3 * SHOPS / (time.perf_counter() - t0)

    bare_rate = enter_rate(
        "select set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true)"
    )
    gate_rate = enter_rate("select enter_tenant(%s, %s)")

    rows: list[dict[str, Any]] = [
        {"path": "provision (customer + subscription + invoice)", "shops_per_s": round(provision_rate)},
        {"path": "dunning, all in good standing", "shops_per_s": round(calm_rate)},
        {
            "path": f"dunning, 1 in {LATE_SHARE} late (re-read, status, e-mail)",
            "shops_per_s": round(busy_rate),
        },
        {"path": "enter a shop: set_config only (transactions/s)", "shops_per_s": round(bare_rate)},
        {"path": "enter a shop + billing status (the gate)", "shops_per_s": round(gate_rate)},
    ]
    for row in rows:
        row["shops"] = SHOPS
    report("dunning", rows)
    worker.close()
