"""/orders: numbering, the status machine and the shop's tightening, history, locking, events."""

from __future__ import annotations

import threading
import uuid
from uuid import UUID

import psycopg
import pytest

from tests.conftest import PgDatabase
from tests.integration.conftest import Client, FakeBus, signup
from tests.integration.shop_helpers import customer_and_device, move, open_order


def _row(database: PgDatabase, order_id: str) -> tuple:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute(
            "select status, version, (select count(*) from order_transitions where order_id = o.id), "
            "(select count(*) from outbox where detail->>'order_id' = o.id::text) "
            "from service_orders o where id = %s",
            (order_id,),
        ).fetchone()
    assert row is not None
    return row


def test_orders_are_numbered_per_shop_in_sequence(client: Client) -> None:
    shop, other = signup(client), signup(client)
    numbers = [open_order(client, shop)["number"] for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert open_order(client, other)["number"] == 1


def test_a_failed_order_does_not_burn_a_number(client: Client) -> None:
    shop = signup(client)
    customer_id, _ = customer_and_device(client, shop)
    _, device_of_someone_else = customer_and_device(client, shop)
    status, body, _ = client.call(
        "POST",
        "/orders",
        shop.access_token,
        body={
            "customer_id": customer_id,
            "device_id": device_of_someone_else,
            "reported_problem": "Não liga",
        },
    )
    assert (status, body["code"], body["details"][0]["field"]) == (422, "validation_error", "device_id")
    assert open_order(client, shop)["number"] == 1


def test_parallel_intake_gets_distinct_consecutive_numbers(database: PgDatabase, client: Client) -> None:
    from assistec.db.connection import Database
    from assistec.domain.permissions import Role
    from assistec.domain.tokens import Identity
    from assistec.services.orders import OrdersService
    from assistec.services.outbox import OutboxRelay
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings

    shop = signup(client)
    pairs = [customer_and_device(client, shop) for _ in range(8)]
    identity = Identity(tenant_id=UUID(shop.tenant_id), user_id=UUID(shop.owner_id), role=Role.OWNER)
    numbers: list[int] = []
    barrier = threading.Barrier(len(pairs))

    def intake(customer_id: str, device_id: str) -> None:
        db = Database(DatabaseSettings(database_url=database.app_url, db_sslmode="disable"))  # type: ignore[call-arg]
        service = OrdersService(UnitsOfWork(db, OutboxRelay(db, FakeBus())))
        barrier.wait()
        order = service.create(
            identity,
            {
                "customer_id": UUID(customer_id),
                "device_id": UUID(device_id),
                "reported_problem": "Não carrega",
            },
        )
        numbers.append(order.number)
        db.close()

    threads = [threading.Thread(target=intake, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == list(range(1, 9))


def test_a_transition_is_applied_recorded_and_published(client: Client, bus: FakeBus) -> None:
    shop = signup(client)
    order = open_order(client, shop)
    assert order["status"] == "received"
    status, body = move(client, shop, order, "diagnosing", reason="Bancada 2")
    assert status == 200, body
    assert body["order"]["status"] == "diagnosing"
    assert body["order"]["version"] == order["version"] + 1
    assert body["allowed_next"] == ["quote_sent", "cancelled"]
    status, history, _ = client.call("GET", f"/orders/{order['id']}/history", shop.access_token)
    assert status == 200
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history["items"]] == [
        (None, "received", None),
        ("received", "diagnosing", "Bancada 2"),
    ]
    assert history["items"][1]["actor_user_id"] == shop.owner_id
    assert history["items"][1]["actor_label"] == "Maria da Silva"
    changed = bus.details("OrderStatusChanged")
    assert [(e["order_id"], e["previous_status"], e["status"]) for e in changed] == [
        (order["id"], "received", "diagnosing")
    ]
    assert changed[0]["tenant_id"] == shop.tenant_id
    assert changed[0]["event_id"]
    assert [e["order_id"] for e in bus.details("OrderCreated")] == [order["id"]]


def test_a_forbidden_transition_is_409_with_the_allowed_ones_and_changes_nothing(
    client: Client, database: PgDatabase, bus: FakeBus
) -> None:
    shop = signup(client)
    order = open_order(client, shop)
    before = _row(database, order["id"])
    status, body = move(client, shop, order, "ready")
    assert (status, body["code"]) == (409, "conflict")
    assert body["details"] == {"from": "received", "to": "ready", "allowed": ["diagnosing", "cancelled"]}
    assert "Recebido" in body["message"]
    assert "Pronto para retirada" in body["message"]
    assert _row(database, order["id"]) == before
    assert bus.details("OrderStatusChanged") == []


def test_approval_comes_from_the_quote_not_a_status_click(client: Client) -> None:
    shop = signup(client)
    order = open_order(client, shop)
    for to in ("diagnosing", "quote_sent"):
        status, body = move(client, shop, order, to)
        assert status == 200, body
        order = body["order"]
    status, body = move(client, shop, order, "approved")
    assert status == 409
    assert "orçamento" in body["message"]


def test_a_stale_version_loses_and_nothing_is_overwritten(client: Client, database: PgDatabase) -> None:
    shop = signup(client)
    order = open_order(client, shop)
    status, _first = move(client, shop, order, "diagnosing")
    assert status == 200
    # A second screen still holding the old version tries to cancel
    status, body = move(client, shop, order, "cancelled")
    assert (status, body["code"], body["details"]["current_version"]) == (409, "conflict", 2)
    assert _row(database, order["id"])[:3] == ("diagnosing", 2, 2)
    # Same for an edit
    status, body, _ = client.call(
        "PATCH", f"/orders/{order['id']}", shop.access_token, body={"version": 1, "diagnosis": "Flex rompido"}
    )
    assert (status, body["code"]) == (409, "conflict")
    status, patched, _ = client.call(
        "PATCH", f"/orders/{order['id']}", shop.access_token, body={"version": 2, "diagnosis": "Flex rompido"}
    )
    assert (status, patched["diagnosis"], patched["version"]) == (200, "Flex rompido", 3)


def test_cancelled_from_any_open_state_and_then_closed(client: Client) -> None:
    shop = signup(client)
    order = open_order(client, shop)
    status, body = move(client, shop, order, "cancelled", reason="Cliente desistiu")
    assert status == 200
    assert body["allowed_next"] == []
    status, body = move(client, shop, body["order"], "diagnosing")
    assert (status, body["details"]["allowed"]) == (409, [])
    status, body, _ = client.call(
        "PATCH", f"/orders/{order['id']}", shop.access_token, body={"version": 2, "diagnosis": "x"}
    )
    assert status == 409


def test_the_shop_tightens_its_workflow_and_cannot_widen_it(client: Client) -> None:
    shop = signup(client)
    status, workflow, _ = client.call("GET", "/settings/order-workflow", shop.access_token)
    assert status == 200
    assert workflow["version"] == 0
    assert workflow["warranty_days"] == 90
    assert workflow["transitions"]["repairing"] == ["waiting_parts", "quality_check", "ready", "cancelled"]
    # Ready only after the quality check
    status, workflow, _ = client.call(
        "PUT",
        "/settings/order-workflow",
        shop.access_token,
        body={"version": 0, "disabled_transitions": [["repairing", "ready"]], "warranty_days": 30},
    )
    assert status == 200, workflow
    assert workflow["transitions"]["repairing"] == ["waiting_parts", "quality_check", "cancelled"]
    assert (workflow["version"], workflow["warranty_days"]) == (1, 30)
    for disabled, fragment in [
        ([["received", "ready"]], "fluxo padrão"),
        ([["received", "cancelled"]], "cancelamento"),
        ([["ready", "delivered"]], "Sem saída para ready"),
    ]:
        status, body, _ = client.call(
            "PUT",
            "/settings/order-workflow",
            shop.access_token,
            body={"version": 1, "disabled_transitions": disabled, "warranty_days": 30},
        )
        assert (status, body["code"]) == (422, "validation_error"), body
        assert fragment in body["message"]
    # A stale version
    status, body, _ = client.call(
        "PUT",
        "/settings/order-workflow",
        shop.access_token,
        body={"version": 0, "disabled_transitions": [], "warranty_days": 90},
    )
    assert status == 409
    assert client.call("GET", "/settings/order-workflow", shop.access_token)[1]["version"] == 1


def test_only_owner_and_admin_change_the_workflow(client: Client) -> None:
    shop = signup(client)
    email = f"tec-{uuid.uuid4().hex[:8]}@exemplo.com.br"
    status, _, _ = client.call(
        "POST",
        "/users",
        shop.access_token,
        body={"email": email, "name": "Técnico", "role": "technician", "password": "senha-do-time"},
    )
    assert status == 201
    status, login, _ = client.call("POST", "/auth/login", body={"email": email, "password": "senha-do-time"})
    token = login["access_token"]
    assert client.call("GET", "/settings/order-workflow", token)[0] == 200
    status, _, _ = client.call(
        "PUT",
        "/settings/order-workflow",
        token,
        body={"version": 0, "disabled_transitions": [], "warranty_days": 90},
    )
    assert status == 403
    # ...but the technician works the orders
    order = open_order(client, shop)
    status, body, _ = client.call(
        "POST", f"/orders/{order['id']}/transitions", token, body={"to": "diagnosing", "version": 1}
    )
    assert status == 200, body


def test_other_shops_orders_do_not_exist(client: Client, database: PgDatabase) -> None:
    shop, other = signup(client), signup(client)
    order = open_order(client, shop)
    for method, path, body in [
        ("GET", f"/orders/{order['id']}", None),
        ("GET", f"/orders/{order['id']}/history", None),
        ("PATCH", f"/orders/{order['id']}", {"version": 1, "diagnosis": "x"}),
        ("POST", f"/orders/{order['id']}/transitions", {"to": "cancelled", "version": 1}),
        ("POST", f"/orders/{order['id']}/warranty-return", {"reported_problem": "Voltou o defeito"}),
    ]:
        status, answer, _ = client.call(method, path, other.access_token, body=body)
        assert (status, answer["code"]) == (404, "not_found"), (method, path, answer)
    assert _row(database, order["id"])[:2] == ("received", 1)
    # Nor can an order point at another shop's customer and device
    customer_id, device_id = customer_and_device(client, shop)
    status, body, _ = client.call(
        "POST",
        "/orders",
        other.access_token,
        body={"customer_id": customer_id, "device_id": device_id, "reported_problem": "Não liga"},
    )
    assert status == 422
    assert client.call("GET", "/orders", other.access_token)[1]["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reported_problem": "x"}, "reported_problem"),
        ({"priority": "amanhã"}, "priority"),
        ({"technician_id": "not-a-uuid"}, "technician_id"),
        ({"promised_at": "ontem"}, "promised_at"),
        ({"status": "ready"}, "status"),
        ({"reported_problem": "a" * 2001}, "reported_problem"),
    ],
)
def test_bad_order_input_is_422_and_stores_nothing(
    client: Client, database: PgDatabase, body: dict, field: str
) -> None:
    shop = signup(client)
    customer_id, device_id = customer_and_device(client, shop)
    full = {"customer_id": customer_id, "device_id": device_id, "reported_problem": "Não liga", **body}
    status, answer, _ = client.call("POST", "/orders", shop.access_token, body=full)
    assert (status, answer["code"]) == (422, "validation_error")
    assert any(d["field"].startswith(field) for d in answer["details"]), answer
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute(
            "select count(*) from service_orders where tenant_id = %s", (shop.tenant_id,)
        ).fetchone()
    assert row == (0,)


def test_a_technician_from_another_shop_is_refused(client: Client) -> None:
    shop, other = signup(client), signup(client)
    customer_id, device_id = customer_and_device(client, shop)
    status, body, _ = client.call(
        "POST",
        "/orders",
        shop.access_token,
        body={
            "customer_id": customer_id,
            "device_id": device_id,
            "reported_problem": "Não liga",
            "technician_id": other.owner_id,
        },
    )
    assert (status, body["details"][0]["field"]) == (422, "technician_id")


def test_list_filters_and_pages_newest_first(client: Client) -> None:
    shop = signup(client)
    orders = [open_order(client, shop) for _ in range(5)]
    status, _body = move(client, shop, orders[1], "diagnosing")
    assert status == 200
    status, page, _ = client.call("GET", "/orders", shop.access_token, query={"limit": "2"})
    assert [o["number"] for o in page["items"]] == [5, 4]
    status, page2, _ = client.call(
        "GET", "/orders", shop.access_token, query={"limit": "2", "cursor": page["next_cursor"]}
    )
    assert [o["number"] for o in page2["items"]] == [3, 2]
    status, diag, _ = client.call("GET", "/orders", shop.access_token, query={"status": "diagnosing"})
    assert [o["number"] for o in diag["items"]] == [2]
    status, by_number, _ = client.call("GET", "/orders", shop.access_token, query={"number": "4"})
    assert [o["id"] for o in by_number["items"]] == [orders[3]["id"]]
    status, by_customer, _ = client.call(
        "GET", "/orders", shop.access_token, query={"customer_id": orders[0]["customer_id"]}
    )
    assert [o["number"] for o in by_customer["items"]] == [1]


def test_events_survive_a_bus_outage_and_the_relay_sends_them(
    client: Client, bus: FakeBus, database: PgDatabase
) -> None:
    from assistec.wiring.api import root

    shop = signup(client)
    bus.down = True
    order = open_order(client, shop)  # the request succeeds: the event waits in the outbox
    assert _row(database, order["id"])[3] == 1
    assert bus.details("OrderCreated") == []
    bus.down = False
    # (the session's database may hold other tests' pending events, oldest first: drain them all)
    for _ in range(100):
        if not root().outbox.flush():
            break
    mine = [e for e in bus.details("OrderCreated") if e["order_id"] == order["id"]]
    assert len(mine) == 1
    root().outbox.flush()  # published once
    assert len([e for e in bus.details("OrderCreated") if e["order_id"] == order["id"]]) == 1


def test_list_items_carry_the_customer_name_and_device_label_for_the_board(client: Client) -> None:
    # Given two orders of different customers and devices, and another shop's order
    shop, other = signup(client), signup(client)
    first = open_order(client, shop)
    status, customer, _ = client.call(
        "POST", "/customers", shop.access_token, body={"name": "Bruno Lima", "phone": "11 98888-1234"}
    )
    assert status == 201, customer
    status, device, _ = client.call(
        "POST",
        f"/customers/{customer['id']}/devices",
        shop.access_token,
        body={"type": "computer", "brand": "Dell", "model": "Inspiron 15"},
    )
    assert status == 201, device
    status, second, _ = client.call(
        "POST",
        "/orders",
        shop.access_token,
        body={"customer_id": customer["id"], "device_id": device["id"], "reported_problem": "Não liga"},
    )
    assert status == 201, second
    open_order(client, other)

    # When the board lists them (all, then one column, then a page of one)
    status, page, _ = client.call("GET", "/orders", shop.access_token)
    assert status == 200, page

    # Then each card names its customer and device, and only this shop's orders are there
    assert [(o["number"], o["customer_name"], o["device_label"]) for o in page["items"]] == [
        (2, "Bruno Lima", "Dell Inspiron 15"),
        (1, "Ana Souza", "Samsung Galaxy A54"),
    ]
    status, received, _ = client.call(
        "GET", "/orders", shop.access_token, query={"status": "received", "limit": "1"}
    )
    assert [(o["id"], o["customer_name"]) for o in received["items"]] == [(second["id"], "Bruno Lima")]
    status, rest, _ = client.call(
        "GET", "/orders", shop.access_token, query={"limit": "1", "cursor": received["next_cursor"]}
    )
    assert [(o["id"], o["device_label"]) for o in rest["items"]] == [(first["id"], "Samsung Galaxy A54")]

    # And a renamed customer shows under the new name on the next load
    status, changed, _ = client.call(
        "PATCH",
        f"/customers/{customer['id']}",
        shop.access_token,
        body={"version": customer["version"], "name": "Bruno Lima Filho"},
    )
    assert status == 200, changed
    status, page, _ = client.call("GET", "/orders", shop.access_token, query={"number": "2"})
    assert [o["customer_name"] for o in page["items"]] == ["Bruno Lima Filho"]


def test_the_list_cuts_the_page_before_looking_up_customers_and_devices(
    client: Client, database: PgDatabase
) -> None:
    # Given a shop with 3,000 customers, each with a device and an order, and fresh statistics
    from assistec.db.orders import list_sql

    shop = signup(client)
    with psycopg.connect(database.superuser_url, autocommit=True) as conn:
        seed = (
            "insert into customers (id, tenant_id, name, phone) select md5('c' || i)::uuid, %(t)s, "
            "'Cliente ' || i, '+55119' || lpad(i::text, 8, '0') from generate_series(1, 3000) i",
            "insert into devices (id, tenant_id, customer_id, type, brand, model) "
            "select md5('d' || i)::uuid, %(t)s, md5('c' || i)::uuid, 'phone', 'Marca', 'Modelo ' || i "
            "from generate_series(1, 3000) i",
            "insert into service_orders (tenant_id, number, customer_id, device_id, reported_problem, "
            "tracking_token, created_at) select %(t)s::uuid, i, md5('c' || i)::uuid, md5('d' || i)::uuid, "
            "'Não liga', md5('o' || i || %(t)s::text), now() - i * interval '1 minute' "
            "from generate_series(1, 3000) i",
            "analyze customers",
            "analyze devices",
            "analyze service_orders",
        )
        for statement in seed:
            conn.execute(statement, {"t": shop.tenant_id})
    statement = list_sql("tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid")

    # When PostgreSQL plans a page of 50 for the app role in that shop (as it chooses, then with
    # only nested loops allowed: what the join costs once the shop's customers outgrow a hash)
    def explain(*settings: str) -> str:
        with psycopg.connect(database.app_url, prepare_threshold=None) as conn:
            conn.execute("select set_config('app.tenant_id', %s, true)", (shop.tenant_id,))
            for setting in settings:
                conn.execute(f"set local {setting} = off")
            rows = conn.execute(f"explain {statement.replace('%s', '50')}").fetchall()
        return "\n".join(r[0] for r in rows)

    chosen = explain()
    probes = explain("enable_hashjoin", "enable_mergejoin")

    # Then the page is cut first: a Limit right over the backward walk of the (tenant_id,
    # created_at, id) index, no sort of the shop's orders; and the customer and device can each be
    # one probe by primary key
    for plan in (chosen, probes):
        lines = [line.strip() for line in plan.splitlines()]
        limit = next(i for i, line in enumerate(lines) if line.startswith("->  Limit"))
        assert lines[limit + 1].startswith(
            "->  Index Scan Backward using service_orders_tenant_created on service_orders"
        ), plan
        assert "rows=50" in lines[limit], plan
    assert "customers_pkey" in probes, probes
    assert "devices_pkey" in probes, probes
    assert "Seq Scan" not in probes, probes


def test_several_statuses_list_newest_first_across_them_and_page(client: Client) -> None:
    # Given six orders: 2 and 5 in diagnosis, 4 cancelled, the others just received
    shop = signup(client)
    orders = [open_order(client, shop) for _ in range(6)]
    for index, target in ((1, "diagnosing"), (4, "diagnosing"), (3, "cancelled")):
        status, body = move(client, shop, orders[index], target)
        assert status == 200, body

    # When the board asks for diagnosing or cancelled, two at a time
    def numbers(**query: str | list[str]) -> tuple[list[int], str | None]:
        status, page, _ = client.call("GET", "/orders", shop.access_token, query=query)
        assert status == 200, page
        return [o["number"] for o in page["items"]], page["next_cursor"]

    first, cursor = numbers(status=["diagnosing", "cancelled"], limit="2")
    assert cursor is not None
    rest, end = numbers(status=["diagnosing", "cancelled"], limit="2", cursor=cursor)

    # Then the pages hold both statuses, newest first, and the next page goes on where it stopped
    assert (first, rest, end) == ([5, 4], [2], None)
    # A status named twice does not list its orders twice; one status alone is as before
    assert numbers(status=["diagnosing", "diagnosing"])[0] == [5, 2]
    assert numbers(status="received")[0] == [6, 3, 1]
    # And a status outside the machine is bad input
    status, body, _ = client.call("GET", "/orders", shop.access_token, query={"status": ["ready", "lost"]})
    assert status == 422, body


def test_a_status_filter_walks_each_status_index_instead_of_sorting_the_shop(
    client: Client, database: PgDatabase
) -> None:
    # Given a shop with 3,000 orders spread over four statuses, and fresh statistics
    from assistec.db.orders import list_by_status_sql

    shop = signup(client)
    with psycopg.connect(database.superuser_url, autocommit=True) as conn:
        seed = (
            "insert into customers (id, tenant_id, name, phone) select md5('sc' || i)::uuid, %(t)s, "
            "'Cliente ' || i, '+55119' || lpad(i::text, 8, '0') from generate_series(1, 3000) i",
            "insert into devices (id, tenant_id, customer_id, type, brand, model) "
            "select md5('sd' || i)::uuid, %(t)s, md5('sc' || i)::uuid, 'phone', 'Marca', 'Modelo ' || i "
            "from generate_series(1, 3000) i",
            "insert into service_orders (tenant_id, number, customer_id, device_id, reported_problem, "
            "tracking_token, status, created_at) select %(t)s::uuid, i, md5('sc' || i)::uuid, "
            "md5('sd' || i)::uuid, 'Não liga', md5('so' || i || %(t)s::text), "
            "(array['received', 'diagnosing', 'repairing', 'ready'])[i %% 4 + 1], "
            "now() - i * interval '1 minute' from generate_series(1, 3000) i",
            "analyze customers",
            "analyze devices",
            "analyze service_orders",
        )
        for statement in seed:
            conn.execute(statement, {"t": shop.tenant_id})
    statement = list_by_status_sql("tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid")
    params = (["diagnosing", "ready", "received"], 50, 50)

    # When PostgreSQL plans a page of 50 over three of those statuses for the app role in that shop
    with psycopg.connect(database.app_url, cursor_factory=psycopg.ClientCursor) as conn:
        conn.execute("select set_config('app.tenant_id', %s, true)", (shop.tenant_id,))
        plan = "\n".join(r[0] for r in conn.execute(f"explain {statement}", params).fetchall())
        conn.execute("set local enable_hashjoin = off")
        conn.execute("set local enable_mergejoin = off")
        probes = "\n".join(r[0] for r in conn.execute(f"explain {statement}", params).fetchall())
        conn.execute("reset enable_hashjoin")
        conn.execute("reset enable_mergejoin")
        # (and the rows are those of the plain filter-then-sort, in its order)
        got = [r[0] for r in conn.execute(statement, params).fetchall()]
        plain = conn.execute(
            "select id from service_orders where status = any(%s) order by created_at desc, id desc limit 50",
            (params[0],),
        ).fetchall()
    assert got == [r[0] for r in plain]
    assert len(got) == 50

    # Then each status is a backward walk of the (tenant_id, status, created_at, id) index cut at
    # 50 rows, under a loop over the wanted statuses; the only sort is over those few rows, never a
    # scan of the shop's orders
    lines = [line.strip() for line in plan.splitlines()]
    walk = next(i for i, line in enumerate(lines) if "using service_orders_tenant_status" in line)
    assert lines[walk].startswith("->  Index Scan Backward using service_orders_tenant_status"), plan
    assert lines[walk - 1].startswith("->  Limit"), plan
    assert "rows=50" in lines[walk - 1], plan
    assert "Function Scan on unnest wanted" in plan, plan
    assert "Seq Scan on service_orders" not in plan, plan
    assert "service_orders_tenant_created" not in plan, plan
    sorts = [line for line in lines if line.startswith(("->  Sort  (", "Sort  ("))]
    assert sorts, plan
    for sort in sorts:  # a top-N of at most 3 statuses x 50 rows
        rows = int(sort.split("rows=")[1].split()[0])
        assert rows <= 150, plan
    # and, once the shop's customers outgrow a hash, each row's names are one probe by primary key
    assert "customers_pkey" in probes, probes
    assert "devices_pkey" in probes, probes
    assert "Seq Scan" not in probes, probes
