"""Row-level security: every tenant table is covered, and one shop never sees or changes another's rows."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from assistec.db.connection import Database
from assistec.settings import DatabaseSettings
from tests.conftest import PgDatabase
from tests.integration.conftest import Client, signup

# Tables without tenant data, read or written before a tenant is known. Adding one here is a decision.
# Plans are the price list; the platform inbox holds the platform account's deliveries before the
# consumer knows whose subscription each is.
GLOBAL_TABLES = {"schema_migrations", "login_attempts", "plans", "platform_webhook_inbox"}
# Signups waiting for their e-mail's confirmation: no shop exists yet (migration 0016).
GLOBAL_TABLES |= {"signup_requests"}
# The operator's audit log (the ops console): the platform's record, never a shop's to read; the app
# role has no privilege on it and writes it through definer functions only (migration *_ops.sql).
GLOBAL_TABLES |= {"ops_audit"}
# The database's daily size and counts, for the monthly capacity report (migration 0032): the
# platform's, no shop's.
GLOBAL_TABLES |= {"capacity_snapshots"}
# The in-place restore's permits (migration 0034): issued by the ops role, read by no shop.
GLOBAL_TABLES |= {"backup_restore_permits"}
# Permissive policies widen access (they are OR-ed with the isolation policy): each one is a decision.
# The cross-shop work (login lookup, outbox relay, inbox sweeper, billing job) runs in SECURITY
# DEFINER functions owned by the migrator, which sees the rows through `definer_access` (a policy
# for the migrator alone; see test_catalog_security.py and migration 0015).
# The hourly reconciliation lists which shops have an Asaas account the same way (migration 0018).
EXTRA_POLICIES = {
    ("users", "definer_access"),
    ("outbox", "definer_access"),
    ("webhook_inbox", "definer_access"),
    ("tenant_subscriptions", "definer_access"),
    ("tenants", "definer_access"),
    ("payment_accounts", "definer_access"),
    # The relay's sweep of WhatsApp replies whose queue message was lost (migration 0025).
    ("wa_messages", "definer_access"),
    # The scheduled reminders and Google sync find their work across shops (migration 0026).
    ("appointments", "definer_access"),
    ("google_connections", "definer_access"),
    # The daily retention job's purge (migration 0028): read and delete, for the migrator only.
    *(
        (table, policy)
        for table in ("whatsapp_inbox", "refresh_tokens", "google_oauth_states", "email_messages")
        for policy in ("retention_read", "retention_purge")
    ),
    # The backup flow's cross-shop reads of its own record: shops' bundle ages, restore-test picks (0029).
    ("backup_runs", "definer_access"),
    # The monthly capacity report counts each shop's orders (ops_busiest_shops, migration 0032).
    ("service_orders", "definer_access"),
    # The real-time channel (migration 0035): $disconnect and the chat find a connection by API
    # Gateway's id (realtime_connection), the sweep deletes expired connections and tickets.
    ("realtime_connections", "definer_access"),
    ("realtime_connections", "retention_purge"),
    ("realtime_tickets", "retention_read"),
    ("realtime_tickets", "retention_purge"),
}
# Every tenant table is readable by the ops role (backups), through a read-only policy for that role only.
OPS_POLICY = "ops_read"
# What PostgreSQL prints back for the house-plan policy (pg_get_expr), per key column.
ISOLATION = "({col} = (NULLIF(current_setting('app.tenant_id'::text, true), ''::text))::uuid)"


def _catalog(url: str) -> list[dict]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            """
            select c.relname as table,
                   c.relrowsecurity as rls,
                   c.relforcerowsecurity as forced,
                   exists (select 1 from pg_attribute a
                           where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
                       as has_tenant,
                   coalesce(array_agg(p.polname) filter (where p.polname is not null), '{}') as policies,
                   coalesce(bool_or(p.polcmd = '*'
                                    and p.polpermissive
                                    and pg_get_expr(p.polqual, p.polrelid) = format(%(expr)s, case
                                        when c.relname = 'tenants' then 'id' else 'tenant_id' end)
                                    and pg_get_expr(p.polwithcheck, p.polrelid) = format(%(expr)s, case
                                        when c.relname = 'tenants' then 'id' else 'tenant_id' end)),
                            false) as isolating_policy
            from pg_class c
            join pg_namespace n on n.oid = c.relnamespace
            left join pg_policy p on p.polrelid = c.oid
            where n.nspname = 'public' and c.relkind in ('r', 'p')
            group by c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity
            """,
            {"expr": ISOLATION.replace("{col}", "%s")},
        ).fetchall()


def test_every_table_is_isolated_or_declared_global(database: PgDatabase) -> None:
    # Given the schema after all migrations, read from the catalog (a new table cannot hide)
    tables = _catalog(database.superuser_url)
    assert tables, "no tables found"
    for t in tables:
        if t["table"] in GLOBAL_TABLES:
            assert not t["has_tenant"], f"{t['table']} holds tenant_id but is declared global"
            continue
        # Then each tenant table has RLS enabled AND forced, and a policy on app.tenant_id for both
        # reading (USING) and writing (WITH CHECK)
        assert t["has_tenant"] or t["table"] == "tenants", (
            f"{t['table']}: no tenant_id and not declared global"
        )
        assert t["rls"], f"{t['table']}: row-level security not enabled"
        assert t["forced"], f"{t['table']}: row-level security not forced"
        assert t["isolating_policy"], f"{t['table']}: no USING + WITH CHECK policy on app.tenant_id"
        assert OPS_POLICY in t["policies"], f"{t['table']}: no {OPS_POLICY} policy for backups"
        extra = {(t["table"], p) for p in t["policies"] if p not in ("tenant_isolation", OPS_POLICY)}
        assert extra <= EXTRA_POLICIES, f"unexpected policies widening access: {extra - EXTRA_POLICIES}"


def test_the_definer_policies_are_for_the_migrator_only(database: PgDatabase) -> None:
    with psycopg.connect(database.superuser_url) as conn:
        rows = conn.execute(
            "select polrelid::regclass::text, polroles::regrole[]::text[] from pg_policy "
            "where polname in ('definer_access', 'retention_read', 'retention_purge')"
        ).fetchall()
    assert rows, "no definer_access policies"
    for table, roles in rows:
        assert roles == ["assistec_migrator"], table


def test_the_ops_policies_are_read_only_and_for_the_ops_role_only(database: PgDatabase) -> None:
    with psycopg.connect(database.superuser_url) as conn:
        rows = conn.execute(
            "select polrelid::regclass::text, polcmd, polroles::regrole[]::text[] "
            "from pg_policy where polname = 'ops_read'"
        ).fetchall()
    assert rows, "no ops_read policies"
    for table, command, roles in rows:
        assert (command, roles) == ("r", ["assistec_ops"]), table


def test_the_app_role_cannot_bypass_rls(database: PgDatabase) -> None:
    with psycopg.connect(database.app_url) as conn:
        row = conn.execute(
            "select rolbypassrls, rolsuper from pg_roles where rolname = current_user"
        ).fetchone()
    assert row == (False, False)


@pytest.fixture
def two_shops(client: Client) -> tuple:
    return signup(client, name="Loja A Celulares"), signup(client, name="Loja B Informática")


def _db(url: str) -> Database:
    return Database(DatabaseSettings(database_url=url, db_sslmode="disable"))


def test_cross_tenant_reads_return_nothing(database: PgDatabase, two_shops: tuple) -> None:
    shop_a, shop_b = two_shops
    db = _db(database.app_url)
    # When shop A's unit of work looks for shop B's owner, tenant row and settings
    with db.tenant_tx(uuid.UUID(shop_a.tenant_id)) as conn:
        users = conn.execute("select id from users where id = %s", (shop_b.owner_id,)).fetchall()
        tenants = conn.execute("select id from tenants").fetchall()
        settings = conn.execute("select tenant_id from tenant_settings").fetchall()
    # Then it finds nothing of B; only its own shop exists for it
    assert users == []
    assert [str(t[0]) for t in tenants] == [shop_a.tenant_id]
    assert [str(s[0]) for s in settings] == [shop_a.tenant_id]
    db.close()


def test_cross_tenant_writes_fail_or_touch_nothing(database: PgDatabase, two_shops: tuple) -> None:
    shop_a, shop_b = two_shops
    db = _db(database.app_url)
    # Inserting a row for shop B from shop A's transaction is refused by WITH CHECK
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.tenant_tx(uuid.UUID(shop_a.tenant_id)) as conn,
    ):
        conn.execute(
            "insert into users (tenant_id, email, name, password_hash, role) "
            "values (%s, %s, 'Intruso', 'x', 'admin')",
            (shop_b.tenant_id, f"intruso-{uuid.uuid4().hex[:6]}@x.com"),
        )
    # Updating or deleting B's rows from A's transaction touches nothing
    with db.tenant_tx(uuid.UUID(shop_a.tenant_id)) as conn:
        updated = conn.execute(
            "update users set name = 'Hackeado' where id = %s", (shop_b.owner_id,)
        ).rowcount
        deleted = conn.execute(
            "delete from tenant_settings where tenant_id = %s", (shop_b.tenant_id,)
        ).rowcount
    assert updated == 0
    assert deleted == 0
    # Moving A's own row into shop B is refused too
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.tenant_tx(uuid.UUID(shop_a.tenant_id)) as conn,
    ):
        conn.execute("update users set tenant_id = %s where id = %s", (shop_b.tenant_id, shop_a.owner_id))
    with psycopg.connect(database.superuser_url) as admin:
        names = admin.execute("select name from users where id = %s", (shop_b.owner_id,)).fetchone()
        owner_a = admin.execute(
            "select tenant_id::text from users where id = %s", (shop_a.owner_id,)
        ).fetchone()
    assert names == ("Maria da Silva",)
    assert owner_a == (shop_a.tenant_id,)
    db.close()


def test_without_a_tenant_nothing_is_visible(database: PgDatabase, two_shops: tuple) -> None:
    db = _db(database.app_url)
    with db.transaction() as conn:
        assert conn.execute("select count(*) from users").fetchone() == (0,)
        assert conn.execute("select count(*) from tenants").fetchone() == (0,)
    db.close()


def test_a_reused_connection_never_carries_the_previous_tenant(
    database: PgDatabase, two_shops: tuple
) -> None:
    shop_a, _ = two_shops
    db = _db(database.app_url)
    # Given one warm connection that just served shop A
    with db.tenant_tx(uuid.UUID(shop_a.tenant_id)) as conn:
        first_backend = conn.info.backend_pid
        assert conn.execute("select count(*) from users").fetchone()[0] >= 1
    # When the next request on the same connection opens a transaction without a tenant
    with db.transaction() as conn:
        assert conn.info.backend_pid == first_backend  # really the same connection
        setting = conn.execute("select current_setting('app.tenant_id', true)").fetchone()
        visible = conn.execute("select count(*) from users").fetchone()
    # Then the tenant setting is gone and no row of A is visible
    assert setting in ((None,), ("",))
    assert visible == (0,)
    db.close()


def test_the_ops_role_reads_every_shop_but_writes_nothing(database: PgDatabase, two_shops: tuple) -> None:
    shop_a, shop_b = two_shops
    with psycopg.connect(database.ops_url) as ops:
        tenants = {str(t) for (t,) in ops.execute("select id from tenants").fetchall()}
        assert {shop_a.tenant_id, shop_b.tenant_id} <= tenants
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            ops.execute("update users set name = 'x' where id = %s", (shop_a.owner_id,))
