"""One shop's backups from the ops console (issue 13 §5): the ops function's ``backup_*`` commands,
through its handler, against the real PostgreSQL, with S3 and KMS replaced by the fakes the backup
tests use (their contracts kept) and the ops role as the scratch connection and the restore's permit
issuer.

export → list → verify → restore in place (the other shop unchanged) → scratch; a tampered bundle
refused with nothing changed; a restore without the shop's confirmation refused; every command in the
operator audit log, with the shop."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.conftest import LambdaContext, PgDatabase
from tests.integration.conftest import Client, FakeBus, FakeDataKeys, Shop, signup
from tests.integration.test_backup import FakeBundleStore, _db, _execute, _sql, build_shop, shop_rows

OPERATOR = "arn:aws:iam::111111111111:user/ana.ops"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Console:
    """The ops function as the console invokes it, with the backups' fakes it was built with."""

    store: FakeBundleStore
    keys: FakeDataKeys
    clock: Clock
    database: PgDatabase

    def run(self, command: str, **args: Any) -> dict[str, Any]:
        from assistec.handlers import ops as handler

        answer: dict[str, Any] = handler.handler(
            {"command": command, "args": args, "operator": OPERATOR},
            LambdaContext(function_name="assistec-ops", aws_request_id=f"req-{uuid.uuid4().hex[:8]}"),
        )
        # What the Lambda runtime sends back: JSON
        decoded: dict[str, Any] = json.loads(json.dumps(answer))
        return decoded

    def ok(self, command: str, **args: Any) -> Any:
        answer = self.run(command, **args)
        assert answer["ok"] is True, answer
        return answer["result"]

    def refused(self, command: str, **args: Any) -> dict[str, Any]:
        answer = self.run(command, **args)
        assert answer["ok"] is False, answer
        error: dict[str, Any] = answer["error"]
        return error

    def later(self, seconds: int = 1) -> None:
        self.clock.now += timedelta(seconds=seconds)

    def entries(self, shop_id: str) -> list[dict[str, Any]]:
        """The shop's entries of the operator audit log as the ops role reads them (oldest first)."""
        with (
            psycopg.connect(self.database.ops_url) as conn,
            conn.cursor(row_factory=psycopg.rows.dict_row) as cur,
        ):
            return cur.execute(
                "select * from ops_audit where shop_id = %s order by id", (shop_id,)
            ).fetchall()


@pytest.fixture
def console(
    monkeypatch: pytest.MonkeyPatch, api_root: Any, bus: FakeBus, database: PgDatabase
) -> Iterator[Console]:
    """The ops function's root as deployed (its settings from the environment, with the backups'),
    on the API's database, with S3 and KMS faked and the ops role as its scratch connection."""
    from assistec.services.ops import OpsConsole
    from assistec.settings import OpsSettings
    from assistec.wiring import ops as wiring

    monkeypatch.setenv("BACKUP_BUCKET", "assistec-test-backups")
    monkeypatch.setenv("BACKUP_COPY_BUCKET", "assistec-test-backups-copy")
    monkeypatch.setenv("BACKUP_KEY_ID", "alias/assistec-test-secrets")
    monkeypatch.setenv("SCRATCH_DATABASE_URL", database.ops_url)
    root = wiring.OpsRoot(OpsSettings())  # type: ignore[call-arg]
    root.database = api_root.database
    root.event_bus = bus
    root.bundle_store = FakeBundleStore()
    root.data_keys = FakeDataKeys()
    root.scratch_database = _db(database.ops_url)
    clock = Clock(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    # The root's console, with the clock replaced (the manual bundles' keys are stamped with it)
    assert root.ops is not None
    root.ops = OpsConsole(
        root.work,
        root.provisioning,
        key_secret=lambda: root.signing_key_secret,
        backups=lambda: root.backup_tools,
        clock=clock,
    )
    wiring.install(root)
    yield Console(root.bundle_store, root.data_keys, clock, database)
    wiring.install(None)


@dataclass
class Shops:
    a: Shop
    b: Shop


@pytest.fixture
def shops(client: Client, database: PgDatabase) -> Shops:
    return Shops(
        build_shop(client, database, "Loja A Celulares"), build_shop(client, database, "Loja B Info")
    )


def _nightly(console: Console, api_root: Any, shop: Shop, day: date) -> str:
    """The nightly flow's export of the shop for ``day``, into the same bucket; its key."""
    from assistec.services.backup.runs import BackupRuns

    runs = BackupRuns(api_root.database, console.store, console.keys)
    return runs.export(uuid.UUID(shop.tenant_id), day).key


# --- the whole way ---------------------------------------------------------------------------------
def test_export_list_verify_restore_in_place_and_scratch(
    console: Console, shops: Shops, api_root: Any, database: PgDatabase
) -> None:
    a, b = shops.a, shops.b
    # Given last night's bundle of A (the nightly flow's), and A's rows now
    nightly = _nightly(console, api_root, a, date(2026, 11, 23))
    a_then = shop_rows(database, a.tenant_id)

    # When the operator exports A now, by its owner's e-mail
    console.later()
    exported = console.ok("backup_export", shop=a.email)
    # Then a bundle is stored under its own key (never a nightly one's), tagged manual, and copied
    key = f"manual/{a.tenant_id}/20261124T150001Z.bundle"
    assert exported["key"] == key
    assert console.store.objects[key][1] == {"retention": "manual"}
    assert console.store.copied[key] == console.store.objects[key]
    assert exported["bytes"] == len(console.store.objects[key][0])
    assert exported["rows"] == sum(len(rows) for t, rows in a_then.items() if t in _bundled(exported))
    assert {t["name"]: t["rows"] for t in exported["tables"]}["service_orders"] == len(
        a_then["service_orders"]
    )
    # And the nightly record is not touched by it (one per day: the nightly's)
    assert _sql(database, "select s3_key from backup_runs where tenant_id = %s", a.tenant_id) == [(nightly,)]

    # When the operator lists A's bundles
    listed = console.ok("backup_list", shop=a.tenant_id)
    # Then both are there, newest first, with their sizes and retention tags; B's are not
    assert listed["shop"] == {"id": a.tenant_id, "name": "Loja A Celulares"}
    assert [(x["key"], x["kind"], x["retention"]) for x in listed["bundles"]] == [
        (key, "manual", "manual"),
        (nightly, "nightly", "daily"),
    ]
    assert listed["bundles"][1]["day"] == "2026-11-23"
    assert listed["bundles"][1]["bytes"] == len(console.store.objects[nightly][0])
    assert listed["bundles"][1]["rows"] == exported["rows"]
    _nightly(console, api_root, b, date(2026, 11, 23))
    assert len(console.ok("backup_list", shop=a.tenant_id)["bundles"]) == 2

    # When the operator verifies A's newest bundle (no key: the manual one)
    verified = console.ok("backup_verify", shop=a.tenant_id)
    # Then its manifest is summarised: A's, whole, restorable into this database's schema
    assert verified["key"] == key
    assert verified["shop_name"] == "Loja A Celulares"
    assert verified["rows"] == exported["rows"]
    assert verified["bundle_id"] == exported["bundle_id"]
    assert verified["restorable_in_place"] is True
    assert "refresh_tokens" in verified["excluded"]

    # Given A changed since: its price rules deleted, a customer renamed, the shop renamed
    _execute(database, "delete from price_rules where tenant_id = %s", a.tenant_id)
    _execute(database, "update customers set name = 'Outro Nome' where tenant_id = %s", a.tenant_id)
    _execute(database, "update tenants set name = 'Loja A Renomeada' where id = %s", a.tenant_id)
    a_changed, b_before = shop_rows(database, a.tenant_id), shop_rows(database, b.tenant_id)

    # When the operator restores A's manual bundle in place, confirming with A's id
    restored = console.ok("backup_restore", shop=a.email, key=key, confirm=a.tenant_id)
    # Then every table a restore replaces is as the bundle has it again, B is untouched
    a_now = shop_rows(database, a.tenant_id)
    for table in ("price_rules", "customers", "service_orders", "devices", "tenants", "users"):
        assert a_now[table] == a_then[table], table
    assert shop_rows(database, b.tenant_id) == b_before
    # And the answer says what was deleted and written, table by table
    tables = {t["name"]: t for t in restored["tables"]}
    assert tables["price_rules"] == {
        "name": "price_rules",
        "deleted": 0,
        "written": len(a_then["price_rules"]),
    }
    assert tables["customers"]["deleted"] == len(a_changed["customers"])
    assert restored["written"] == sum(t["written"] or 0 for t in restored["tables"])
    assert restored["bundle_id"] == exported["bundle_id"]
    # And the permit it used is the operator's, used once
    assert _sql(
        database,
        "select operator, used_at is not null from backup_restore_permits where shop_id = %s",
        a.tenant_id,
    ) == [(OPERATOR, True)]

    # When the operator restores last night's bundle into scratch tables
    scratch = console.ok("backup_scratch", shop=a.tenant_id, key=nightly)
    # Then it reads back as its manifest says; the nightly record keeps the check; nothing is left
    assert scratch["ok"] is True
    assert scratch["recorded"] is True
    assert _sql(
        database,
        "select restore_checked_at is not null, restore_error from backup_runs where s3_key = %s",
        nightly,
    ) == [(True, None)]
    assert _sql(database, "select count(*) from pg_tables where schemaname = 'backup_restore'") == [(0,)]

    # And every command is in the operator audit log under A, finished, with what it did
    entries = [e for e in console.entries(a.tenant_id) if e["command"].startswith("backup_")]
    assert [(e["command"], e["outcome"]) for e in entries] == [
        ("backup_export", "ok"),
        ("backup_list", "ok"),
        ("backup_list", "ok"),
        ("backup_verify", "ok"),
        ("backup_restore", "ok"),
        ("backup_scratch", "ok"),
    ]
    assert all(e["operator"] == OPERATOR and e["finished_at"] is not None for e in entries)
    restore_entry = entries[4]
    assert restore_entry["args"] == {"shop": a.email, "key": key, "confirm": a.tenant_id}
    assert restore_entry["detail"]["written"] == restored["written"]
    assert restore_entry["detail"]["key"] == key
    assert entries[0]["detail"]["key"] == key


def _bundled(exported: dict[str, Any]) -> set[str]:
    return {t["name"] for t in exported["tables"]}


# --- refusals --------------------------------------------------------------------------------------
def test_a_restore_needs_the_shops_id_as_confirmation_and_changes_nothing_without_it(
    console: Console, shops: Shops, database: PgDatabase
) -> None:
    a, b = shops.a, shops.b
    key = console.ok("backup_export", shop=a.tenant_id)["key"]
    _execute(database, "delete from price_rules where tenant_id = %s", a.tenant_id)
    a_before, b_before = shop_rows(database, a.tenant_id), shop_rows(database, b.tenant_id)
    # Without a confirmation: the arguments are not valid
    missing = console.refused("backup_restore", shop=a.tenant_id, key=key)
    assert missing["code"] == "invalid_args"
    assert {d["field"] for d in missing["details"]} == {"confirm"}
    # With another shop's id, the shop's e-mail or its name: not confirmed
    for confirm in (b.tenant_id, a.email, "Loja A Celulares", "yes"):
        refusal = console.refused("backup_restore", shop=a.tenant_id, key=key, confirm=confirm)
        assert refusal["code"] == "not_confirmed", confirm
        assert a.tenant_id in refusal["message"]
    # Then nothing changed in either shop, no permit was issued, and each refusal is audited under A
    assert shop_rows(database, a.tenant_id) == a_before
    assert shop_rows(database, b.tenant_id) == b_before
    assert _sql(database, "select count(*) from backup_restore_permits where shop_id = %s", a.tenant_id) == [
        (0,)
    ]
    outcomes = [(e["command"], e["outcome"]) for e in console.entries(a.tenant_id)]
    assert outcomes.count(("backup_restore", "refused")) == 4
    # (the invalid one names no shop: its arguments were never resolved)


def test_a_tampered_bundle_is_refused_everywhere_and_changes_nothing(
    console: Console, shops: Shops, api_root: Any, database: PgDatabase
) -> None:
    a, b = shops.a, shops.b
    # Given A's nightly bundle, one byte of it flipped in the bucket since
    key = _nightly(console, api_root, a, date(2026, 11, 22))
    data, tags = console.store.objects[key]
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 0x01
    console.store.objects[key] = (bytes(damaged), tags)
    _execute(database, "delete from price_rules where tenant_id = %s", a.tenant_id)
    a_before, b_before = shop_rows(database, a.tenant_id), shop_rows(database, b.tenant_id)

    # When the operator verifies, restores and scratch-restores it
    verify = console.refused("backup_verify", shop=a.tenant_id, key=key)
    restore = console.refused("backup_restore", shop=a.tenant_id, key=key, confirm=a.tenant_id)
    scratch = console.refused("backup_scratch", shop=a.tenant_id, key=key)
    # Then each is refused with the bundle's code and message, naming the key
    for refusal in (verify, restore, scratch):
        assert refusal["code"] == "tampered"
        assert refusal["message"]
        assert refusal["details"] == {"key": key}
    # And nothing changed in either shop; the nightly record says what the check found
    a_after = shop_rows(database, a.tenant_id)
    assert {t: r for t, r in a_after.items() if t != "backup_runs"} == {
        t: r for t, r in a_before.items() if t != "backup_runs"
    }
    assert shop_rows(database, b.tenant_id) == b_before
    assert _sql(database, "select restore_error from backup_runs where s3_key = %s", key) == [("tampered",)]
    assert _sql(database, "select count(*) from pg_tables where schemaname = 'backup_restore'") == [(0,)]
    # And each refusal is audited under A
    entries = console.entries(a.tenant_id)
    assert [(e["command"], e["outcome"], e["detail"]["error"]["code"]) for e in entries[-3:]] == [
        ("backup_verify", "refused", "tampered"),
        ("backup_restore", "refused", "tampered"),
        ("backup_scratch", "refused", "tampered"),
    ]


def test_keys_of_another_shop_unknown_keys_and_a_shop_without_bundles_are_refused(
    console: Console, shops: Shops, client: Client
) -> None:
    a, b = shops.a, shops.b
    b_key = console.ok("backup_export", shop=b.tenant_id)["key"]
    # Another shop's bundle, named as A's: refused before it is read
    for command, extra in (
        ("backup_verify", {}),
        ("backup_scratch", {}),
        ("backup_restore", {"confirm": a.tenant_id}),
    ):
        refusal = console.refused(command, shop=a.tenant_id, key=b_key, **extra)
        assert refusal["code"] == "wrong_key", command
    # A key of A's shape that holds nothing
    missing = f"shops/{a.tenant_id}/2020-01-01.bundle"
    assert console.refused("backup_verify", shop=a.tenant_id, key=missing)["code"] == "bundle_not_found"
    # A path that only looks like A's
    sneaky = f"shops/{a.tenant_id}/../{b.tenant_id}/x.bundle"
    assert console.refused("backup_verify", shop=a.tenant_id, key=sneaky)["code"] == "wrong_key"
    # A shop with no bundle yet: nothing to verify; its list is empty
    fresh = signup(client, name="Loja Nova")
    assert console.refused("backup_verify", shop=fresh.tenant_id)["code"] == "no_bundles"
    assert console.ok("backup_list", shop=fresh.tenant_id)["bundles"] == []
    # An unknown shop
    assert console.refused("backup_export", shop=str(uuid.uuid4()))["code"] == "shop_not_found"


def test_two_exports_of_a_shop_in_the_same_second_store_one_bundle(console: Console, shops: Shops) -> None:
    first = console.ok("backup_export", shop=shops.a.tenant_id)
    again = console.refused("backup_export", shop=shops.a.tenant_id)
    assert again["code"] == "busy"
    assert list(console.store.objects) == [first["key"]]
    console.later()
    assert console.ok("backup_export", shop=shops.a.tenant_id)["key"] != first["key"]


def test_a_stage_without_backups_refuses_the_backup_commands(
    api_root: Any, bus: FakeBus, client: Client, database: PgDatabase
) -> None:
    from assistec.settings import OpsSettings
    from assistec.wiring import ops as wiring

    # Given the ops function of a stage with no backup settings
    root = wiring.OpsRoot(OpsSettings())  # type: ignore[call-arg]
    root.database = api_root.database
    root.event_bus = bus
    wiring.install(root)
    try:
        shop = signup(client, name="Loja Sem Backup")
        console = Console(FakeBundleStore(), FakeDataKeys(), Clock(datetime.now(UTC)), database)
        # Then each backup command fails saying so, recorded under the shop
        for command in ("backup_list", "backup_export", "backup_verify", "backup_scratch"):
            refusal = console.refused(command, shop=shop.tenant_id)
            assert refusal["code"] == "backups_not_configured", command
        assert {e["outcome"] for e in console.entries(shop.tenant_id)} == {"failed"}
    finally:
        wiring.install(None)


def test_a_crash_is_recorded_as_failed_under_the_shop_and_raised(
    console: Console, shops: Shops, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given S3 failing (the bucket unreachable)
    def unreachable(prefix: str) -> list[Any]:
        raise ConnectionError("S3 unreachable")

    monkeypatch.setattr(console.store, "entries", unreachable)
    # When the operator lists A's bundles: the function crashes (the console shows exit code 3)
    with pytest.raises(ConnectionError):
        console.run("backup_list", shop=shops.a.tenant_id)
    # Then its entry is finished as failed, under A, with the error's type (never its message)
    [entry] = [e for e in console.entries(shops.a.tenant_id) if e["command"] == "backup_list"]
    assert entry["outcome"] == "failed"
    assert entry["detail"] == {"error": {"code": "internal_error", "type": "ConnectionError"}}
