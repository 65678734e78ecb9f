"""Versioned SQL migrations.

Files ``migrations/NNNN_name.sql`` are applied in order, each in its own transaction, under an
advisory lock so two deploys never migrate at once. An applied file whose text changed afterwards
stops the run: history is never rewritten silently.

CLI: ``python -m assistec.db.migrate [--database-url URL] [apply|status]`` (URL defaults to the
``DATABASE_URL`` environment variable of the caller's shell, read through the settings model).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg

_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x61737369  # "assi": any constant shared by every migrator

_BOOKKEEPING = """
create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
)
"""


class MigrationError(Exception):
    """The migration history and the files disagree, or a file is malformed."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    """Read the packaged migration files, checking names and that versions have no gaps."""
    found: list[Migration] = []
    for entry in resources.files("assistec.db.migrations").iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _MIGRATION_FILE.match(entry.name)
        if match is None:
            raise MigrationError(f"bad migration file name: {entry.name}")
        found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration versions must run 1..n without gaps; found {migration.version}")
    return found


def applied_versions(conn: psycopg.Connection[Any]) -> dict[int, str]:
    exists = conn.execute("select to_regclass('schema_migrations') is not null").fetchone()
    if not exists or not exists[0]:
        return {}
    return {v: c for v, c in conn.execute("select version, checksum from schema_migrations")}


def current_version(conn: psycopg.Connection[Any]) -> int | None:
    """The newest applied migration's version (None on an empty history)."""
    row = conn.execute("select max(version) from schema_migrations").fetchone()
    return row[0] if row else None


def apply(conn: psycopg.Connection[Any], migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply what is pending; return what was applied. ``conn`` must be in autocommit mode."""
    migrations = load_migrations() if migrations is None else migrations
    done: list[Migration] = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(_BOOKKEEPING)
        history = applied_versions(conn)
        for migration in migrations:
            recorded = history.get(migration.version)
            if recorded is not None:
                if recorded != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} changed after it was applied"
                    )
                continue
            # A savepoint per file: the error names the file, and nothing of it is left behind.
            with conn.transaction():
                try:
                    conn.execute(migration.sql.encode())
                except psycopg.Error as exc:
                    raise MigrationError(f"{migration.version:04d}_{migration.name}: {exc}") from exc
                conn.execute(
                    "insert into schema_migrations (version, name, checksum) values (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            done.append(migration)
        if done:
            # What is written from the catalog follows the tables the migrations left (0041: the
            # backup's presence probes), in the same transaction.
            row = conn.execute("select to_regprocedure('backup_refresh_presence()') is not null").fetchone()
            if row is not None and row[0]:
                conn.execute("select backup_refresh_presence()")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistec.db.migrate", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["apply", "status"], default="apply")
    parser.add_argument("--database-url", help="libpq URL of the migrator role (default: DATABASE_URL)")
    args = parser.parse_args(argv)

    from assistec.db.connection import conninfo_from_settings
    from assistec.settings import DatabaseSettings

    settings = DatabaseSettings(database_url=args.database_url) if args.database_url else DatabaseSettings()
    with psycopg.connect(conninfo_from_settings(settings), autocommit=True) as conn:
        if args.command == "status":
            history = applied_versions(conn)
            for migration in load_migrations():
                state = "applied" if migration.version in history else "pending"
                print(f"{migration.version:04d}_{migration.name}: {state}")  # noqa: T201
            return 0
        try:
            applied = apply(conn)
        except MigrationError as exc:
            print(f"migration failed: {exc}", file=sys.stderr)  # noqa: T201
            return 1
        for migration in applied:
            print(f"applied {migration.version:04d}_{migration.name}")  # noqa: T201
        if not applied:
            print("database is up to date")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
