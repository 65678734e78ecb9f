"""Models of the reports."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from assistec.api.schemas.common import Output


class CountRow(Output):
    key: str
    orders: int


class OrdersReport(Output):
    group_by: Literal["status", "technician", "day", "week", "month"]
    start: date
    end: date
    rows: list[CountRow]


class RevenueRow(Output):
    key: str = Field(description="The period (YYYY-MM-DD, YYYY-Www or YYYY-MM)")
    orders: int
    revenue_cents: int


class RevenueReport(Output):
    period: Literal["day", "week", "month"]
    start: date
    end: date
    total_cents: int
    rows: list[RevenueRow]


class TurnaroundRow(Output):
    key: str | None = Field(description="The technician; null for all orders together")
    orders: int
    average_hours: float


class TurnaroundReport(Output):
    start: date
    end: date
    rows: list[TurnaroundRow]
