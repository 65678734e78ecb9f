"""The shops' subscription to assistec (issue 5 §4), the platform webhook: refusals that store
nothing, events of no subscription of ours, a database down at ingress and a lost queue message.

Through the API handler, the billing service and the offline Asaas simulator (the platform
account), against the real database."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.conftest import PgDatabase
from tests.integration.billing_fixtures import FIXTURES, Platform, _billing, _post_platform
from tests.integration.conftest import Client, signup


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
