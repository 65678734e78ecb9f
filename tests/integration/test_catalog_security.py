"""Least privilege of the app role, read from the catalog and tried as the app role (issue 10 §5).

The app role may set any setting it likes (``set_config``), so a policy that opens rows when a
setting says so protects nothing against it: cross-shop work runs in narrow SECURITY DEFINER
functions owned by the migrator, whose search_path is pinned.
"""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest

from assistec.db.connection import Database
from assistec.settings import DatabaseSettings
from tests.conftest import PgDatabase
from tests.integration.conftest import Client, signup

APP_ROLE = "assistec_app"
# The one setting a policy may read: the shop set by the entry statement of each transaction.
ALLOWED_SETTINGS = {"app.tenant_id"}
_SETTING = re.compile(r"current_setting\('([^']+)'")


def _policies(url: str) -> list[tuple[str, str, list[str], str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select tablename, policyname, roles::text[], "
            "coalesce(qual, '') || ' ' || coalesce(with_check, '') "
            "from pg_policies where schemaname = 'public'"
        ).fetchall()
    return [(str(t), str(p), list(r), str(e)) for t, p, r, e in rows]


def test_no_policy_depends_on_a_setting_the_app_role_can_set(database: PgDatabase) -> None:
    # Given every row-level security policy of the schema
    policies = _policies(database.superuser_url)
    assert policies
    # Then none reads a setting other than the tenant id of the entry statement
    found = {
        (table, name, setting)
        for table, name, _, expr in policies
        for setting in _SETTING.findall(expr)
        if setting not in ALLOWED_SETTINGS
    }
    assert not found, f"policies opened by a setting the app role can set: {found}"


def test_policies_open_to_everything_are_not_the_app_roles(database: PgDatabase) -> None:
    # A policy whose expression is just `true` serves the ops role (reads) or the migrator (the
    # definer functions' owner); never the app role or PUBLIC.
    for table, name, roles, expr in _policies(database.superuser_url):
        if expr.strip() in ("true", "true true"):
            assert APP_ROLE not in roles, (table, name, roles)
            assert "public" not in roles, (table, name, roles)


def test_definer_functions_pin_search_path_and_belong_to_a_role_the_app_cannot_become(
    database: PgDatabase,
) -> None:
    with psycopg.connect(database.superuser_url) as conn:
        rows = conn.execute(
            "select p.oid::regprocedure::text, p.proconfig, p.proowner::regrole::text, "
            "pg_has_role(%s, p.proowner, 'MEMBER'), "
            "exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a "
            "        where a.grantee = 0 and a.privilege_type = 'EXECUTE') "
            "from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
            "where n.nspname = 'public' and p.prosecdef",
            (APP_ROLE,),
        ).fetchall()
    names = {r[0].split("(")[0] for r in rows}
    # The cross-shop work the app needs is there (a test that finds no definer function proves nothing)
    assert {"login_lookup", "login_reserve", "sweep_webhook_inbox", "relay_lock_pending"} <= names
    for signature, config, owner, app_is_member, public_may_execute in rows:
        assert any(c.startswith("search_path=") for c in (config or [])), (
            f"{signature}: search_path not pinned"
        )
        assert owner != APP_ROLE, f"{signature}: owned by the app role"
        assert not app_is_member, f"{signature}: owned by {owner}, which the app can become"
        assert not public_may_execute, f"{signature}: executable by PUBLIC"


def test_temp_is_not_granted_to_the_app_role(database: PgDatabase) -> None:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute(
            "select has_database_privilege(%s, current_database(), 'TEMP')", (APP_ROLE,)
        ).fetchone()
    assert row == (False,)
    # And trying it, as the app role through the pooler, is refused
    with (
        psycopg.connect(database.app_url, prepare_threshold=None) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("create temporary table shadow (id int)")


def test_the_app_role_cannot_set_its_own_billing_status(client: Client, database: PgDatabase) -> None:
    # Given a suspended shop
    shop = signup(client)
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute("update tenants set billing_status = 'suspended' where id = %s", (shop.tenant_id,))
    db = Database(DatabaseSettings(database_url=database.app_url, db_sslmode="disable"))
    # When the app role, in the shop's own transaction, tries to lift the suspension by hand
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.tenant_tx(uuid.UUID(shop.tenant_id)) as conn,
    ):
        conn.execute("update tenants set billing_status = 'active' where id = %s", (shop.tenant_id,))
    # Or creates a shop that starts active
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.tenant_tx(new := uuid.uuid4()) as conn,
    ):
        conn.execute(
            "insert into tenants (id, name, cnpj, email, phone, billing_status) "
            "values (%s, 'Loja Nova', '11222333000181', 'x@exemplo.com.br', '+5511987654321', 'active')",
            (new,),
        )
    db.close()
    # Then the shop is still suspended
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute("select billing_status from tenants where id = %s", (shop.tenant_id,)).fetchone()
    assert row == ("suspended",)


def test_setting_the_old_flags_opens_nothing(client: Client, database: PgDatabase) -> None:
    # Given a shop with users, an outbox event, a subscription (and so rows in every table the old
    # flag policies opened)
    shop = signup(client)
    db = Database(DatabaseSettings(database_url=database.app_url, db_sslmode="disable"))
    # When the app role, outside any shop, sets every flag that used to open other shops' rows
    with db.transaction() as conn:
        conn.execute(
            "select set_config('app.login_email', %s, true), set_config('app.inbox_sweeper', 'on', true), "
            "set_config('app.outbox_relay', 'on', true), set_config('app.billing', 'on', true)",
            (shop.email,),
        )
        counts = {
            table: conn.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
            for table in ("users", "outbox", "webhook_inbox", "tenant_subscriptions")
        }
    db.close()
    # Then it sees nothing
    assert counts == {"users": 0, "outbox": 0, "webhook_inbox": 0, "tenant_subscriptions": 0}
