"""WhatsApp inbound (issue 11 §9): a customer's message → the bot's reply queued, in-process against the
local PostgreSQL, beside the bare SQL of the same work.

Ingress: POST /webhooks/evolution/{key} through the API handler (secret and instance checked, the
delivery stored once, the queue hand-off), each message from a different customer. Consumer: each
stored delivery applied (conversation found or made, the message stored, the bot's answer from the
shop's price rules, the reply queued). Bare: the same rows written by plain SQL statements in the
same transactions. Target: >= 500 messages/s ingress and p99 <= 50 ms to a queued reply. Reported,
never asserted (figures in .local/bench/whatsapp_inbound.json)."""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import psycopg
import pytest

from tests.bench.conftest import report, run_parallel
from tests.conftest import LambdaContext, PgDatabase
from tests.integration.billing_fixtures import FakeMailer
from tests.integration.conftest import FakeBus, FakeCipher, configure_api, new_source_ip, rest_event

MESSAGES = 200 if os.environ.get("BENCH_RUNS") == "1" else 3000
PARALLEL = 4


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def test_inbound_message_to_a_queued_reply(database: PgDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistec.handlers import api as api_handler
    from assistec.settings import ApiSettings
    from assistec.wiring import api as wiring
    from tests.integration.whatsapp_helpers import build_world, webhook_secret

    configure_api(monkeypatch, database.app_url)
    root: Any = wiring.ApiRoot(ApiSettings())  # type: ignore[call-arg]
    root.event_bus = FakeBus()
    root.mailer = FakeMailer()
    root.payments_cipher = FakeCipher()
    wiring.install(root)
    context = LambdaContext()

    def api(event: dict[str, Any]) -> dict[str, Any]:
        return api_handler.handler(event, context)

    def call(method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        from tests.integration.conftest import authorize

        response = api(rest_event(method, path, authorizer=authorize(token) if token else None, **kwargs))
        assert response["statusCode"] in (200, 201, 202), response["body"]
        return json.loads(response["body"]) if response.get("body") else None

    world = build_world(root, api)
    from validate_docbr import CNPJ

    email = f"bench-wa-{time.time_ns()}@exemplo.com.br"
    call(
        "POST",
        "/signup",
        body={
            "shop_name": "Bench WhatsApp",
            "cnpj": CNPJ().generate(),
            "email": email,
            "phone": "(11) 98765-4321",
            "owner_name": "Dona Bench",
            "password": "senha-forte-123",
        },
        source_ip=new_source_ip(),
    )
    shop = call("POST", f"/public/signup/{root.mailer.confirmation_token(email)}", body={})
    token = shop["access_token"]
    call(
        "POST",
        "/price-rules",
        token,
        body={
            "service": "Troca de tela",
            "device_type": "phone",
            "brand": "Apple",
            "model": "iPhone 11",
            "price_cents": 45000,
        },
    )
    instance = call("POST", "/whatsapp/instance", token, body={})
    world.sim.connect_by_name(instance["name"], number="5511955550000")
    world.drain()
    path = instance["webhook_url"].split("/v1", 1)[1]
    headers = {"x-assistec-webhook-secret": webhook_secret(world, instance["name"])}

    def envelope(i: int, run: str) -> str:
        return json.dumps(
            {
                "event": "messages.upsert",
                "instance": instance["name"],
                "data": {
                    "key": {
                        "remoteJid": f"55119{i:08d}@s.whatsapp.net",
                        "fromMe": False,
                        "id": f"{run}{i:08d}",
                    },
                    "pushName": "Cliente",
                    "message": {"conversation": "quanto custa trocar a tela do iphone 11"},
                    "messageType": "conversation",
                    "messageTimestamp": 1764000000 + i,
                },
                "apikey": "token-never-stored",
            }
        )

    run = uuid.uuid4().hex[:8].upper()
    bodies = [envelope(i, run) for i in range(MESSAGES)]
    # Ingress through the API handler
    ingress_s: list[float] = []
    t0 = time.perf_counter()
    for body in bodies:
        t = time.perf_counter()
        response = api(rest_event("POST", path, raw_body=body, headers=headers))
        ingress_s.append(time.perf_counter() - t)
        assert response["statusCode"] == 200, response["body"]
    ingress_rate = MESSAGES / (time.perf_counter() - t0)
    # Lambda runs the ingress in parallel environments: PARALLEL processes, each its own connection
    root.database.close()
    parallel_bodies = [envelope(i, run + "P") for i in range(MESSAGES, 2 * MESSAGES)]
    parallel_rate = run_parallel(_ingress_worker, path, headers, parallel_bodies, workers=PARALLEL)
    # The consumer: each stored delivery to a queued reply
    consumer_s: list[float] = []
    pending = list(world.queue.inbound_messages)
    world.queue.inbound_messages.clear()
    t0 = time.perf_counter()
    for tenant_id, name, delivery_id, _ in pending:
        t = time.perf_counter()
        assert world.inbox.apply(tenant_id, name, delivery_id) == "answered"
        consumer_s.append(time.perf_counter() - t)
    consumer_rate = len(pending) / (time.perf_counter() - t0)
    assert len(world.queue.outbound_messages) == MESSAGES
    # Bare SQL: the same rows, plain statements, the same transactions
    tenant = shop["tenant_id"]
    bare_in: list[float] = []
    bare_apply: list[float] = []
    with psycopg.connect(database.app_url, autocommit=False) as conn:
        for i in range(MESSAGES):
            t = time.perf_counter()
            with conn.transaction():
                conn.execute("select set_config('app.tenant_id', %s, true)", (tenant,))
                conn.execute(
                    "insert into whatsapp_inbox (tenant_id, instance, delivery_id, event, chat, payload) "
                    "values (%s, %s, %s, 'messages.upsert', %s, %s)",
                    (tenant, instance["name"], f"bare{run}{i}", f"bare{i}", bodies[i]),
                )
            bare_in.append(time.perf_counter() - t)
        for i in range(MESSAGES):
            t = time.perf_counter()
            with conn.transaction():
                conn.execute("select set_config('app.tenant_id', %s, true)", (tenant,))
                conn.execute(
                    "select payload from whatsapp_inbox where instance = %s and delivery_id = %s for update",
                    (instance["name"], f"bare{run}{i}"),
                )
                conversation = conn.execute(
                    "insert into wa_conversations (tenant_id, phone) values (%s, %s) returning id",
                    (tenant, f"5521{i:09d}"),
                ).fetchone()[0]
                conn.execute(
                    "insert into wa_messages (tenant_id, conversation_id, direction, author, kind, body, "
                    "status) values (%s, %s, 'in', 'customer', 'text', 'quanto custa', 'received')",
                    (tenant, conversation),
                )
                conn.execute("select * from price_rules")
                conn.execute(
                    "insert into wa_messages (tenant_id, conversation_id, direction, author, kind, body, "
                    "status) values (%s, %s, 'out', 'bot', 'text', 'R$ 450,00', 'queued')",
                    (tenant, conversation),
                )
                conn.execute(
                    "update whatsapp_inbox set processed_at = now(), outcome = 'answered' "
                    "where instance = %s and delivery_id = %s",
                    (instance["name"], f"bare{run}{i}"),
                )
            bare_apply.append(time.perf_counter() - t)
    wiring.install(None)
    report(
        "whatsapp_inbound",
        [
            {
                "step": "ingress (webhook → stored, queued)",
                "per_s": round(ingress_rate),
                "p50_ms": round(_p(ingress_s, 0.5), 2),
                "p99_ms": round(_p(ingress_s, 0.99), 2),
                "bare_sql_per_s": round(MESSAGES / sum(bare_in)),
                "bare_p99_ms": round(_p(bare_in, 0.99), 2),
            },
            {
                "step": f"ingress, {PARALLEL} processes",
                "per_s": round(parallel_rate),
                "p50_ms": "",
                "p99_ms": "",
                "bare_sql_per_s": "",
                "bare_p99_ms": "",
            },
            {
                "step": "consumer (stored → reply queued)",
                "per_s": round(consumer_rate),
                "p50_ms": round(_p(consumer_s, 0.5), 2),
                "p99_ms": round(_p(consumer_s, 0.99), 2),
                "bare_sql_per_s": round(MESSAGES / sum(bare_apply)),
                "bare_p99_ms": round(_p(bare_apply, 0.99), 2),
            },
        ],
    )


def _ingress_worker(path: str, headers: dict[str, str], bodies: list[str], start: Any) -> None:
    """One process of the parallel ingress (spawned: a fresh interpreter, its own connection; the
    environment, API settings included, is inherited)."""
    from assistec.handlers import api as api_handler
    from assistec.wiring.api import root
    from tests.integration.whatsapp_helpers import MemoryWhatsappQueue

    root().whatsapp_queue = MemoryWhatsappQueue()
    context = LambdaContext()
    api_handler.handler(rest_event("POST", path, raw_body=bodies[0], headers=headers), context)  # warm
    start.wait()
    for body in bodies[1:]:
        response = api_handler.handler(rest_event("POST", path, raw_body=body, headers=headers), context)
        assert response["statusCode"] == 200
