"""GET /health through the real API handler, with a real API Gateway REST event, on real PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from assistec import __version__
from assistec.db.migrate import load_migrations
from tests.conftest import PgDatabase, load_event
from tests.integration.conftest import Invoke, configure_api


def _header(response: dict, name: str) -> str:
    return response["multiValueHeaders"][name][0]


def test_health_reports_version_and_schema_when_database_answers(api: Invoke) -> None:
    # Given the API deployed against a migrated database
    event = load_event("apigw_rest_get_health")
    # When ops call GET /health
    response = api(event)
    # Then it answers 200 with the deployed version and the schema version the database is at
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    backup_age = body.pop("backup_age_hours")
    assert body == {
        "status": "ok",
        "version": __version__,
        "stage": "test",
        "database": "ok",
        "schema_version": len(load_migrations()),
        "dead_letter_queues": {},  # none configured in this environment
        "attention": [] if backup_age <= 26 else [body["attention"][0]],
    }
    assert isinstance(backup_age, float)
    assert _header(response, "Cache-Control") == "no-store"
    # And the correlation id is API Gateway's request id, so a log line can be found from a response
    assert _header(response, "X-Correlation-Id") == event["requestContext"]["requestId"]


def test_health_is_503_when_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, lambda_context, pg_cluster
) -> None:
    from assistec.handlers import api as api_handler

    # Given a deployment whose database does not answer (nothing listens on port 1)
    configure_api(monkeypatch, "postgresql://assistec_app:x@127.0.0.1:1/assistec?connect_timeout=1")
    # When GET /health is called
    response = api_handler.handler(load_event("apigw_rest_get_health"), lambda_context)
    # Then the answer is 503 "degraded", not a crash, so alarms and load balancers can act on it
    assert response["statusCode"] == 503
    assert json.loads(response["body"])["database"] == "unavailable"


def test_health_recovers_after_the_connection_is_killed(api: Invoke, database: PgDatabase) -> None:
    # Given a warm environment whose connection was closed by the server (proxy timeout, failover)
    event = load_event("apigw_rest_get_health")
    assert api(event)["statusCode"] == 200
    with psycopg.connect(database.superuser_url, autocommit=True) as admin:
        killed = admin.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity "
            "where datname = %s and usename = 'assistec_app'",
            (database.name,),
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 1
    # When the next request arrives
    response = api(event)
    # Then it is served on a fresh connection instead of failing
    assert response["statusCode"] == 200


def test_an_unexpected_error_is_a_500_with_code_and_correlation_id(
    monkeypatch: pytest.MonkeyPatch, lambda_context, empty_database: PgDatabase
) -> None:
    from assistec.handlers import api as api_handler

    # Given a database that was never migrated (a broken deploy: schema_migrations is missing)
    configure_api(monkeypatch, empty_database.superuser_url)
    event = load_event("apigw_rest_get_health")
    # When GET /health runs
    response = api_handler.handler(event, lambda_context)
    # Then the client gets a 500 with the stable code, a pt-BR message and the correlation id, no internals
    assert response["statusCode"] == 500
    body = json.loads(response["body"])
    assert body["code"] == "internal_error"
    assert body["correlation_id"] == event["requestContext"]["requestId"]
    assert "schema_migrations" not in response["body"]
    assert "Erro interno" in body["message"]


@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("POST", "/health"), ("GET", "/")])
def test_unknown_routes_get_404_with_stable_code(api: Invoke, method: str, path: str) -> None:
    # Given a request for a route the API does not have
    event = load_event("apigw_rest_get_health")
    event.update(httpMethod=method, path=path, resource="/{proxy+}")
    # When it is handled
    response = api(event)
    # Then it is a 404 with the stable code, whatever the method
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["code"] == "route_not_found"


def test_health_names_what_needs_attention_while_answering_200(
    api_root: Any, api: Invoke, client: Any, database: PgDatabase
) -> None:
    from assistec.services.health import HealthService

    # Given a dead-letter queue holding messages, one SQS would not describe, and a shop whose newest
    # backup is older than a missed night (signed up two days ago, never backed up)
    reads = []

    def depths() -> dict[str, int | None]:
        reads.append(1)
        return {"Payments.EventsDlq": 3, "Mail.EventsDlq": 0, "Scheduling.CalendarDlq": None}

    api_root.health = HealthService(api_root.database, version="v", stage="test", dead_letter_counts=depths)
    from tests.integration.conftest import signup

    shop = signup(client)
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(
            "update tenants set created_at = now() - interval '50 hours' where id = %s", (shop.tenant_id,)
        )
    try:
        # When ops call GET /health twice
        first = json.loads(api(load_event("apigw_rest_get_health"))["body"])
        second = json.loads(api(load_event("apigw_rest_get_health"))["body"])
        # Then it still answers ok, with each queue's depth and a pt-BR line per problem; SQS read once
        assert first["status"] == "ok"
        assert first["dead_letter_queues"] == {
            "Payments.EventsDlq": 3,
            "Mail.EventsDlq": 0,
            "Scheduling.CalendarDlq": None,
        }
        assert "fila de mensagens mortas Payments.EventsDlq: 3 mensagem(ns)" in first["attention"]
        assert "fila Scheduling.CalendarDlq: não foi possível ler" in first["attention"]
        assert first["backup_age_hours"] >= 50
        assert any(line.startswith("backup mais antigo entre as lojas: ") for line in first["attention"])
        assert second == first
        assert len(reads) == 1
    finally:  # the backups' age is every shop's: other tests in this database must not see this one
        with psycopg.connect(database.superuser_url) as conn:
            conn.execute("update tenants set created_at = now() where id = %s", (shop.tenant_id,))
