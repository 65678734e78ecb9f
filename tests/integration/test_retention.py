"""The daily retention job (issue 13 §4): what the policies keep no longer goes, what they keep stays,
in bounded rounds, through the one definer function — the app role alone cannot purge across shops."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, signup

NOW = datetime(2026, 11, 29, 6, 30, tzinfo=UTC)


class _Context:
    def __init__(self, seconds: float = 300) -> None:
        self.seconds = seconds
        self.function_name = "assistec-retention"
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = "arn:aws:lambda:sa-east-1:111111111111:function:assistec-retention"
        self.aws_request_id = "req-retention"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def _seed(conn: psycopg.Connection[Any], tenant: str, user: str, *, age: timedelta, tag: str) -> None:
    """One row per purged table, ``age`` old by the column its policy reads."""
    at = NOW - age
    conn.execute(
        "insert into webhook_inbox (tenant_id, event_id, event, payload, received_at, processed_at) "
        "values (%s, %s, 'PAYMENT_RECEIVED', '{}', %s, %s)",
        (tenant, f"evt_{tag}", at, at),
    )
    conn.execute(
        "insert into platform_webhook_inbox (event_id, event, payload, received_at, processed_at) "
        "values (%s, 'PAYMENT_RECEIVED', '{}', %s, %s)",
        (f"pevt_{tag}", at, at),
    )
    conn.execute(
        "insert into whatsapp_inbox (tenant_id, instance, delivery_id, event, payload, received_at, "
        "processed_at) "
        "values (%s, 'i', %s, 'messages.upsert', '{}', %s, %s)",
        (tenant, f"d_{tag}", at, at),
    )
    conn.execute(
        "insert into outbox (tenant_id, detail_type, detail, created_at, published_at) "
        "values (%s, 'X', '{}', %s, %s)",
        (tenant, at, at),
    )
    conn.execute("insert into login_attempts (key, at) values (%s, %s)", (tag.encode(), at))
    conn.execute(
        "insert into signup_requests (source_key, email, expires_at) values (%s, %s, %s)",
        (tag.encode(), f"{tag}@exemplo.com.br", at),
    )
    conn.execute(
        "insert into refresh_tokens (tenant_id, user_id, family_id, token_hash, expires_at) "
        "values (%s, %s, %s, %s, %s)",
        (tenant, user, uuid.uuid4(), uuid.uuid4().bytes, at),
    )
    conn.execute(
        "insert into google_oauth_states (nonce, tenant_id, user_id, code_verifier, redirect_uri, "
        "expires_at) "
        "values (%s, %s, %s, %s, 'https://x', %s)",
        (f"nonce-{tag}-{'n' * 20}", tenant, user, "v" * 43, at),
    )
    conn.execute(
        "insert into email_messages (tenant_id, template, to_address, transport, status, created_at) "
        "values (%s, 'order_document', %s, 'ses', 'sent', %s)",
        (tenant, f"{tag}@exemplo.com.br", at),
    )


TABLES = (
    "webhook_inbox",
    "platform_webhook_inbox",
    "whatsapp_inbox",
    "outbox",
    "login_attempts",
    "signup_requests",
    "refresh_tokens",
    "google_oauth_states",
    "email_messages",
)
# Older than every policy (the longest: 13 months), and younger than every one (the shortest: 1 day).
OLD, RECENT = timedelta(days=420), timedelta(hours=20)


def _marked(conn: psycopg.Connection[Any], tag: str) -> dict[str, int]:
    """How many of a seed's rows each table still holds."""
    queries = {
        "webhook_inbox": ("select count(*) from webhook_inbox where event_id = %s", f"evt_{tag}"),
        "platform_webhook_inbox": (
            "select count(*) from platform_webhook_inbox where event_id = %s",
            f"pevt_{tag}",
        ),
        "whatsapp_inbox": ("select count(*) from whatsapp_inbox where delivery_id = %s", f"d_{tag}"),
        "login_attempts": ("select count(*) from login_attempts where key = %s", tag.encode()),
        "signup_requests": ("select count(*) from signup_requests where source_key = %s", tag.encode()),
        "email_messages": (
            "select count(*) from email_messages where to_address = %s",
            f"{tag}@exemplo.com.br",
        ),
        "google_oauth_states": (
            "select count(*) from google_oauth_states where nonce like %s",
            f"nonce-{tag}-%",
        ),
    }
    return {table: conn.execute(sql, (value,)).fetchone()[0] for table, (sql, value) in queries.items()}


def test_the_job_purges_what_the_policies_no_longer_keep(
    client: Client, database: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.handlers import retention
    from assistec.observability import metrics
    from assistec.wiring.base import DatabaseRoot

    shop = signup(client)
    old, recent = f"old{uuid.uuid4().hex[:8]}", f"new{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database.superuser_url) as conn:
        _seed(conn, shop.tenant_id, shop.owner_id, age=OLD, tag=old)
        _seed(conn, shop.tenant_id, shop.owner_id, age=RECENT, tag=recent)
        # an unprocessed delivery stays however old (it still has to be applied)
        conn.execute(
            "insert into webhook_inbox (tenant_id, event_id, event, payload, received_at) "
            "values (%s, %s, 'PAYMENT_RECEIVED', '{}', %s)",
            (shop.tenant_id, f"evt_pending_{old}", NOW - OLD),
        )
        outbox_before = conn.execute(
            "select count(*) from outbox where published_at < %s", (NOW - timedelta(days=30),)
        ).fetchone()[0]

    # The app role by itself cannot purge: it may not delete from a table, or (outside a shop's
    # transaction) row-level security shows it no row
    with psycopg.connect(database.app_url, autocommit=True) as conn:
        for table in TABLES:
            with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
                assert conn.execute(f"delete from {table}").rowcount == 0, table

    # When the daily job runs (its clock from the input), in rounds of 1 row
    monkeypatch.setattr(metrics.provider, "namespace", "AssistecTest")
    from assistec.settings import DatabaseSettings

    monkeypatch.setenv("DATABASE_URL", database.app_url)
    retention.install(DatabaseRoot(DatabaseSettings(), event_bus_name=None))
    try:
        from assistec.services.retention import purge

        result = purge(retention.root().database, now=NOW, time_left_s=lambda: 300, batch=1)
        summary = retention.handler({"now": NOW.isoformat()}, _Context())  # nothing more to purge
    finally:
        retention.install(None)

    # Then the old rows are gone, in several rounds, the recent ones and the pending delivery stay
    assert result.complete
    assert result.rounds >= 2
    assert result.per_table["outbox"] == outbox_before >= 1
    with psycopg.connect(database.superuser_url) as conn:
        assert set(_marked(conn, old).values()) == {0}, _marked(conn, old)
        assert set(_marked(conn, recent).values()) == {1}, _marked(conn, recent)
        assert conn.execute(
            "select count(*) from webhook_inbox where event_id = %s", (f"evt_pending_{old}",)
        ).fetchone() == (1,)
        # a refresh token expired 420 days ago went; one expired 20 hours ago stays (a replay still
        # ends its session)
        tokens = conn.execute(
            "select count(*) from refresh_tokens where tenant_id = %s and expires_at < %s",
            (shop.tenant_id, NOW),
        ).fetchone()
        assert tokens == (1,)
    assert summary["complete"] is True
    assert set(summary["purged"]) == set(TABLES)
