"""Deploy-time database set-up: the app and ops roles (prod), then the pending migrations.

Runs as the migrator (the database owner). In AWS the master user is the migrator and creates the
other roles with passwords from their own secrets; locally `make up` creates the roles itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from assistec.db import migrate
from assistec.db.connection import conninfo_from_settings

if TYPE_CHECKING:
    from assistec.settings import MigrateSettings

APP_ROLE = "assistec_app"
OPS_ROLE = "assistec_ops"
# Set on the app role, not sent at connection start: RDS Proxy (and PgBouncer locally) refuse
# startup options, and a session-level SET would pin the proxy's connection. A role default applies
# to every session the proxy opens for the role, at no round trip.
APP_ROLE_SETTINGS = {"statement_timeout": "10s"}


@dataclass(frozen=True, slots=True)
class RoleSpec:
    """A login role. Never BYPASSRLS: on PostgreSQL 16+ only a role holding it may even mention it,
    and RDS's master user is not guaranteed to. Ops reads all shops through its own policies."""

    name: str
    password: str
    # Session defaults the role carries (``ALTER ROLE … SET``).
    settings: dict[str, str] = field(default_factory=dict)


def ensure_roles(conn: psycopg.Connection[Any], roles: list[RoleSpec], dbname: str) -> None:
    for role in roles:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role.name,)).fetchone()
        conn.execute(
            sql.SQL("{} role {} with login password {}").format(
                sql.SQL("alter" if exists else "create"),
                sql.Identifier(role.name),
                sql.Literal(role.password),
            )
        )
        conn.execute(
            sql.SQL("grant connect on database {} to {}").format(
                sql.Identifier(dbname), sql.Identifier(role.name)
            )
        )
        apply_role_settings(conn, role.name, role.settings)


def apply_role_settings(conn: psycopg.Connection[Any], role: str, settings: dict[str, str]) -> None:
    """Make ``settings`` the role's defaults (``ALTER ROLE … SET``): new sessions start with them."""
    for name, value in settings.items():
        conn.execute(
            sql.SQL("alter role {} set {} = {}").format(
                sql.Identifier(role), sql.Identifier(name), sql.Literal(value)
            )
        )


def role_from_secret(secret_string: str, settings: dict[str, str] | None = None) -> RoleSpec:
    data = json.loads(secret_string)
    return RoleSpec(name=data["username"], password=data["password"], settings=settings or {})


def set_up(conn: psycopg.Connection[Any], *, roles: list[RoleSpec], dbname: str) -> list[str]:
    """Create/refresh the roles, then apply pending migrations; return the names applied."""
    if roles:
        ensure_roles(conn, roles, dbname)
    return [f"{m.version:04d}_{m.name}" for m in migrate.apply(conn)]


def deploy(settings: MigrateSettings, read_secret: Callable[[str], str]) -> list[str]:
    """The deploy-time set-up as the migrator: the roles from their secrets (in AWS), then the
    pending migrations, all or nothing; return the names applied."""
    roles: list[RoleSpec] = []
    if settings.app_secret_id and settings.ops_secret_id:
        roles = [
            role_from_secret(read_secret(settings.app_secret_id), APP_ROLE_SETTINGS),
            role_from_secret(read_secret(settings.ops_secret_id)),
        ]
    with psycopg.connect(conninfo_from_settings(settings, read_secret), autocommit=True) as conn:
        return set_up(conn, roles=roles, dbname=conn.info.dbname)
