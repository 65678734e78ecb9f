"""Orders at scale: 1,000 shops, 200,000 customers, 1,000,000 orders in the local PostgreSQL.

p50/p99 of list, search (one status; several statuses), get, create and transition through the in-process API
handler, side by side with the bare SQL each one runs (same statements, same app role, same
transaction shape, no Python layers), in the same run. Target (issue 4): p99 <= 15 ms and <= 3x
the bare SQL. Reported, never asserted (the answers' correctness is).

`make bench` runs the full scale (the seeded database is kept and reused while the schema and the
scale are the same); `make test` runs a 1/20 scale with few iterations so this cannot rot.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.bench.conftest import report
from tests.bench.seed_orders import FULL, Scale, seed
from tests.conftest import LambdaContext
from tests.integration.conftest import configure_api, rest_event

SMALL = os.environ.get("BENCH_RUNS") == "1"
SCALE = Scale(shops=50, customers=10_000, orders=50_000) if SMALL else FULL
ITERATIONS = 40 if SMALL else 400
COLUMNS = (
    "id, tenant_id, number, customer_id, device_id, status, reported_problem, diagnosis, technician_id, "
    "priority, promised_at, warranty_of, delivered_at, warranty_until, tracking_token, paid_cents, version, "
    "created_at, updated_at"
)


class NullBus:
    def put(self, entries: list[dict[str, Any]]) -> list[bool]:
        return [True] * len(entries)


def _bench_database(pg: Any) -> str:
    """The seeded database for this scale, created when needed. A seed stays while the seeder is the
    same: the migrations added since are applied on top of it, as in prod (minutes of seeding saved
    per new migration); a migration edited after it was applied there means a fresh seed."""
    from assistec.db import migrate as migrations

    name = f"assistec_bench_{SCALE.orders}"
    import hashlib

    seeder = hashlib.sha256(Path(__file__).with_name("seed_orders.py").read_bytes()).hexdigest()[:12]
    tag = f"seed {SCALE.shops}/{SCALE.customers}/{SCALE.orders} seeder {seeder}"
    with psycopg.connect(pg.url(dbname="postgres"), autocommit=True) as conn:
        row = conn.execute(
            "select shobj_description(oid, 'pg_database') from pg_database where datname = %s", (name,)
        ).fetchone()
    if row is not None and row[0] == tag:
        try:
            with psycopg.connect(pg.url(pg.MIGRATOR, dbname=name), autocommit=True) as conn:
                migrations.apply(conn)
            return name
        except migrations.MigrationError as exc:
            print(f"\nreseeding {name}: {exc}")
    with psycopg.connect(pg.url(dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        pg.ensure_database(conn, name)
    with psycopg.connect(pg.url(pg.MIGRATOR, dbname=name), autocommit=True) as conn:
        migrations.apply(conn)
    seconds = seed(pg.url(dbname=name), SCALE)
    print(f"\nseeded {SCALE} in {seconds:.0f} s")
    with psycopg.connect(pg.url(dbname="postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("comment on database {} is {}").format(sql.Identifier(name), sql.Literal(tag)))
    return name


def _ms(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return round(statistics.median(samples), 2), round(cuts[98], 2)


def _timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return (time.perf_counter() - t0) * 1000, result


@pytest.fixture(scope="module")
def bench_db(pg_cluster: Any) -> str:
    return _bench_database(pg_cluster)


def test_orders_at_scale_against_bare_sql(
    bench_db: str, pg_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.db import orders as orders_db
    from assistec.handlers import api as api_handler
    from assistec.settings import ApiSettings
    from assistec.wiring import api as wiring

    # The handler and the bare SQL both go through the pooler, as the functions do in prod.
    app_url = pg_cluster.pooled_url(pg_cluster.APP, dbname=bench_db)
    configure_api(monkeypatch, app_url)
    root: Any = wiring.ApiRoot(ApiSettings())  # type: ignore[call-arg]
    root.event_bus = NullBus()
    wiring.install(root)
    rng = random.Random(4)
    with psycopg.connect(pg_cluster.url(dbname=bench_db)) as conn:
        shops = conn.execute("select tenant_id, id from users where role = 'owner'").fetchall()
        sample = conn.execute(
            "select tenant_id, id from service_orders tablesample system (1) limit 2000"
        ).fetchall()
        devices = {
            t: (c, d)
            for t, c, d in conn.execute(
                "select distinct on (tenant_id) tenant_id, customer_id, id from devices "
                "order by tenant_id, id"
            ).fetchall()
        }
    owners = dict(shops)
    context = LambdaContext()

    def call(
        method: str,
        path: str,
        tenant: uuid.UUID,
        query: dict[str, str | list[str]] | None = None,
        body: Any = None,
    ) -> dict[str, Any]:
        """The API handler as API Gateway invokes it, after the authorizer let the owner in."""
        auth = {
            "principalId": str(owners[tenant]),
            "tenant_id": str(tenant),
            "user_id": str(owners[tenant]),
            "role": "owner",
        }
        response = api_handler.handler(
            rest_event(method, path, authorizer=auth, query=query, body=body), context
        )
        assert response["statusCode"] in (200, 201), response["body"]
        return json.loads(response["body"])

    bare = psycopg.connect(app_url, autocommit=True, prepare_threshold=None)

    def query(tenant: uuid.UUID, statement: str, params: Any) -> list[Any]:
        """One read in a transaction shaped like ``Database.tenant_tx``."""
        with bare.transaction():
            _scoped(bare, tenant, owners[tenant])
            return bare.execute(statement, params).fetchall()

    scoped = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"
    # The list's own statement (db/orders.py): the page cut by the index, then each row's customer
    # name and device label by primary key.
    list_sql = orders_db.list_sql(scoped)
    search_sql = orders_db.list_by_status_sql(scoped)
    get_sql = f"select {COLUMNS} from service_orders where id = %s"

    tenants = list(owners)
    handler_ms: dict[str, list[float]] = {
        k: [] for k in ("list", "search", "search_several", "get", "create", "transition")
    }
    sql_ms: dict[str, list[float]] = {k: [] for k in handler_ms}
    created: list[tuple[uuid.UUID, str]] = []
    bare_created: list[tuple[uuid.UUID, uuid.UUID]] = []
    call("GET", "/orders", tenants[0])  # warm both paths (connection, imports) before measuring
    query(tenants[0], list_sql, (1,))

    def both(op: str, handler: tuple[Any, ...], bare_sql: tuple[Any, ...]) -> Any:
        ms, answer = _timed(*handler)
        handler_ms[op].append(ms)
        ms, bare_answer = _timed(*bare_sql)
        sql_ms[op].append(ms)
        return answer, bare_answer

    for i in range(ITERATIONS):
        tenant = rng.choice(tenants)
        user = owners[tenant]
        page, rows = both(
            "list", (call, "GET", "/orders", tenant, {"limit": "50"}), (query, tenant, list_sql, (51,))
        )
        assert len(page["items"]) == min(50, len(rows))
        both(
            "search",
            (call, "GET", "/orders", tenant, {"status": "ready", "limit": "20"}),
            (query, tenant, search_sql, (["ready"], 21, 21)),
        )
        several = ["ready", "received", "repairing"]  # the open board's columns in one request
        page, rows = both(
            "search_several",
            (call, "GET", "/orders", tenant, {"status": several, "limit": "20"}),
            (query, tenant, search_sql, (several, 21, 21)),
        )
        assert len(page["items"]) == min(20, len(rows))
        order_tenant, order_id = sample[i % len(sample)]
        got, _ = both(
            "get",
            (call, "GET", f"/orders/{order_id}", order_tenant),
            (query, order_tenant, get_sql, (order_id,)),
        )
        assert got["id"] == str(order_id)
        customer_id, device_id = devices[tenant]
        body = {
            "customer_id": str(customer_id),
            "device_id": str(device_id),
            "reported_problem": "Não carrega",
        }
        made, bare_made = both(
            "create",
            (call, "POST", "/orders", tenant, None, body),
            (_bare_create, bare, tenant, user, device_id),
        )
        created.append((tenant, made["id"]))
        bare_created.append(bare_made)

    for (tenant, order_id), (_, bare_id) in zip(created, bare_created, strict=True):
        moved, _ = both(
            "transition",
            (
                call,
                "POST",
                f"/orders/{order_id}/transitions",
                tenant,
                None,
                {"to": "diagnosing", "version": 1},
            ),
            (_bare_transition, bare, tenant, owners[tenant], bare_id),
        )
        assert moved["order"]["status"] == "diagnosing"
    bare.close()

    rows = []
    for op in handler_ms:
        h50, h99 = _ms(handler_ms[op])
        s50, s99 = _ms(sql_ms[op])
        rows.append(
            {
                "operation": op,
                "handler_p50_ms": h50,
                "handler_p99_ms": h99,
                "sql_p50_ms": s50,
                "sql_p99_ms": s99,
                "p99_ratio": round(h99 / s99, 2),
                "samples": len(handler_ms[op]),
            }
        )
    report(f"orders_at_scale_{SCALE.orders}", rows)
    wiring.install(None)


_DEVICE = (
    "select id, tenant_id, customer_id, type, brand, model, serial, imei, condition, accessories, "
    "unlock_code, "
    "version, created_at, updated_at from devices where id = %s"
)


def _scoped(conn: psycopg.Connection[Any], tenant: uuid.UUID, user: uuid.UUID) -> None:
    conn.execute(
        "select set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true)",
        (str(tenant), str(user)),
    )


def _relay(conn: psycopg.Connection[Any], event_id: uuid.UUID) -> None:
    """The post-commit flush: its own transaction, as the relay."""
    with conn.transaction():
        # The relay's SECURITY DEFINER functions (migration 0015), as db/events.py calls them.
        conn.execute(
            "select id, tenant_id, detail_type, detail, created_at from relay_lock_pending(%s, %s)",
            ([event_id], 100),
        ).fetchall()
        conn.execute("select relay_mark_published(%s)", ([event_id],))


def _audit_and_event(
    conn: psycopg.Connection[Any],
    tenant: uuid.UUID,
    user: uuid.UUID,
    order_id: uuid.UUID,
    action: str,
    kind: str,
) -> uuid.UUID:
    conn.execute(
        "insert into audit_log (tenant_id, actor_user_id, action, entity, entity_id, changes, "
        "correlation_id) "
        "values (%s, %s, %s, %s, %s, %s, %s)",
        (tenant, user, action, "order", str(order_id), json.dumps({"order": str(order_id)}), None),
    )
    row = conn.execute(
        "insert into outbox (tenant_id, detail_type, detail) values (%s, %s, %s) returning id",
        (tenant, kind, json.dumps({"order_id": str(order_id)})),
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def _bare_create(
    conn: psycopg.Connection[Any], tenant: uuid.UUID, user: uuid.UUID, device_id: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID]:
    """The statements POST /orders runs: one transaction for the change, one for the event."""
    with conn.transaction():
        _scoped(conn, tenant, user)
        device = conn.execute(_DEVICE, (device_id,)).fetchone()
        assert device is not None
        number = conn.execute(
            "insert into order_counters (tenant_id, last_number) values (%s, 1) on conflict (tenant_id) "
            "do update set last_number = order_counters.last_number + 1 returning last_number",
            (tenant,),
        ).fetchone()
        assert number is not None
        order = conn.execute(
            "insert into service_orders (tenant_id, number, tracking_token, customer_id, device_id, "
            f"reported_problem) values (%s, %s, %s, %s, %s, %s) returning {COLUMNS}",
            (
                tenant,
                number[0],
                f"{tenant}.{uuid.uuid4().hex}{uuid.uuid4().hex}",
                device[2],
                device_id,
                "Não carrega",
            ),
        ).fetchone()
        assert order is not None
        conn.execute(
            "insert into order_transitions (tenant_id, order_id, from_status, to_status, reason, "
            "actor_user_id, "
            "actor_label) values (%s, %s, %s, %s, %s, %s, %s)",
            (tenant, order[0], None, "received", None, user, None),
        )
        event = _audit_and_event(conn, tenant, user, order[0], "create", "OrderCreated")
    _relay(conn, event)
    return tenant, order[0]


def _bare_transition(
    conn: psycopg.Connection[Any], tenant: uuid.UUID, user: uuid.UUID, order_id: uuid.UUID
) -> None:
    """The statements POST /orders/{id}/transitions runs (received -> diagnosing)."""
    with conn.transaction():
        _scoped(conn, tenant, user)
        current = conn.execute(
            f"select {COLUMNS} from service_orders where id = %s for update", (order_id,)
        ).fetchone()
        assert current is not None
        conn.execute(
            "select disabled_transitions, warranty_days, version from order_workflows where tenant_id = "
            "nullif(current_setting('app.tenant_id', true), '')::uuid"
        ).fetchone()
        conn.execute(
            "update service_orders set status = %s, delivered_at = coalesce(%s, delivered_at), "
            "warranty_until = coalesce(%s, warranty_until), version = version + 1, updated_at = now() "
            f"where id = %s and version = %s returning {COLUMNS}",
            ("diagnosing", None, None, order_id, current[16]),
        ).fetchone()
        conn.execute(
            "insert into order_transitions (tenant_id, order_id, from_status, to_status, reason, "
            "actor_user_id, "
            "actor_label) values (%s, %s, %s, %s, %s, %s, %s)",
            (tenant, order_id, "received", "diagnosing", None, user, None),
        )
        event = _audit_and_event(conn, tenant, user, order_id, "transition", "OrderStatusChanged")
    _relay(conn, event)
