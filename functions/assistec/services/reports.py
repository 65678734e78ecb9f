"""The shop's reports: orders by status, technician or period; revenue; turnaround."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from assistec.db import orders as orders_db
from assistec.db import reports as reports_db
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ValidationFailedError
from assistec.services.unit_of_work import UnitsOfWork

MAX_DAYS = 366


def _period(conn: Any, start: date | None, end: date | None) -> tuple[date, date]:
    """Defaults: the last 30 days up to today where the shop is."""
    end = end or orders_db.local_today(conn)
    start = start or end - timedelta(days=30)
    _check(start, end)
    return start, end


def _check(start: date, end: date) -> None:
    if end < start:
        raise ValidationFailedError(
            "O fim do período é anterior ao início.", details=[{"field": "to", "message": "anterior a from"}]
        )
    if (end - start).days > MAX_DAYS:
        raise ValidationFailedError(
            f"Período máximo de {MAX_DAYS} dias.",
            details=[{"field": "to", "message": "período longo demais"}],
        )


class ReportsService:
    """The shop's reports (owners and admins), over a period of at most a year that defaults to the
    last 30 days up to today in the shop's time zone."""

    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    def orders(
        self, identity: Identity, *, group: str, start: date | None, end: date | None
    ) -> tuple[date, date, list[dict[str, Any]]]:
        """Orders counted by status, technician or period."""
        with self._work(identity, Permission.REPORTS_READ) as uow:
            first, last = _period(uow.conn, start, end)
            return first, last, reports_db.orders_by(uow.conn, group=group, start=first, end=last)

    def revenue(
        self, identity: Identity, *, period: str, start: date | None, end: date | None
    ) -> tuple[date, date, list[dict[str, Any]]]:
        """Revenue of delivered orders per day, week or month (centavos)."""
        with self._work(identity, Permission.REPORTS_READ) as uow:
            first, last = _period(uow.conn, start, end)
            return first, last, reports_db.revenue_by(uow.conn, period=period, start=first, end=last)

    def turnaround(
        self, identity: Identity, *, start: date | None, end: date | None
    ) -> tuple[date, date, list[dict[str, Any]]]:
        """Average intake-to-delivery time."""
        with self._work(identity, Permission.REPORTS_READ) as uow:
            first, last = _period(uow.conn, start, end)
            return first, last, reports_db.turnaround(uow.conn, start=first, end=last)
