"""The functions reach PostgreSQL through a transaction-mode pooler (PgBouncer locally, RDS Proxy in
prod), and nothing they do needs a session: no startup options, no server-side prepared statements,
the statement timeout carried by the role."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from psycopg import sql

from tests.conftest import PgDatabase


def _app_database(url: str) -> object:
    from assistec.db.connection import Database
    from assistec.settings import DatabaseSettings

    return Database(DatabaseSettings(database_url=url, db_sslmode="disable"))  # type: ignore[call-arg]


def test_the_pooler_refuses_startup_options_as_rds_proxy_does(database: PgDatabase) -> None:
    # Given the app role's way in (the pooler), when a client sends a startup option
    # Then the connection is refused, as RDS Proxy refuses it ("doesn't support command-line options")
    with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter: options"):
        psycopg.connect(database.app_url, options="-c statement_timeout=1000", connect_timeout=5)


def test_the_functions_connect_with_no_startup_options(database: PgDatabase) -> None:
    from assistec.db.connection import conninfo_from_settings
    from assistec.settings import DatabaseSettings

    settings = DatabaseSettings(database_url=database.app_url, db_sslmode="disable")  # type: ignore[call-arg]
    # Given the functions' connection string, it carries no startup options
    assert "options" not in conninfo_from_settings(settings)
    # And a unit of work runs through the pooler
    db = _app_database(database.app_url)
    with db.transaction() as conn:  # type: ignore[attr-defined]
        assert conn.execute("select 1").fetchone() == (1,)
    db.close()  # type: ignore[attr-defined]


def test_the_app_role_carries_its_statement_timeout(database: PgDatabase) -> None:
    from assistec.services.schema import APP_ROLE_SETTINGS

    # Given a connection of the app role through the pooler, with nothing set at connection time
    db = _app_database(database.app_url)
    with db.transaction() as conn:  # type: ignore[attr-defined]
        timeout = conn.execute("show statement_timeout").fetchone()
    db.close()  # type: ignore[attr-defined]
    # Then the role's default applies: a runaway query is cancelled instead of holding the proxy
    assert timeout == (APP_ROLE_SETTINGS["statement_timeout"],)


def test_environments_that_share_server_connections_run_the_same_query_many_times(
    database: PgDatabase,
) -> None:
    # Given two execution environments, each with its own connection through the pooler, whose
    # transactions alternate (the pooler hands both the same free server connection)
    first, second = _app_database(database.app_url), _app_database(database.app_url)
    # When each runs the same statement more times than psycopg would prepare it after
    for i in range(12):
        for db in (first, second):
            with db.transaction() as conn:  # type: ignore[attr-defined]
                row = conn.execute("select %s::int + 1", (i,)).fetchone()
            # Then every run answers: no server-side prepared statement is missing or taken twice
            assert row == (i + 1,)
    first.close()  # type: ignore[attr-defined]
    second.close()  # type: ignore[attr-defined]


def test_the_schema_deploy_gives_a_role_its_settings(database: PgDatabase) -> None:
    from assistec.services.schema import APP_ROLE_SETTINGS, RoleSpec, ensure_roles

    role = f"assistec_probe_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(database.superuser_url, autocommit=True) as conn:
        try:
            # Given the deploy-time set-up creating a role with the app role's settings
            ensure_roles(conn, [RoleSpec(role, uuid.uuid4().hex, APP_ROLE_SETTINGS)], database.name)
            config = conn.execute("select rolconfig from pg_roles where rolname = %s", (role,)).fetchone()
            # Then the role carries them (every session the proxy opens for it starts with them)
            assert config is not None
            assert [f"{k}={v}" for k, v in APP_ROLE_SETTINGS.items()] == config[0]
        finally:
            conn.execute(
                sql.SQL("revoke connect on database {} from {}").format(
                    sql.Identifier(database.name), sql.Identifier(role)
                )
            )
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
