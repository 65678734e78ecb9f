"""The deploy-time schema custom resource, against real PostgreSQL and a fake CloudFormation URL."""

from __future__ import annotations

import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from assistec.db import migrate
from assistec.db.migrate import Migration
from assistec.services import schema
from tests.conftest import LambdaContext, PgDatabase


class FakeCloudFormation:
    """Receives the custom resource's answer on a pre-signed-URL-like endpoint."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                outer.answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cfn-response?X-Amz-Signature=abc"


@pytest.fixture
def cfn() -> Iterator[FakeCloudFormation]:
    fake = FakeCloudFormation()
    yield fake
    fake.server.shutdown()


def _event(cfn: FakeCloudFormation, request_type: str) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": cfn.url,
        "StackId": "arn:aws:cloudformation:sa-east-1:111111111111:stack/assistec-prod/x",
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "SchemaResource",
        "ResourceType": "Custom::AssistecSchema",
        "ResourceProperties": {"MigrationsHash": "abc"},
    }


@pytest.fixture
def migrate_env(monkeypatch: pytest.MonkeyPatch, empty_database: PgDatabase) -> PgDatabase:
    from assistec.settings import migrate_settings

    for name in ("DB_SECRET_ID", "APP_SECRET_ID", "OPS_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", empty_database.migrator_url)
    monkeypatch.setenv("DB_SSLMODE", "disable")
    migrate_settings.cache_clear()
    yield empty_database
    migrate_settings.cache_clear()


def test_create_applies_the_migrations_and_answers_success(
    cfn: FakeCloudFormation, migrate_env: PgDatabase
) -> None:
    from assistec.handlers import migrate as handler

    handler.handler(_event(cfn, "Create"), LambdaContext(function_name="assistec-migrate"))
    [answer] = cfn.answers
    assert answer["Status"] == "SUCCESS", answer
    assert answer["PhysicalResourceId"] == "assistec-database-schema"
    assert answer["Data"]["Applied"].split(",") == [
        f"{m.version:04d}_{m.name}" for m in migrate.load_migrations()
    ]
    with psycopg.connect(migrate_env.migrator_url) as conn:
        assert conn.execute("select count(*) from schema_migrations").fetchone() == (
            len(migrate.load_migrations()),
        )
    # An update with nothing pending succeeds and applies nothing
    handler.handler(_event(cfn, "Update"), LambdaContext(function_name="assistec-migrate"))
    assert (cfn.answers[1]["Status"], cfn.answers[1]["Data"]["Applied"]) == ("SUCCESS", "")


def test_a_failing_migration_fails_the_deploy_with_its_name_and_applies_nothing(
    cfn: FakeCloudFormation, migrate_env: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.handlers import migrate as handler

    real = migrate.load_migrations()
    broken = [*real, Migration(len(real) + 1, "quebrada", "select 1/0;")]
    monkeypatch.setattr(migrate, "load_migrations", lambda: broken)
    handler.handler(_event(cfn, "Update"), LambdaContext(function_name="assistec-migrate"))
    [answer] = cfn.answers
    assert answer["Status"] == "FAILED"
    assert "quebrada" in answer["Reason"]
    with psycopg.connect(migrate_env.migrator_url) as conn:
        assert conn.execute("select to_regclass('schema_migrations')").fetchone() == (None,)


def test_delete_never_touches_the_database(cfn: FakeCloudFormation, migrate_env: PgDatabase) -> None:
    from assistec.handlers import migrate as handler

    handler.handler(_event(cfn, "Delete"), LambdaContext(function_name="assistec-migrate"))
    assert cfn.answers[0]["Status"] == "SUCCESS"
    with psycopg.connect(migrate_env.migrator_url) as conn:
        assert conn.execute("select to_regclass('schema_migrations')").fetchone() == (None,)


def test_roles_are_created_then_their_passwords_refreshed(
    empty_database: PgDatabase, pg_cluster: Any
) -> None:
    # Given the migrator (CREATEROLE, as RDS's master user) and a role the deploy must create
    name = f"assistec_t_{uuid.uuid4().hex[:8]}"

    def url(password: str) -> str:
        return make_conninfo(empty_database.migrator_url, user=name, password=password)

    try:
        with psycopg.connect(empty_database.migrator_url, autocommit=True) as conn:
            schema.ensure_roles(conn, [schema.RoleSpec(name, "primeira-senha")], empty_database.name)
            schema.ensure_roles(conn, [schema.RoleSpec(name, "segunda-senha")], empty_database.name)
        # Then it exists, cannot bypass row-level security, and logs in with the latest password only
        with psycopg.connect(url("segunda-senha")) as conn:
            row = conn.execute(
                "select rolbypassrls, rolsuper from pg_roles where rolname = current_user"
            ).fetchone()
            assert row == (False, False)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url("primeira-senha"))
    finally:
        with psycopg.connect(pg_cluster.url(dbname="postgres"), autocommit=True) as admin:
            admin.execute(
                sql.SQL("revoke connect on database {} from {}").format(
                    sql.Identifier(empty_database.name), sql.Identifier(name)
                )
            )
            admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
