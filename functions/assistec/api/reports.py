from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from assistec.api.identity import caller, services
from assistec.api.responses import doc, json_response
from assistec.api.routes import Routes
from assistec.api.schemas.common import IsoDate
from assistec.api.schemas.reports import (
    CountRow,
    OrdersReport,
    RevenueReport,
    RevenueRow,
    TurnaroundReport,
    TurnaroundRow,
)

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped
routes = Routes(router, tag="reports")

# ISO dates only (YYYY-MM-DD): "0" or a timestamp is a 422, not 1970-01-01.
From = Annotated[IsoDate | None, Query(alias="from", description="First day (default: 30 days ago)")]
To = Annotated[IsoDate | None, Query(alias="to", description="Last day, inclusive (default: today)")]


@routes.get(
    "/reports/orders",
    summary="Orders opened in the period, counted by status, technician, day, week or month",
    responses=doc(200, OrdersReport, 401, 403),
)
def orders_report(
    group_by: Annotated[Literal["status", "technician", "day", "week", "month"], Query()] = "status",
    start: From = None,
    end: To = None,
) -> Response[Any]:
    first, last, rows = services().reports.orders(caller(router), group=group_by, start=start, end=end)
    return json_response(
        200,
        OrdersReport(
            group_by=group_by, start=first, end=last, rows=[CountRow.model_validate(r) for r in rows]
        ),
    )


@routes.get(
    "/reports/revenue",
    summary="Revenue of delivered orders (their approved quotes) per day, week or month of delivery",
    responses=doc(200, RevenueReport, 401, 403),
)
def revenue_report(
    period: Annotated[Literal["day", "week", "month"], Query()] = "month",
    start: From = None,
    end: To = None,
) -> Response[Any]:
    first, last, found = services().reports.revenue(caller(router), period=period, start=start, end=end)
    rows = [RevenueRow.model_validate(r) for r in found]
    return json_response(
        200,
        RevenueReport(
            period=period, start=first, end=last, total_cents=sum(r.revenue_cents for r in rows), rows=rows
        ),
    )


@routes.get(
    "/reports/turnaround",
    summary="Average hours from intake to delivery, overall and per technician",
    responses=doc(200, TurnaroundReport, 401, 403),
)
def turnaround_report(start: From = None, end: To = None) -> Response[Any]:
    first, last, rows = services().reports.turnaround(caller(router), start=start, end=end)
    return json_response(
        200, TurnaroundReport(start=first, end=last, rows=[TurnaroundRow.model_validate(r) for r in rows])
    )
