"""Seed a database with shops, customers, devices and orders at scale, in plain SQL.

Reusable: ``python -m tests.bench.seed_orders postgresql://... --shops 1000 --customers 200000
--orders 1000000`` seeds a migrated, empty database; the scale benchmark calls ``seed`` itself.
Everything is generated inside PostgreSQL (generate_series), so the full scale takes about a
minute rather than hours of round trips. Run it as a role that bypasses row-level security (the
cluster's superuser).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import psycopg

FIRST = ["Ana", "João", "Maria", "José", "Francisca", "Antônio", "Luíza", "Carlos", "Paula", "Lucas"]
LAST = ["Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes"]
BRANDS = ["Samsung", "Apple", "Motorola", "Xiaomi", "LG"]
# A realistic spread: most orders are long delivered, a few of each open status.
STATUSES = (
    ["delivered"] * 70
    + ["cancelled"] * 8
    + ["received", "diagnosing", "quote_sent", "approved", "waiting_parts", "repairing"] * 3
    + ["quality_check", "ready", "rejected", "ready"]
)


@dataclass(frozen=True)
class Scale:
    shops: int
    customers: int
    orders: int


FULL = Scale(shops=1_000, customers=200_000, orders=1_000_000)


def seed(url: str, scale: Scale) -> float:
    """Fill the database; return the seconds it took."""
    t0 = time.perf_counter()
    per_shop_customers = scale.customers // scale.shops
    per_shop_orders = scale.orders // scale.shops
    statuses = "array[" + ",".join(f"'{s}'" for s in STATUSES) + "]"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set synchronous_commit = off")
        conn.execute(
            "create temporary table shop as select i, gen_random_uuid() as id from generate_series(1, %s) i",
            (scale.shops,),
        )
        conn.execute(
            "insert into tenants (id, name, cnpj, email, phone) "
            "select id, 'Assistência ' || i, lpad(i::text, 14, '0'), 'loja' || i || '@bench.local', "
            "'+5511900000000' from shop"
        )
        conn.execute(
            "insert into tenant_settings (tenant_id, business_hours, welcome_message, out_of_hours_message) "
            "select id, '{}'::jsonb, 'Olá', 'Fechado' from shop"
        )
        conn.execute(
            "insert into users (id, tenant_id, email, name, password_hash, role) "
            "select gen_random_uuid(), id, 'dono' || i || '@bench.local', 'Dono ' || i, 'x', 'owner' "
            "from shop"
        )
        first = "array[" + ",".join(f"'{n}'" for n in FIRST) + "]"
        last = "array[" + ",".join(f"'{n}'" for n in LAST) + "]"
        brands = "array[" + ",".join(f"'{b}'" for b in BRANDS) + "]"
        conn.execute(
            "insert into customers (id, tenant_id, name, phone, created_at) "
            f"select gen_random_uuid(), s.id, ({first})[1 + mod(c, 10)] || ' ' "
            f"|| ({last})[1 + mod(c / 10, 10)] "
            "|| ' ' || c, '+55119' || lpad(c::text, 8, '0'), "
            "now() - make_interval(days => 730) + make_interval(mins => c * 5) "
            "from shop s, generate_series(1, %s) c",
            (per_shop_customers,),
        )
        conn.execute(
            "insert into devices (tenant_id, customer_id, type, brand, model) "
            f"select tenant_id, id, 'phone', ({brands})[1 + mod(abs(hashtext(id::text)), 5)], 'Modelo X' "
            "from customers"
        )
        conn.execute(
            "create temporary table dev as select tenant_id, customer_id, id, "
            "row_number() over (partition by tenant_id order by id) as n from devices"
        )
        conn.execute("create index on dev (tenant_id, n)")
        conn.execute(
            "insert into service_orders (tenant_id, number, customer_id, device_id, status, "
            "reported_problem, "
            "technician_id, priority, tracking_token, created_at, delivered_at, warranty_until) "
            "select s.id, o, d.customer_id, d.id, st.status, 'Não liga após queda', u.id, 'normal', "
            "s.id || '.' || md5(random()::text) || md5(random()::text), at.created, "
            "case when st.status = 'delivered' then at.created + interval '3 days' end, "
            "case when st.status = 'delivered' then (at.created + interval '93 days')::date end "
            "from shop s join users u on u.tenant_id = s.id cross join generate_series(1, %s) o "
            f"join dev d on d.tenant_id = s.id and d.n = 1 + mod(o, {per_shop_customers}) "
            f"cross join lateral (select ({statuses})[1 + mod(o * 7919, {len(STATUSES)})] as status) st "
            "cross join lateral (select now() - make_interval(days => 720) "
            "+ make_interval(secs => o * (62208000.0 / %s))) at(created)",
            (per_shop_orders, per_shop_orders),
        )
        conn.execute(
            "insert into order_counters (tenant_id, last_number) select id, %s from shop", (per_shop_orders,)
        )
        conn.execute(
            "insert into order_transitions (tenant_id, order_id, from_status, to_status, at) "
            "select tenant_id, id, null, 'received', created_at from service_orders"
        )
        conn.execute("analyze")
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", help="superuser connection string of a migrated, empty database")
    parser.add_argument("--shops", type=int, default=FULL.shops)
    parser.add_argument("--customers", type=int, default=FULL.customers)
    parser.add_argument("--orders", type=int, default=FULL.orders)
    args = parser.parse_args()
    seconds = seed(args.url, Scale(args.shops, args.customers, args.orders))
    print(f"seeded {args.shops} shops, {args.customers} customers, {args.orders} orders in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
