"""SQL for service orders, their transitions and the shop's workflow (RLS scopes every query)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db.rows import OrderListRow, OrderRow, TransitionRow, WorkflowRow
from assistec.db.sql import class_row, fetch_all, fetch_one, for_update, insert_row, versioned_update

if TYPE_CHECKING:
    from assistec.db.sql import Conn

_COLUMNS = (
    "id, tenant_id, number, customer_id, device_id, status, reported_problem, diagnosis, technician_id, "
    "priority, promised_at, warranty_of, delivered_at, warranty_until, tracking_token, paid_cents, version, "
    "created_at, updated_at"
)
EDITABLE = {"reported_problem", "diagnosis", "technician_id", "priority", "promised_at"}
_TENANT = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"


def next_number(conn: Conn, tenant_id: UUID) -> int:
    """The shop's next order number; the counter row stays locked until the transaction ends."""
    row = conn.execute(
        "insert into order_counters (tenant_id, last_number) values (%s, 1) "
        "on conflict (tenant_id) do update set last_number = order_counters.last_number + 1 "
        "returning last_number",
        (tenant_id,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def insert(
    conn: Conn, *, tenant_id: UUID, number: int, tracking_token: str, fields: dict[str, Any]
) -> OrderRow:
    allowed = EDITABLE | {"customer_id", "device_id", "warranty_of"}
    assert set(fields) <= allowed, set(fields) - allowed
    values = {"tenant_id": tenant_id, "number": number, "tracking_token": tracking_token, **fields}
    return insert_row(conn, table="service_orders", values=values, columns=_COLUMNS, row=OrderRow)


def get(conn: Conn, order_id: UUID, *, lock: bool = False) -> OrderRow | None:
    return fetch_one(
        conn,
        OrderRow,
        f"select {_COLUMNS} from service_orders where id = %s" + for_update(lock),
        (order_id,),
    )


def by_tracking_token(conn: Conn, token: str) -> OrderRow | None:
    return fetch_one(
        conn, OrderRow, f"select {_COLUMNS} from service_orders where tracking_token = %s", (token,)
    )


def list_orders(
    conn: Conn,
    *,
    limit: int,
    before: tuple[datetime, UUID] | None,
    status: list[str] | None = None,
    customer_id: UUID | None = None,
    technician_id: UUID | None = None,
    number: int | None = None,
) -> list[OrderListRow]:
    """Newest first, filtered by what the counter and the bench ask for, each with its customer's
    name and its device's label. The page is cut first (the inner query walks a (tenant_id, …,
    created_at, id) index and stops at the limit); only those rows then look up their customer and
    device by primary key, so the join costs ``limit`` index probes whatever the shop's size.

    With a status filter the (tenant_id, status, created_at, id) index is walked once per status
    (a lateral join over the wanted statuses, each walk stopping at the limit), and only those
    ``limit`` rows per status are sorted to cut the page: never all of the shop's matching orders."""
    clauses = [_TENANT]
    params: list[Any] = []
    if before is not None:
        clauses.append("(created_at, id) < (%s, %s)")
        params.extend(before)
    if customer_id is not None:
        clauses.append("customer_id = %s")
        params.append(customer_id)
    if technician_id is not None:
        clauses.append("technician_id = %s")
        params.append(technician_id)
    if number is not None:
        clauses.append("number = %s")
        params.append(number)
    where = " and ".join(clauses)
    if status:
        statuses = sorted(set(status))  # a repeated status would repeat its orders
        return fetch_all(conn, OrderListRow, list_by_status_sql(where), [statuses, *params, limit, limit])
    return fetch_all(conn, OrderListRow, list_sql(where), [*params, limit])


def _with_names(page: str) -> str:
    """A page of orders (a subquery) with each one's customer name and device label."""
    outer = ", ".join(f"o.{c.strip()}" for c in _COLUMNS.split(","))
    return (
        f"select {outer}, c.name as customer_name, d.brand || ' ' || d.model as device_label "
        f"from ({page}) o "
        "join customers c on c.id = o.customer_id "
        "join devices d on d.id = o.device_id "
        "order by o.created_at desc, o.id desc"
    )


def list_sql(where: str) -> str:
    """The list's statement for a WHERE clause (the bench runs the same text as its bare SQL)."""
    return _with_names(
        f"select {_COLUMNS} from service_orders where {where} order by created_at desc, id desc limit %s"
    )


def list_by_status_sql(where: str) -> str:
    """The list's statement with a status filter: the parameters are the statuses (a text array, no
    repeats), those of ``where``, the limit of each status's walk, then the page's limit."""
    return _with_names(
        f"select {_COLUMNS} from unnest(%s::text[]) as wanted(st) cross join lateral "
        f"(select {_COLUMNS} from service_orders where {where} and status = wanted.st "
        "order by created_at desc, id desc limit %s) by_status "
        "order by created_at desc, id desc limit %s"
    )


def update(conn: Conn, order_id: UUID, *, expected_version: int, changes: dict[str, Any]) -> OrderRow | None:
    return versioned_update(
        conn,
        table="service_orders",
        columns=_COLUMNS,
        row=OrderRow,
        allowed=EDITABLE,
        row_id=order_id,
        expected_version=expected_version,
        changes=changes,
    )


def set_status(
    conn: Conn,
    order_id: UUID,
    *,
    expected_version: int,
    status: str,
    delivered_at: datetime | None = None,
    warranty_until: date | None = None,
) -> OrderRow | None:
    return fetch_one(
        conn,
        OrderRow,
        "update service_orders set status = %s, delivered_at = coalesce(%s, delivered_at), "
        "warranty_until = coalesce(%s, warranty_until), version = version + 1, updated_at = now() "
        f"where id = %s and version = %s returning {_COLUMNS}",
        (status, delivered_at, warranty_until, order_id, expected_version),
    )


def add_transition(
    conn: Conn,
    *,
    tenant_id: UUID,
    order_id: UUID,
    from_status: str | None,
    to_status: str,
    reason: str | None,
    actor_user_id: UUID | None,
    actor_label: str | None = None,
) -> None:
    conn.execute(
        "insert into order_transitions (tenant_id, order_id, from_status, to_status, reason, actor_user_id, "
        "actor_label) values (%s, %s, %s, %s, %s, %s, %s)",
        (tenant_id, order_id, from_status, to_status, reason, actor_user_id, actor_label),
    )


def history(conn: Conn, order_id: UUID) -> list[TransitionRow]:
    return fetch_all(
        conn,
        TransitionRow,
        "select t.id, t.from_status, t.to_status, t.reason, t.actor_user_id, "
        "coalesce(t.actor_label, u.name) as actor_label, t.at "
        "from order_transitions t left join users u on u.id = t.actor_user_id "
        "where t.order_id = %s order by t.at, t.id",
        (order_id,),
    )


def get_workflow(conn: Conn) -> WorkflowRow:
    with conn.cursor(row_factory=class_row(WorkflowRow)) as cur:
        row = cur.execute(
            f"select disabled_transitions, warranty_days, version from order_workflows where {_TENANT}"
        ).fetchone()
    return row or WorkflowRow(disabled_transitions=[], warranty_days=90, version=0)


def save_workflow(
    conn: Conn, *, tenant_id: UUID, expected_version: int, disabled: list[list[str]], warranty_days: int
) -> WorkflowRow | None:
    """Version 0 means "still the defaults": the first save creates the row."""
    with conn.cursor(row_factory=class_row(WorkflowRow)) as cur:
        if expected_version == 0:
            return cur.execute(
                "insert into order_workflows (tenant_id, disabled_transitions, warranty_days) "
                "values (%s, %s, %s) on conflict (tenant_id) do nothing "
                "returning disabled_transitions, warranty_days, version",
                (tenant_id, json.dumps(disabled), warranty_days),
            ).fetchone()
        return cur.execute(
            "update order_workflows set disabled_transitions = %s, warranty_days = %s, "
            "version = version + 1, updated_at = now() where version = %s "
            "returning disabled_transitions, warranty_days, version",
            (json.dumps(disabled), warranty_days, expected_version),
        ).fetchone()


def local_today(conn: Conn) -> date:
    """Today in the shop's time zone (warranty ends are calendar days where the shop is)."""
    row = conn.execute(
        f"select (now() at time zone coalesce((select timezone from tenant_settings where {_TENANT}), "
        "'America/Sao_Paulo'))::date"
    ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]
