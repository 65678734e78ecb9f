"""Shared fixtures: a real PostgreSQL database per test session, and Lambda invocation helpers."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

EVENTS = Path(__file__).parent / "events"

# `make test` runs on parallel workers (pytest-xdist). What drives the deployed stack runs in two
# groups, each on one worker, one test at a time: the fuzzer (its own shop, minutes of requests)
# followed by the measures of LocalStack's threads and memory (the only other traffic then is the
# other group's, one request at a time); and every other test of the stack. (Three groups on three
# workers left no worker for the rest until a group ended: measured slower, not faster.)
# No test changes what the others use (a broken function gets an API of its own) and each reads
# only its own events from the bus. The infra tests are a group of their own (one synthesis of the
# app for all of them). Every other test is its own unit, spread over the workers. (xdist's
# ``--dist loadgroup`` would do this with markers, but it renames node ids, which pytest 9 no
# longer allows.)
_FUZZ_GROUP = (
    "tests/e2e/test_schemathesis.py::",
    "tests/e2e/test_local_executor.py::test_sustained_use",
    "tests/bench/test_soak.py::",
)


def stack_group(nodeid: str) -> str | None:
    """The group of the tests that drive the deployed stack, or of the infra tests; None for the others."""
    if nodeid.startswith(_FUZZ_GROUP):
        return "fuzz"
    if nodeid.startswith(
        ("tests/e2e/", "tests/bench/test_panel_board.py::", "tests/bench/test_realtime_push_deployed.py::")
    ):
        return "stack"
    if nodeid.startswith("tests/infra/"):
        # One worker synthesizes both stages once (about a minute of CPU) for every infra test,
        # rather than each worker synthesizing them again.
        return "infra"
    return None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class StackGroups(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return stack_group(nodeid) or nodeid

    return StackGroups(config, log)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Lambda context object our code and Powertools read."""

    function_name: str = "assistec-api"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:sa-east-1:111111111111:function:assistec-api"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "7f1e2d3c-0000-4000-8000-000000000001"
    log_group_name: str = "/aws/lambda/assistec-api"
    log_stream_name: str = "2026/11/24/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass(frozen=True)
class PgDatabase:
    name: str
    superuser_url: str
    migrator_url: str
    app_url: str
    ops_url: str


@pytest.fixture(scope="session")
def pg_cluster() -> Any:
    from devctl import pg

    # `make test` starts the cluster and its pooler; a direct `pytest` run starts them too rather
    # than failing (idempotent: a running cluster only has its roles and pooler checked).
    pg.start()
    return pg


def _create_database(pg: Any, name: str, *, migrate: bool) -> PgDatabase:
    with psycopg.connect(pg.url(dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        pg.ensure_database(conn, name)
        # A test database need not survive a crash of the cluster: its commits return without
        # waiting for the WAL to reach the disk (what is visible, locked and isolated is unchanged).
        # On this 2-core machine beside the suite's other workers, the 10,000-delivery payments
        # test took 110 s with the flush and 59 s without.
        conn.execute(sql.SQL("alter database {} set synchronous_commit = off").format(sql.Identifier(name)))
    db = PgDatabase(
        name=name,
        superuser_url=pg.url(dbname=name),
        migrator_url=pg.url(pg.MIGRATOR, dbname=name),
        # The app role goes through the pooler, as the functions go through RDS Proxy in prod.
        app_url=pg.pooled_url(pg.APP, dbname=name),
        ops_url=pg.url(pg.OPS, dbname=name),
    )
    if migrate:
        from assistec.db import migrate as migrations

        with psycopg.connect(db.migrator_url, autocommit=True) as conn:
            migrations.apply(conn)
    return db


def _drop_database(pg: Any, name: str) -> None:
    with psycopg.connect(pg.url(dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def database(pg_cluster: Any) -> Iterator[PgDatabase]:
    """A migrated database for the whole session, dropped at the end."""
    db = _create_database(pg_cluster, f"assistec_test_{os.getpid()}", migrate=True)
    yield db
    _drop_database(pg_cluster, db.name)


@pytest.fixture
def empty_database(pg_cluster: Any, request: pytest.FixtureRequest) -> Iterator[PgDatabase]:
    """A database with nothing applied, for one test."""
    db = _create_database(pg_cluster, f"assistec_empty_{os.getpid()}", migrate=False)
    yield db
    _drop_database(pg_cluster, db.name)


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


LOCALSTACK_URL = "http://127.0.0.1:4566"


@pytest.fixture
def localstack_aws(monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 in this test (and the processes it starts) talks to LocalStack, with its test
    credentials; skipped when LocalStack is not running (``make up``). Its URL."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{LOCALSTACK_URL}/_localstack/health", timeout=2) as answer:
            up = answer.status == 200
    except OSError:
        up = False
    if not up:
        pytest.skip(f"LocalStack is not running on {LOCALSTACK_URL} (make up)")
    for name, value in (
        ("AWS_ENDPOINT_URL", LOCALSTACK_URL),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return LOCALSTACK_URL
