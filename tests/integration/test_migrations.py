"""The migration runner against a real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from assistec.db import migrate
from assistec.db.migrate import Migration, MigrationError
from tests.conftest import PgDatabase


def _versions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [v for (v,) in conn.execute("select version from schema_migrations order by version")]


def test_applies_all_once_and_then_nothing(empty_database: PgDatabase) -> None:
    # Given an empty database
    with psycopg.connect(empty_database.migrator_url, autocommit=True) as conn:
        # When migrations run twice
        first = migrate.apply(conn)
        second = migrate.apply(conn)
    # Then every file is applied the first time and nothing the second
    assert [m.version for m in first] == [m.version for m in migrate.load_migrations()]
    assert second == []
    assert _versions(empty_database.migrator_url) == [m.version for m in first]


def test_the_app_role_reads_the_schema_version_but_cannot_change_it(empty_database: PgDatabase) -> None:
    with psycopg.connect(empty_database.migrator_url, autocommit=True) as conn:
        migrate.apply(conn)
    with psycopg.connect(empty_database.app_url, autocommit=True) as app:
        assert app.execute("select max(version) from schema_migrations").fetchone() is not None
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("delete from schema_migrations")


def test_a_failing_migration_leaves_nothing_behind(empty_database: PgDatabase) -> None:
    # Given the real migrations plus a broken one after them
    real = migrate.load_migrations()
    broken = Migration(len(real) + 1, "broken", "create table half_done (id int); select 1/0;")
    with psycopg.connect(empty_database.migrator_url, autocommit=True) as conn:
        # When the run reaches the broken file
        with pytest.raises(MigrationError, match="broken"):
            migrate.apply(conn, [*real, broken])
        # Then the whole run is rolled back: no table from it, no history row, not even the good ones
        assert conn.execute("select to_regclass('half_done')").fetchone() == (None,)
        assert conn.execute("select to_regclass('schema_migrations')").fetchone() == (None,)


def test_an_applied_migration_that_was_edited_stops_the_run(empty_database: PgDatabase) -> None:
    real = migrate.load_migrations()
    with psycopg.connect(empty_database.migrator_url, autocommit=True) as conn:
        migrate.apply(conn, real)
        edited = Migration(real[0].version, real[0].name, real[0].sql + "\n-- edited later\n")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            migrate.apply(conn, [edited, *real[1:]])


def test_cli_applies_and_reports_status(
    empty_database: PgDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migrate.main(["--database-url", empty_database.migrator_url]) == 0
    assert "applied 0001_foundation" in capsys.readouterr().out
    assert migrate.main(["status", "--database-url", empty_database.migrator_url]) == 0
    assert "0001_foundation: applied" in capsys.readouterr().out
