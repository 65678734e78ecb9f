"""SQL for the shop's reports. Periods are calendar days in the shop's time zone."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from assistec.db.sql import fetch_dicts

if TYPE_CHECKING:
    from assistec.db.sql import Conn

_TENANT = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid"
_TZ = (
    "coalesce((select timezone from tenant_settings "
    "where tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid), 'America/Sao_Paulo')"
)
_GROUPS = {
    "status": "o.status",
    "technician": "coalesce(u.name, 'Sem técnico')",
    "day": "to_char((o.created_at at time zone {tz})::date, 'YYYY-MM-DD')",
    "week": "to_char(date_trunc('week', o.created_at at time zone {tz}), 'IYYY-\"W\"IW')",
    "month": "to_char(o.created_at at time zone {tz}, 'YYYY-MM')",
}
_PERIODS = {
    "day": "to_char((o.delivered_at at time zone {tz})::date, 'YYYY-MM-DD')",
    "week": "to_char(date_trunc('week', o.delivered_at at time zone {tz}), 'IYYY-\"W\"IW')",
    "month": "to_char(o.delivered_at at time zone {tz}, 'YYYY-MM')",
}


def orders_by(conn: Conn, *, group: str, start: date, end: date) -> list[dict[str, Any]]:
    """Orders opened in [start, end], counted by status, technician or period."""
    key = _GROUPS[group].format(tz=_TZ)
    return fetch_dicts(
        conn,
        f"select {key} as key, count(*) as orders from service_orders o "
        "left join users u on u.id = o.technician_id "
        f"where o.{_TENANT} and (o.created_at at time zone {_TZ})::date between %s and %s "
        "group by 1 order by 2 desc, 1",
        (start, end),
    )


def revenue_by(conn: Conn, *, period: str, start: date, end: date) -> list[dict[str, Any]]:
    """Approved quote totals of orders delivered in [start, end], per period of delivery."""
    key = _PERIODS[period].format(tz=_TZ)
    return fetch_dicts(
        conn,
        f"select {key} as key, count(*) as orders, sum(q.total_cents)::bigint as revenue_cents "
        "from service_orders o join quotes q on q.order_id = o.id and q.status = 'approved' "
        f"where o.{_TENANT} and o.status = 'delivered' "
        f"and (o.delivered_at at time zone {_TZ})::date between %s and %s group by 1 order by 1",
        (start, end),
    )


def turnaround(conn: Conn, *, start: date, end: date) -> list[dict[str, Any]]:
    """Average hours from intake to delivery of orders delivered in [start, end], per technician
    (key null = every order)."""
    return fetch_dicts(
        conn,
        "select case when grouping(coalesce(u.name, 'Sem técnico')) = 1 then null "
        "else coalesce(u.name, 'Sem técnico') end as key, count(*) as orders, "
        "round(avg(extract(epoch from o.delivered_at - o.created_at)) / 3600.0, 1)::float "
        "as average_hours "
        "from service_orders o left join users u on u.id = o.technician_id "
        f"where o.{_TENANT} and o.status = 'delivered' "
        f"and (o.delivered_at at time zone {_TZ})::date between %s and %s "
        # With no deliveries, rollup still returns its grand-total row (0 orders, no average).
        "group by rollup (coalesce(u.name, 'Sem técnico')) having count(*) > 0 order by 1 nulls first",
        (start, end),
    )
