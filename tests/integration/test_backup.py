"""Backups a shop can restore (issue 13 §3), against the real PostgreSQL: a shop's bundle holds that
shop's rows and no other's, a restore puts the shop back as the bundle has it and leaves every other
shop as it was, a bundle that is not right changes nothing, the weekly restore test checks bundles in
scratch tables, the owner's zip leaves the secrets out, and the backup flow's handlers are idempotent
(also when two exports of a shop run at once).

Shops are built through the API (customers, devices with unlock codes and photos, orders with
transitions, a quote with reserved parts, an appointment, price rules; the audit log fills itself);
the database is read as the superuser to compare what the app role wrote.
"""

from __future__ import annotations

import dataclasses
import io
import json
import threading
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from assistec.db.connection import Database
from assistec.domain.backup_bundle import BundleRefused, VerifiedBundle, read_tables
from assistec.integrations.storage import BundleExistsError, StoredBundle
from assistec.settings import DatabaseSettings
from tests.conftest import LambdaContext, PgDatabase
from tests.integration.conftest import Client, FakeBus, FakeDataKeys, Shop, signup
from tests.integration.shop_helpers import _ok, customer_and_device, move, open_order, part, quoted_order
from tests.integration.test_scheduling import at, book, future_weekday

SP = ZoneInfo("America/Sao_Paulo")


# --- fakes and helpers ----------------------------------------------------------------------------


class FakeBundleStore:
    """S3's contract for the bundles, in memory: a put lands only on a free key (If-None-Match),
    atomically; objects keep their tags; the second bucket is another dict."""

    def __init__(self, *, copies: bool = True) -> None:
        self.objects: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.copied: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.stored_at: dict[str, datetime] = {}
        self.copies = copies
        self.puts = 0
        self._lock = threading.Lock()

    def head(self, key: str) -> int | None:
        found = self.objects.get(key)
        return len(found[0]) if found else None

    def put(self, key: str, body: Any, *, tags: dict[str, str]) -> None:
        data = body.read()
        with self._lock:
            if key in self.objects:
                raise BundleExistsError(key)
            self.objects[key] = (data, dict(tags))
            self.stored_at[key] = datetime.now(UTC)
            self.puts += 1

    def get(self, key: str, sink: Any) -> None:
        sink.write(self.objects[key][0])

    def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def entries(self, prefix: str) -> list[StoredBundle]:
        return [StoredBundle(k, len(self.objects[k][0]), self.stored_at[k]) for k in self.list(prefix)]

    def tags(self, key: str) -> dict[str, str]:
        return dict(self.objects[key][1])

    def copy(self, key: str) -> None:
        self.copied.setdefault(key, self.objects[key])


def _db(url: str) -> Database:
    return Database(DatabaseSettings(database_url=url, db_secret_id=None, db_sslmode="disable"))


def _tables(database: PgDatabase) -> dict[str, str]:
    """Every table of the shops' data → the column naming the shop."""
    with psycopg.connect(database.superuser_url) as conn:
        rows = conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'public' and c.relkind = 'r' and exists (select 1 from pg_attribute a "
            "where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)"
        ).fetchall()
    return {"tenants": "id", **{r[0]: "tenant_id" for r in rows}}


def shop_rows(database: PgDatabase, tenant_id: str) -> dict[str, list[str]]:
    """Every row of the shop, every column (generated ones too), per table, as text, sorted."""
    from psycopg import sql

    found = {}
    with psycopg.connect(database.superuser_url) as conn:
        for table, column in _tables(database).items():
            rows = conn.execute(
                sql.SQL("select t::text from public.{} t where {} = %s order by 1").format(
                    sql.Identifier(table), sql.Identifier(column)
                ),
                (tenant_id,),
            ).fetchall()
            found[table] = [r[0] for r in rows]
    return found


def _sql(database: PgDatabase, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(query, params).fetchall()


def _execute(database: PgDatabase, query: str, *params: Any) -> None:
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(query, params)


def build_shop(client: Client, database: PgDatabase, name: str) -> Shop:
    """A shop with a bit of everything: customers, devices (an unlock code, a photo), orders moved
    along (one a warranty return of another), a quote holding a part, a price rule, an appointment."""
    shop = signup(client, name=name)
    first = open_order(client, shop)
    status, body = move(client, shop, first, "diagnosing", "Cliente autorizou")
    assert status == 200, body
    second = open_order(client, shop)
    screen = part(client, shop)
    _, quote = quoted_order(client, shop, [{"kind": "part", "part_id": screen["id"], "quantity": 1}])
    _ok(
        client.call(
            "POST",
            f"/quotes/{quote['id']}/decision",
            shop.access_token,
            body={"decision": "approve", "name": "Ana"},
        )
    )
    customer_id, _ = customer_and_device(client, shop)
    device = _ok(
        client.call(
            "POST",
            f"/customers/{customer_id}/devices",
            shop.access_token,
            body={"type": "phone", "brand": "Apple", "model": "iPhone 13", "unlock_code": "482915"},
        )
    )
    _ok(
        client.call(
            "POST", f"/devices/{device['id']}/photos", shop.access_token, body={"content_type": "image/jpeg"}
        )
    )
    _ok(
        client.call(
            "POST",
            "/price-rules",
            shop.access_token,
            body={"service": "Troca de tela", "device_type": "phone", "price_cents": 35000},
        )
    )
    status, booked = book(client, shop, customer_id, at(future_weekday(), "10:00"))
    assert status == 201, booked
    # A warranty return pointing at an order whose id sorts after its own (its self-reference must be
    # written after both rows exist); set here, the API needs a delivered order under warranty.
    low, high = sorted([first["id"], second["id"]])
    _execute(database, "update service_orders set warranty_of = %s where id = %s", high, low)
    return shop


@dataclasses.dataclass
class World:
    a: Shop
    b: Shop
    root: Any
    store: FakeBundleStore
    keys: FakeDataKeys
    database: PgDatabase

    @property
    def app(self) -> Database:
        return self.root.database  # type: ignore[no-any-return]

    @property
    def a_id(self) -> uuid.UUID:
        return uuid.UUID(self.a.tenant_id)

    @property
    def b_id(self) -> uuid.UUID:
        return uuid.UUID(self.b.tenant_id)


@pytest.fixture
def backups(
    monkeypatch: pytest.MonkeyPatch, database: PgDatabase, api_root: Any, bus: FakeBus
) -> Iterator[Any]:
    """The backup functions' root as deployed, against the session's database, with S3 and KMS
    replaced by fakes keeping their contracts and the ops role as the scratch connection."""
    from assistec.settings import BackupSettings
    from assistec.wiring import backup as wiring

    monkeypatch.setenv("BACKUP_BUCKET", "assistec-test-backups")
    monkeypatch.setenv("BACKUP_COPY_BUCKET", "assistec-test-backups-copy")
    monkeypatch.setenv("BACKUP_KEY_ID", "alias/assistec-test-secrets")
    monkeypatch.setenv("SCRATCH_DATABASE_URL", database.ops_url)
    root = wiring.BackupRoot(BackupSettings())  # type: ignore[call-arg]
    root.bundle_store = FakeBundleStore()
    root.data_keys = FakeDataKeys()
    root.event_bus = bus
    wiring.install(root)
    yield root
    wiring.install(None)


@pytest.fixture
def world(client: Client, database: PgDatabase, backups: Any) -> World:
    return World(
        a=build_shop(client, database, "Loja A Celulares"),
        b=build_shop(client, database, "Loja B Informática"),
        root=backups,
        store=backups.bundle_store,
        keys=backups.data_keys,
        database=database,
    )


def export(world: World, tenant_id: uuid.UUID) -> bytes:
    from assistec.services.backup.export import export_bundle

    sink = io.BytesIO()
    export_bundle(world.app, tenant_id, world.keys, sink)
    return sink.getvalue()


def verify(world: World, data: bytes, tenant_id: uuid.UUID) -> VerifiedBundle:
    from assistec.services.backup.verify import verify as verify_bundle

    return verify_bundle(io.BytesIO(data), tenant_id, world.keys)


def table_texts(data: bytes, verified: VerifiedBundle) -> dict[str, bytes]:
    return {entry.name: stream.read() for entry, stream in read_tables(io.BytesIO(data), verified)}


def permit(world: World, tenant_id: uuid.UUID) -> str:
    """A restore permit for the shop, issued as the ops role (only it may issue one)."""
    from assistec.services.backup.restore import permit_restore

    return permit_restore(_db(world.database.ops_url), tenant_id, "arn:aws:iam::111111111111:user/test")


def restore(world: World, tenant_id: uuid.UUID, data: bytes) -> Any:
    from assistec.services.backup.restore import restore_bundle

    return restore_bundle(world.app, tenant_id, io.BytesIO(data), world.keys, permit=permit(world, tenant_id))


# The tables whose rows a restore does not roll back (tables.RESTORE), and those it empties.
KEPT = {"outbox", "webhook_inbox", "whatsapp_inbox", "tenant_subscriptions", "subscription_invoices",
        "billing_notices", "backup_runs", "data_exports", "bank_agreements", "remessa_files"}  # fmt: skip
CLEARED = {"refresh_tokens", "google_oauth_states", "asaas_customer_claims", "realtime_tickets",
           "realtime_connections"}  # fmt: skip


# --- export ---------------------------------------------------------------------------------------


def test_a_bundle_holds_its_shop_and_nothing_of_another(world: World) -> None:
    from assistec.domain.backup_bundle import copy_rows

    # Given shops A and B with data in most tables
    before = shop_rows(world.database, world.a.tenant_id)
    # When A's bundle is made and read back
    data = export(world, world.a_id)
    verified = verify(world, data, world.a_id)
    texts = table_texts(data, verified)
    # Then every row of every table file is A's
    assert texts, "no tables"
    for entry in verified.manifest.tables:
        rows = list(copy_rows(io.BytesIO(texts[entry.name])))
        shop_column = [c.name for c in entry.columns].index("id" if entry.name == "tenants" else "tenant_id")
        assert {row[shop_column] for row in rows} <= {world.a.tenant_id}, entry.name
        # and all of A's rows are there
        assert len(rows) == len(before[entry.name]) == entry.rows, entry.name
    # And B's shop id appears nowhere in it
    assert world.b.tenant_id.encode() not in b"".join(texts.values())
    # And the data the test made is really in it (not a bundle of empty tables)
    counts = {t.name: t.rows for t in verified.manifest.tables}
    made = (
        "customers", "devices", "device_photos", "service_orders", "order_transitions", "quotes",
        "reservations", "stock_movements", "parts", "price_rules", "appointments", "audit_log", "users",
    )  # fmt: skip
    for table in made:
        assert counts[table] > 0, table
    assert counts["tenants"] == 1
    # And what is left out says why; photos are referenced, not copied
    assert set(verified.manifest.excluded) >= {"refresh_tokens", "login_attempts", "signup_requests"}
    assert "device_photos" in verified.manifest.notes["photos"]
    assert (
        verified.manifest.schema_version
        == _sql(world.database, "select max(version) from schema_migrations")[0][0]
    )
    # Generated columns are left out (PostgreSQL computes them again)
    customers = verified.manifest.table("customers")
    assert customers is not None
    assert "search_name" not in [c.name for c in customers.columns]


def test_the_backup_tables_match_the_isolation_tests_catalog(database: PgDatabase) -> None:
    # The global tables a bundle says it leaves out are the ones the isolation test declares global,
    # and every tenant table is either in a bundle or listed as left out, with a reason
    from assistec.db import backup as backup_db
    from assistec.services.backup.tables import GLOBAL_TABLES, NOT_BUNDLED, bundled
    from tests.integration.test_tenant_isolation import GLOBAL_TABLES as ISOLATION_GLOBAL

    assert set(GLOBAL_TABLES) == ISOLATION_GLOBAL
    with _db(database.app_url).transaction() as conn:
        shapes = backup_db.tenant_tables(conn)
        in_bundle = {s.name for s in bundled(shapes)}
    assert in_bundle | set(NOT_BUNDLED) == {s.name for s in shapes}
    assert not in_bundle & set(NOT_BUNDLED)


def test_the_presence_probe_finds_exactly_the_tables_holding_the_shops_rows(world: World) -> None:
    # An empty table goes into the bundle without a COPY: the probe that decides it must see every
    # table with one of the shop's rows, and no table with only another shop's rows
    from assistec.db import backup as backup_db
    from assistec.services.backup.tables import bundled

    # Given a table with B's rows only
    _execute(world.database, "delete from price_rules where tenant_id = %s", world.a.tenant_id)
    found = {}
    for shop in (world.a, world.b):
        rows = shop_rows(world.database, shop.tenant_id)
        with backup_db.snapshot(_db(world.database.app_url), uuid.UUID(shop.tenant_id)) as conn:
            tables = bundled(backup_db.tenant_tables(conn))
            found[shop.tenant_id] = backup_db.tables_with_rows(conn, tables, uuid.UUID(shop.tenant_id))
        # Then the probe names the tables with the shop's rows, all of them and only them
        assert found[shop.tenant_id] == {t.name for t in tables if rows.get(t.name)}, shop.tenant_id
        assert len(found[shop.tenant_id]) > 5
    assert "price_rules" in found[world.b.tenant_id]
    assert "price_rules" not in found[world.a.tenant_id]
    # And A's bundle holds the table, empty
    verified = verify(world, export(world, world.a_id), world.a_id)
    entry = verified.manifest.table("price_rules")
    assert entry is not None
    assert entry.rows == 0


def test_the_catalog_stamp_changes_with_any_ddl_on_a_table(database: PgDatabase) -> None:
    # The export keeps the tables' shapes between runs under this stamp: a column, a key, a grant or
    # the row-level security of a table must change it (each then rolled back)
    from assistec.db import backup as backup_db

    changes = (
        "alter table customers add column extra text",
        # (these two leave the table's pg_class row as it was)
        "alter table customers drop column notes",
        "alter table customers rename column notes to observations",
        "alter table customers alter column notes set default 'sem observações'",
        "alter table customers alter column notes type varchar(3000)",
        "alter table customers add constraint probe_unique unique (tenant_id, phone, id)",
        "revoke select on price_rules from assistec_app",
        "alter table parts no force row level security",
        "create table public.later (id int, tenant_id uuid)",
    )
    with psycopg.connect(database.superuser_url) as conn:
        before = backup_db.catalog_stamp(conn)
        assert before == backup_db.catalog_stamp(conn)
        for change in changes:
            with conn.transaction():
                conn.execute(change)
                assert backup_db.catalog_stamp(conn) != before, change
                raise psycopg.Rollback()
        assert backup_db.catalog_stamp(conn) == before


def test_an_export_after_ddl_reads_the_catalog_again(world: World) -> None:
    # The export keeps the catalog between shops and reads its stamp with the snapshot's facts: a
    # column added between two exports in the same process must be in the second bundle
    data = export(world, world.a_id)
    customers = verify(world, data, world.a_id).manifest.table("customers")
    assert customers is not None
    assert "backup_probe" not in [c.name for c in customers.columns]
    _execute(world.database, "alter table customers add column backup_probe text not null default 'novo'")
    try:
        data = export(world, world.a_id)
        verified = verify(world, data, world.a_id)
        customers = verified.manifest.table("customers")
        assert customers is not None
        assert customers.rows > 0
        assert [c.name for c in customers.columns][-1] == "backup_probe"
        text = table_texts(data, verified)["customers"]
        assert all(line.endswith(b"\tnovo") for line in text.splitlines())
    finally:
        _execute(world.database, "alter table customers drop column backup_probe")
    # And the next export, the column gone, has it no more
    customers = verify(world, export(world, world.a_id), world.a_id).manifest.table("customers")
    assert customers is not None
    assert "backup_probe" not in [c.name for c in customers.columns]


def test_the_presence_function_answers_as_the_probes_do(world: World) -> None:
    # The export asks the database's presence function (migration 0041, its plans kept for the
    # session) which tables hold the shop's rows: it must probe every table the app role reads, and
    # answer what the probes answer
    from assistec.db import backup as backup_db
    from assistec.services.backup.tables import bundled

    _execute(world.database, "delete from price_rules where tenant_id = %s", world.a.tenant_id)
    for shop in (world.a, world.b):
        tenant = uuid.UUID(shop.tenant_id)
        with backup_db.snapshot(_db(world.database.app_url), tenant) as conn:
            found = backup_db.tenant_tables(conn)
            tables = bundled(found)
            presence = backup_db.presence_tables(conn)
            assert presence is not None
            assert set(presence) == {t.name for t in found if t.readable}
            facts = backup_db.snapshot_facts(conn, tenant, tables, presence=presence)
            assert not facts.presence_failed
            assert facts.present == backup_db.tables_with_rows(conn, tables, tenant)
            assert ("price_rules" in facts.present) == (shop is world.b)
            # And the export asks it: its facts statement calls the function, no probe of its own
            statement = backup_db.facts_statement(conn, tables, presence=True)
            assert b"backup_presence(" in statement
            assert b"exists (select from" not in statement


def test_the_presence_function_follows_the_tables_the_migrations_leave(database: PgDatabase) -> None:
    # A migration that adds a shop table: the runner writes the presence function again in the same
    # transaction (rolled back here, the database as it was)
    from assistec.db import backup as backup_db
    from assistec.db.migrate import Migration, apply, load_migrations

    later = Migration(
        9999,
        "later_table",
        "create table later_things (id uuid primary key, tenant_id uuid not null references tenants (id));"
        " grant select on later_things to assistec_app;",
    )
    with psycopg.connect(database.migrator_url) as conn:
        with conn.transaction():
            assert [m.version for m in apply(conn, [*load_migrations(), later])] == [9999]
            presence = backup_db.presence_tables(conn)
            assert presence is not None
            assert "later_things" in presence
            raise psycopg.Rollback()
        presence = backup_db.presence_tables(conn)
        assert presence is not None
        assert "later_things" not in presence


def test_a_table_created_outside_the_migrations_is_still_in_the_bundle(world: World) -> None:
    # DDL by hand leaves the presence function behind the catalog: the export sees they differ and
    # probes the tables itself, so the new table's rows are in the bundle
    for statement in (
        "create table by_hand (id uuid primary key default gen_random_uuid(),"
        " tenant_id uuid not null references tenants (id), note text not null)",
        "alter table by_hand enable row level security",
        "alter table by_hand force row level security",
        "create policy tenant_isolation on by_hand using"
        " (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)",
        "grant select on by_hand to assistec_app",
    ):
        _execute(world.database, statement)
    _execute(
        world.database, "insert into by_hand (tenant_id, note) values (%s, 'feito à mão')", world.a.tenant_id
    )
    try:
        data = export(world, world.a_id)
        verified = verify(world, data, world.a_id)
        entry = verified.manifest.table("by_hand")
        assert entry is not None
        assert entry.rows == 1
        assert table_texts(data, verified)["by_hand"].endswith(b"\tfeito \xc3\xa0 m\xc3\xa3o\n")
    finally:
        _execute(world.database, "drop table by_hand")
    # And dropped by hand, the next export in this process (its facts statement, kept from the last
    # one, names the table) reads the catalog again and leaves it out
    data = export(world, world.a_id)
    assert verify(world, data, world.a_id).manifest.table("by_hand") is None


def test_when_the_presence_function_cannot_answer_the_tables_are_probed(world: World) -> None:
    # A table it probes unreadable to the app role (or gone) makes the function answer null, not
    # fail the shop's backup: the facts come from the statement's own probes, in the same snapshot
    from assistec.db import backup as backup_db
    from assistec.services.backup.tables import bundled

    tenant = uuid.UUID(world.a.tenant_id)
    with psycopg.connect(world.database.superuser_url) as conn:
        presence = backup_db.presence_tables(conn)
        assert presence is not None
        tables = [t for t in bundled(backup_db.tenant_tables(conn)) if t.name != "price_rules"]
        conn.execute("revoke select on price_rules from assistec_app")
        conn.execute("set local role assistec_app")
        conn.execute("select enter_tenant(%s, '')", (world.a.tenant_id,))
        assert conn.execute("select public.backup_presence(%s)", (tenant,)).fetchone() == (None,)
        facts = backup_db.snapshot_facts(conn, tenant, tables, presence=presence)
        assert facts.presence_failed
        assert facts.present == backup_db.tables_with_rows(conn, tables, tenant)
        assert "customers" in facts.present
        conn.rollback()


# --- restore into the same database ---------------------------------------------------------------


def test_a_restore_puts_the_shop_back_and_leaves_the_other_shop_alone(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.services.backup import restore as restore_module

    # (one row per statement: a warranty return and its original order land in separate statements)
    monkeypatch.setattr(restore_module, "BATCH_ROWS", 1)
    db = world.database
    # Given A's bundle, and A's and B's rows when it was made
    a_then = shop_rows(db, world.a.tenant_id)
    data = export(world, world.a_id)
    # And then A changes: a customer renamed, a new order, an appointment cancelled, rows lost
    customer = _ok(client.call("GET", "/customers", world.a.access_token))["items"][0]
    _ok(
        client.call(
            "PATCH",
            f"/customers/{customer['id']}",
            world.a.access_token,
            body={"name": "Nome Trocado", "version": customer["version"]},
        )
    )
    open_order(client, world.a)
    _execute(db, "delete from price_rules where tenant_id = %s", world.a.tenant_id)
    _execute(db, "delete from order_transitions where tenant_id = %s", world.a.tenant_id)
    _execute(db, "update tenants set name = 'Loja A Renomeada' where id = %s", world.a.tenant_id)
    a_changed = shop_rows(db, world.a.tenant_id)
    assert a_changed != a_then
    b_before = shop_rows(db, world.b.tenant_id)

    # When A's bundle is restored
    report = restore(world, world.a_id, data)

    # Then every table a restore replaces is exactly as it was in the bundle
    a_now = shop_rows(db, world.a.tenant_id)
    for table, rows in a_then.items():
        if table in KEPT or table in CLEARED or table == "audit_log":
            continue
        assert a_now[table] == rows, table
    # And the audit log lost nothing: everything before, everything since, and the restore itself
    assert set(a_changed["audit_log"]) <= set(a_now["audit_log"])
    assert set(a_then["audit_log"]) <= set(a_now["audit_log"])
    assert any('"restore"' in row or ",restore," in row for row in a_now["audit_log"])
    # And the ledgers a restore keeps are as they were just before it; sessions are ended
    for table in KEPT:
        assert a_now[table] == a_changed[table], table
    assert a_now["refresh_tokens"] == []
    # And shop B is untouched, byte for byte
    assert shop_rows(db, world.b.tenant_id) == b_before
    assert report.written["service_orders"] == len(a_then["service_orders"])
    assert report.deleted["service_orders"] == len(a_changed["service_orders"])


def test_restored_data_works_through_the_api(client: Client, world: World) -> None:
    # Given A restored from its bundle after a customer was renamed and an order opened
    data = export(world, world.a_id)
    numbers = _sql(
        world.database, "select max(number) from service_orders where tenant_id = %s", world.a.tenant_id
    )
    customer = _ok(client.call("GET", "/customers", world.a.access_token))["items"][0]
    _ok(
        client.call(
            "PATCH",
            f"/customers/{customer['id']}",
            world.a.access_token,
            body={"name": "Nome Trocado", "version": customer["version"]},
        )
    )
    open_order(client, world.a)
    restore(world, world.a_id, data)
    # Then the owner's session has ended: the old token is refused, signing in again works
    assert client.call("GET", "/customers", world.a.access_token)[0] == 401
    status, login, _ = client.call(
        "POST", "/auth/login", body={"email": world.a.email, "password": world.a.password}
    )
    assert status == 200, login
    owner = dataclasses.replace(
        world.a, access_token=login["access_token"], refresh_token=login["refresh_token"]
    )
    # And the customer is as it was, found by its name (a generated column, computed again) and editable
    # with the version the bundle had
    found = _ok(client.call("GET", "/customers", owner.access_token, query={"q": customer["name"][:4]}))[
        "items"
    ]
    assert customer["id"] in [c["id"] for c in found]
    again = _ok(client.call("GET", f"/customers/{customer['id']}", owner.access_token))
    assert (again["name"], again["version"]) == (customer["name"], customer["version"])
    _ok(
        client.call(
            "PATCH",
            f"/customers/{customer['id']}",
            owner.access_token,
            body={"name": "Ana Souza Lima", "version": again["version"]},
        )
    )
    # And the next order takes the number after the bundle's last one
    assert open_order(client, owner)["number"] == numbers[0][0] + 1


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "other shop's bundle"])
def test_a_bundle_that_is_not_right_is_refused_and_nothing_changes(world: World, damage: str) -> None:
    db = world.database
    # Given A's good bundle, and a damaged one
    data = export(world, world.a_id)
    if damage == "flipped byte":
        bad = bytearray(data)
        bad[len(bad) // 2] ^= 0x20
        bundle, code = bytes(bad), "tampered"
    elif damage == "truncated":
        bundle, code = data[: len(data) - 100], "truncated"
    else:
        bundle, code = export(world, world.b_id), "wrong_shop"
    _execute(db, "delete from price_rules where tenant_id = %s", world.a.tenant_id)
    a_before, b_before = shop_rows(db, world.a.tenant_id), shop_rows(db, world.b.tenant_id)
    # When the damaged one is restored as A
    with pytest.raises(BundleRefused) as refused:
        restore(world, world.a_id, bundle)
    # Then it is refused with its code and a pt-BR message, and neither shop changed at all
    assert refused.value.code == code
    assert refused.value.message
    assert shop_rows(db, world.a.tenant_id) == a_before
    assert shop_rows(db, world.b.tenant_id) == b_before


def test_a_bundle_of_another_schema_version_is_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bundle made when the database was at an older migration
    import dataclasses

    from assistec.db import backup as backup_db

    current = backup_db.snapshot_facts

    def older(*args: Any, **kwargs: Any) -> backup_db.SnapshotFacts:
        facts = current(*args, **kwargs)
        return dataclasses.replace(facts, schema_version=facts.schema_version - 1)

    monkeypatch.setattr(backup_db, "snapshot_facts", older)
    data = export(world, world.a_id)
    monkeypatch.setattr(backup_db, "snapshot_facts", current)
    _execute(world.database, "delete from price_rules where tenant_id = %s", world.a.tenant_id)
    a_before = shop_rows(world.database, world.a.tenant_id)
    # When it is restored into this database
    with pytest.raises(BundleRefused) as refused:
        restore(world, world.a_id, data)
    # Then it is refused, saying which versions, and nothing changed
    assert refused.value.code == "schema_mismatch"
    assert "versão" in refused.value.message
    assert shop_rows(world.database, world.a.tenant_id) == a_before


def test_a_restore_that_would_collide_with_another_shop_changes_nothing(client: Client, world: World) -> None:
    db = world.database
    # Given A's bundle, then A's attendant user removed and B taking over that e-mail address
    status, user, _ = client.call(
        "POST",
        "/users",
        world.a.access_token,
        body={"email": f"tec-{uuid.uuid4().hex[:8]}@exemplo.com.br", "name": "Técnico", "role": "technician",
              "password": "senha-forte-123"},
    )  # fmt: skip
    assert status == 201, user
    data = export(world, world.a_id)
    _execute(db, "update service_orders set technician_id = null where technician_id = %s", user["id"])
    _execute(db, "delete from refresh_tokens where user_id = %s", user["id"])
    _execute(db, "delete from users where id = %s", user["id"])
    _execute(
        db,
        "insert into users (tenant_id, email, name, password_hash, role) "
        "values (%s, %s, 'Outro', 'x', 'technician')",
        world.b.tenant_id,
        user["email"],
    )
    a_before, b_before = shop_rows(db, world.a.tenant_id), shop_rows(db, world.b.tenant_id)
    # When A's bundle is restored
    with pytest.raises(BundleRefused) as refused:
        restore(world, world.a_id, data)
    # Then the whole restore is refused (the e-mail is B's now) and nothing changed
    assert refused.value.code == "restore_conflict"
    assert shop_rows(db, world.a.tenant_id) == a_before
    assert shop_rows(db, world.b.tenant_id) == b_before


# --- the scratch restore --------------------------------------------------------------------------


def test_a_scratch_restore_matches_the_manifest_and_leaves_nothing_behind(world: World) -> None:
    from assistec.services.backup.restore import restore_to_scratch

    scratch = _db(world.database.ops_url)
    data = export(world, world.a_id)
    verified = verify(world, data, world.a_id)
    # When the bundle is written into scratch tables as the ops role and exported back
    check = restore_to_scratch(scratch, io.BytesIO(data), verified)
    # Then every table matches its manifest entry, and the scratch tables are gone
    assert check.ok, check.problems
    assert len(check.relations) == len(verified.manifest.tables)
    assert _sql(world.database, "select count(*) from pg_tables where schemaname = 'backup_restore'") == [
        (0,)
    ]

    # And kept for inspection, the tables hold the bundle's rows
    check = restore_to_scratch(scratch, io.BytesIO(data), verified, keep=True)
    relation = check.relations["service_orders"]
    try:
        rows = _sql(world.database, f'select count(*) from backup_restore."{relation}"')
        assert rows == [(verified.manifest.table("service_orders").rows,)]  # type: ignore[union-attr]
    finally:
        for name in check.relations.values():
            _execute(world.database, f'drop table if exists backup_restore."{name}"')

    # And a difference would be found: a manifest that does not say what the tables hold
    entry = verified.manifest.tables[0]
    wrong = dataclasses.replace(entry, sha256="0" * 64)
    manifest = dataclasses.replace(verified.manifest, tables=(wrong, *verified.manifest.tables[1:]))
    check = restore_to_scratch(scratch, io.BytesIO(data), dataclasses.replace(verified, manifest=manifest))
    assert not check.ok
    assert entry.name in check.problems[0]


def test_the_ops_role_writes_nowhere_but_the_scratch_schema(database: PgDatabase) -> None:
    with psycopg.connect(database.ops_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("create table public.shadow (id int)")
    with psycopg.connect(database.ops_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("create schema assistec_app")
    with psycopg.connect(database.app_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("create table backup_restore.t (id int)")


def test_the_restore_functions_act_on_the_current_shop_only(world: World) -> None:
    # A call outside a shop's transaction is refused; a kept ledger is never cleared
    with psycopg.connect(world.database.app_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select backup_restore_clear('customers')")
    b_before = shop_rows(world.database, world.b.tenant_id)
    with psycopg.connect(world.database.app_url) as conn:
        for table in ("audit_log", "plans"):
            with conn.transaction():
                conn.execute("select enter_tenant(%s, '')", (world.a.tenant_id,))
                conn.execute("select backup_restore_begin(%s)", (permit(world, world.a_id),))
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute("select backup_restore_clear(%s)", (table,))
        # In A's transaction, with A's permit, clearing a table deletes A's rows only (then rolled back)
        with conn.transaction():
            conn.execute("select enter_tenant(%s, '')", (world.a.tenant_id,))
            conn.execute("select backup_restore_begin(%s)", (permit(world, world.a_id),))
            deleted = conn.execute("select backup_restore_clear('price_rules')").fetchone()
            assert deleted == (1,)
            raise psycopg.Rollback()
    assert shop_rows(world.database, world.b.tenant_id) == b_before


def _in_shop(database: PgDatabase, tenant_id: str, *statements: tuple[str, tuple[Any, ...]]) -> Any:
    """Run ``statements`` as the app role in the shop's transaction; the last one's first row."""
    with psycopg.connect(database.app_url) as conn, conn.transaction():
        conn.execute("select enter_tenant(%s, '')", (tenant_id,))
        row = None
        for statement, params in statements:
            row = conn.execute(statement, params).fetchone()
        return row


def test_the_app_role_alone_may_not_clear_a_shops_tables(world: World) -> None:
    db = world.database
    a_before, b_before = shop_rows(db, world.a.tenant_id), shop_rows(db, world.b.tenant_id)
    clear = ("select backup_restore_clear('price_rules')", ())
    # Given the app role in shop A's own transaction, with no permit: clearing is permission denied
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        _in_shop(db, world.a.tenant_id, clear)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        _in_shop(db, world.a.tenant_id, ("select backup_advance_identities()", ()))
    # And the app role may not issue itself a permit, nor read or write the permits
    with (
        psycopg.connect(db.app_url) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"),
    ):
        conn.execute("select backup_restore_permit(%s, sha256('x'::bytea), 'me')", (world.a.tenant_id,))
    for statement in (
        "select * from backup_restore_permits",
        "insert into backup_restore_permits (shop_id, token_sha256, operator, expires_at) "
        "values (gen_random_uuid(), sha256('x'::bytea), 'me', now() + interval '1 hour')",
    ):
        with psycopg.connect(db.app_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    # And a permit opens only its own shop, once, before it expires
    b_permit = permit(world, world.b_id)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permit"):
        _in_shop(db, world.a.tenant_id, ("select backup_restore_begin(%s)", (b_permit,)), clear)
    used = permit(world, world.a_id)
    assert _in_shop(db, world.a.tenant_id, ("select backup_restore_begin(%s)", (used,)), clear) == (1,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permit"):
        _in_shop(db, world.a.tenant_id, ("select backup_restore_begin(%s)", (used,)), clear)
    expired = permit(world, world.a_id)
    _execute(db, "update backup_restore_permits set expires_at = now() - interval '1 second' "
                 "where token_sha256 = sha256(convert_to(%s, 'UTF8'))", expired)  # fmt: skip
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permit"):
        _in_shop(db, world.a.tenant_id, ("select backup_restore_begin(%s)", (expired,)), clear)
    # And a permit used in another transaction does not open this one
    other = permit(world, world.a_id)
    with psycopg.connect(db.app_url) as first, first.transaction():
        first.execute("select enter_tenant(%s, '')", (world.a.tenant_id,))
        first.execute("select backup_restore_begin(%s)", (other,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
            _in_shop(db, world.a.tenant_id, clear)
        raise psycopg.Rollback()
    # Then only the one permitted clearing happened: A lost its price rules (committed above), nothing
    # else of A changed, and B is untouched
    a_after = shop_rows(db, world.a.tenant_id)
    assert a_before["price_rules"]
    assert a_after["price_rules"] == []
    assert {t: r for t, r in a_after.items() if t != "price_rules"} == {
        t: r for t, r in a_before.items() if t != "price_rules"
    }
    assert shop_rows(db, world.b.tenant_id) == b_before
    # And the permits say who asked for them
    assert _sql(db, "select distinct operator from backup_restore_permits where shop_id = %s",
                world.a.tenant_id) == [("arn:aws:iam::111111111111:user/test",)]  # fmt: skip


# --- the owner's zip -------------------------------------------------------------------------------


def test_the_owners_zip_has_csv_and_json_per_table_and_no_secrets(world: World) -> None:
    from assistec.services.backup.portability import portability_zip

    sink = io.BytesIO()
    report = portability_zip(world.app, world.a_id, sink)
    archive = zipfile.ZipFile(io.BytesIO(sink.getvalue()))
    names = set(archive.namelist())
    # Then each table is there twice (CSV and JSON), with a README
    assert "README.txt" in names
    for table in ("customers", "service_orders", "users", "devices", "appointments", "tenants"):
        assert {f"{table}.csv", f"{table}.json"} <= names
    assert not any(n.startswith("refresh_tokens") for n in names)
    # And no password hash, ciphertext, token or hash is in it: not as a column, not as a value
    everything = b"".join(archive.read(n) for n in names if n != "README.txt")
    password_hash = _sql(world.database, "select password_hash from users where id = %s", world.a.owner_id)[
        0
    ][0]
    assert password_hash.encode() not in everything
    tracking = _sql(
        world.database, "select tracking_token from service_orders where tenant_id = %s", world.a.tenant_id
    )
    assert all(t.encode() not in everything for (t,) in tracking)
    users_csv = archive.read("users.csv").decode().splitlines()
    assert "password_hash" not in users_csv[0]
    assert "email" in users_csv[0]
    devices = json.loads(archive.read("devices.json"))
    assert devices
    assert all("unlock_code" not in d for d in devices)
    assert "password_hash" in archive.read("README.txt").decode()
    # And the shop's own data is readable as data: names, numbers as numbers
    customers = json.loads(archive.read("customers.json"))
    assert {c["name"] for c in customers} >= {"Ana Souza"}
    orders = json.loads(archive.read("service_orders.json"))
    assert all(isinstance(o["number"], int) for o in orders)
    assert report.rows > 0


# --- the backup flow's handlers ---------------------------------------------------------------------


def _metrics(output: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for line in output.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = document[metric["Name"]]
                found[metric["Name"]] = value[0] if isinstance(value, list) and len(value) == 1 else value
    return found


@pytest.fixture
def metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistec.observability import metrics

    monkeypatch.setattr(metrics.provider, "namespace", "AssistecTest")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")  # `make test` disables metrics


def test_the_daily_flow_lists_exports_once_and_finishes(
    world: World, metrics_namespace: None, capsys: pytest.CaptureFixture[str], bus: FakeBus
) -> None:
    from assistec.handlers import backup as handler

    context = LambdaContext(function_name="assistec-backup")
    # When the flow starts without a date: the run's day is today in São Paulo
    listed = handler.shops({}, context)
    assert listed["date"] == datetime.now(SP).date().isoformat()
    # And the shops are listed in the bucket, for the flow's Distributed Map, under a key of the run
    assert listed["list_key"].startswith(f"runs/{listed['date']}/")
    data, tags = world.store.objects[listed["list_key"]]
    shops = json.loads(data)
    assert {"tenant_id": world.a.tenant_id} in shops
    assert {"tenant_id": world.b.tenant_id} in shops
    assert listed["shops"] == len(shops)
    assert tags == {"retention": "daily"}
    again = handler.shops({"date": "2026-11-01"}, context)
    assert again["date"] == "2026-11-01"
    assert again["list_key"] != listed["list_key"]
    # And a run for a few shops lists those alone; a shop that is not backed up is refused
    few = handler.shops({"date": "2026-11-01", "tenant_ids": [world.b.tenant_id]}, context)
    assert json.loads(world.store.objects[few["list_key"]][0]) == [{"tenant_id": world.b.tenant_id}]
    assert few["shops"] == 1
    with pytest.raises(LookupError):
        handler.shops({"tenant_ids": [world.b.tenant_id, str(uuid.uuid4())]}, context)
    world.store.objects.clear()
    world.store.puts = 0

    # When A is exported for a Sunday that is the 1st, twice
    first = handler.export({"tenant_id": world.a.tenant_id, "date": "2026-11-01"}, context)
    second = handler.export({"tenant_id": world.a.tenant_id, "date": "2026-11-01"}, context)
    # Then one bundle is stored, tagged monthly, copied to the second bucket; the second run skipped
    key = f"shops/{world.a.tenant_id}/2026-11-01.bundle"
    assert first == {"tenant_id": world.a.tenant_id, "key": key, "bytes": len(world.store.objects[key][0]),
                     "rows": first["rows"], "skipped": False}  # fmt: skip
    assert second["skipped"] is True
    assert second["key"] == key
    assert second["rows"] == first["rows"]
    assert world.store.puts == 1
    assert world.store.objects[key][1] == {"retention": "monthly"}
    assert world.store.copied[key] == world.store.objects[key]
    assert world.keys.generated == 1
    # And the stored bundle is A's, whole
    verified = verify(world, world.store.objects[key][0], world.a_id)
    assert verified.manifest.rows == first["rows"]
    runs = _sql(
        world.database,
        "select status, s3_key, bytes, rows, copied, retention, bundle_id from backup_runs "
        "where tenant_id = %s",
        world.a.tenant_id,
    )
    assert runs == [("ok", key, first["bytes"], first["rows"], True, "monthly", verified.manifest.bundle_id)]

    # When the flow finishes with B's export failed (the Map's Catch put its error there)
    capsys.readouterr()
    summary = handler.finish(
        {"date": "2026-11-01", "results": [first, {"tenant_id": world.b.tenant_id, "date": "2026-11-01",
                                                    "error": {"Error": "States.Timeout"}}]},
        context,
    )  # fmt: skip
    # Then the summary and the metrics say so
    assert (summary["exported"], summary["failed"], summary["failed_shops"]) == (1, 1, [world.b.tenant_id])
    published = _metrics(capsys.readouterr().out)
    assert published["BackupFailures"] == 1.0
    assert published["BackupAgeHours"] == pytest.approx(summary["backup_age_hours"], abs=0.01)
    # B has no bundle: the oldest good bundle's age counts from B's signup (minutes ago), A's is new
    assert 0 <= summary["backup_age_hours"] < 1
    assert [
        json.loads(e["Detail"])["failed"] for e in bus.entries if e["DetailType"] == "BackupRunFinished"
    ] == [1]

    # When a run of today finishes without its Map's results (too many shops to hand them on)
    today = listed["date"]
    assert handler.export({"tenant_id": world.a.tenant_id, "date": today}, context)["skipped"] is False
    summary = handler.finish({"date": today}, context)
    # Then the failures are the shops with no good bundle of the day: not A (B's is checked on a run
    # of A and B below: this database holds other tests' shops, and the summary names 100 at most)
    assert world.a.tenant_id not in summary["failed_shops"]
    assert len(summary["failed_shops"]) == min(summary["failed"], 100)
    assert summary["failed"] >= 1
    assert summary["shops"] >= listed["shops"]
    assert summary["exported"] == summary["shops"] - summary["failed"] >= 1
    # And a run of a few shops (its list in the bucket) is judged on those alone
    few = handler.shops({"date": today, "tenant_ids": [world.a.tenant_id, world.b.tenant_id]}, context)
    capsys.readouterr()
    summary = handler.finish({"date": today, "list_key": few["list_key"]}, context)
    assert (summary["shops"], summary["exported"], summary["failed"]) == (2, 1, 1)
    assert summary["failed_shops"] == [world.b.tenant_id]
    assert _metrics(capsys.readouterr().out)["BackupFailures"] == 1.0


def test_a_failed_export_is_recorded_then_replaced_by_a_good_one(world: World) -> None:
    from assistec.handlers import backup as handler

    context = LambdaContext(function_name="assistec-backup")
    # Given KMS down: the export fails, the failure is recorded and raised (the flow retries)
    world.keys.down = True
    with pytest.raises(ConnectionError):
        handler.export({"tenant_id": world.a.tenant_id, "date": "2026-11-24"}, context)
    assert _sql(
        world.database, "select status, error from backup_runs where tenant_id = %s", world.a.tenant_id
    ) == [("failed", "ConnectionError: KMS unavailable")]
    assert world.store.objects == {}
    # When the retry runs with KMS back: the day's record is the good bundle, tagged daily
    world.keys.down = False
    answer = handler.export({"tenant_id": world.a.tenant_id, "date": "2026-11-24"}, context)
    assert answer["skipped"] is False
    assert _sql(world.database, "select status, error, retention from backup_runs where tenant_id = %s",
                world.a.tenant_id) == [("ok", None, "daily")]  # fmt: skip


def test_an_export_that_died_after_storing_its_bundle_is_finished_by_the_next_run(world: World) -> None:
    from assistec.handlers import backup as handler

    context = LambdaContext(function_name="assistec-backup")
    # Given the day's bundle stored, but neither copied nor recorded (the function died there)
    handler.export({"tenant_id": world.a.tenant_id, "date": "2026-11-29"}, context)
    key = f"shops/{world.a.tenant_id}/2026-11-29.bundle"
    world.store.copied.clear()
    _execute(world.database, "delete from backup_runs where tenant_id = %s", world.a.tenant_id)
    # When the export runs again
    answer = handler.export({"tenant_id": world.a.tenant_id, "date": "2026-11-29"}, context)
    # Then nothing new is made; the copy and the record are finished from the stored bundle
    assert answer["skipped"] is True
    assert world.store.puts == 1
    assert key in world.store.copied
    stored = verify(world, world.store.objects[key][0], world.a_id)
    runs = _sql(
        world.database,
        "select status, bundle_id, retention, copied from backup_runs where tenant_id = %s",
        world.a.tenant_id,
    )
    assert runs == [("ok", stored.manifest.bundle_id, "weekly", True)]


def test_two_exports_of_a_shop_at_once_store_one_bundle(world: World) -> None:
    from assistec.services.backup.runs import BackupRuns

    # Given two exports of A for the same day, each on its own connection, both with their bundle
    # made (past the check for a recorded one) before either stores it
    store = world.store
    seen = threading.Barrier(2, timeout=30)
    real_put = store.put

    def put(key: str, data: Any, **kwargs: Any) -> None:
        seen.wait()
        real_put(key, data, **kwargs)

    store.put = put  # type: ignore[method-assign]
    answers: list[Any] = []

    def run() -> None:
        db = _db(world.database.app_url)
        try:
            answers.append(BackupRuns(db, store, world.keys).export(world.a_id, date(2026, 11, 24)))
        except Exception as exc:
            answers.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # Then exactly one bundle is stored, one export reports it made it and the other skipped
    assert all(not isinstance(a, Exception) for a in answers), answers
    assert sorted(a.skipped for a in answers) == [False, True]
    assert store.puts == 1
    key = f"shops/{world.a.tenant_id}/2026-11-24.bundle"
    stored = verify(world, store.objects[key][0], world.a_id)
    # And the record is that bundle's
    assert _sql(
        world.database, "select bundle_id from backup_runs where tenant_id = %s", world.a.tenant_id
    ) == [(stored.manifest.bundle_id,)]


def test_the_weekly_restore_test_checks_the_newest_bundles(
    world: World, metrics_namespace: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistec.handlers import backup as handler

    context = LambdaContext(function_name="assistec-backup-restore-test")
    # Given A's and B's bundles, B's damaged in the bucket since
    for shop in (world.a, world.b):
        handler.export({"tenant_id": shop.tenant_id, "date": "2026-11-24"}, context)
    key_b = f"shops/{world.b.tenant_id}/2026-11-24.bundle"
    data, tags = world.store.objects[key_b]
    world.store.objects[key_b] = (data[:-500] + bytes(500), tags)
    capsys.readouterr()
    # When the restore test runs over every shop's newest bundle
    summary = handler.restore_test({"limit": 500}, context)
    # Then A's passes and B's fails, and each outcome is recorded on its run
    results = {r["tenant_id"]: r for r in summary["results"]}
    assert results[world.a.tenant_id]["ok"] is True
    assert results[world.b.tenant_id] == {"tenant_id": world.b.tenant_id, "key": key_b, "ok": False,
                                          "error": "tampered"}  # fmt: skip
    assert _metrics(capsys.readouterr().out)["RestoreTestFailures"] >= 1.0
    checked = dict(
        _sql(
            world.database,
            "select tenant_id::text, restore_error from backup_runs where tenant_id = any(%s::uuid[]) "
            "and restore_checked_at is not null",
            [world.a.tenant_id, world.b.tenant_id],
        )
    )
    assert checked == {world.a.tenant_id: None, world.b.tenant_id: "tampered"}
    # And nothing is left in the scratch schema
    assert _sql(world.database, "select count(*) from pg_tables where schemaname = 'backup_restore'") == [
        (0,)
    ]


def test_export_all_exports_every_shop(world: World) -> None:
    from assistec.services.backup.runs import export_all

    store = FakeBundleStore(copies=False)
    answers = export_all(
        lambda: _db(world.database.app_url), store, world.keys, concurrency=3, day=date(2026, 11, 25)
    )
    assert all(not isinstance(a, Exception) for a in answers), [
        a for a in answers if isinstance(a, Exception)
    ]
    assert {f"shops/{s.tenant_id}/2026-11-25.bundle" for s in (world.a, world.b)} <= set(store.objects)
    assert len(store.objects) == len(answers)
