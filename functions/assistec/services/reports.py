"""The shop's reports: orders by status, technician or period; revenue; turnaround."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from assistec.db import orders as orders_db
from assistec.db import reports as reports_db
from assistec.db.connection import Database
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ValidationFailedError
from assistec.services.access import require

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
    def __init__(self, db: Database) -> None:
        self._db = db

    def orders(
        self, identity: Identity, *, group: str, start: date | None, end: date | None
    ) -> tuple[date, date, list[dict[str, Any]]]:
        require(identity, Permission.REPORTS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            first, last = _period(conn, start, end)
            return first, last, reports_db.orders_by(conn, group=group, start=first, end=last)

    def revenue(
        self, identity: Identity, *, period: str, start: date | None, end: date | None
    ) -> tuple[date, date, list[dict[str, Any]]]:
        require(identity, Permission.REPORTS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            first, last = _period(conn, start, end)
            return first, last, reports_db.revenue_by(conn, period=period, start=first, end=last)

    def turnaround(
        self, identity: Identity, *, start: date | None, end: date | None
    ) -> tuple[date, date, list[dict[str, Any]]]:
        require(identity, Permission.REPORTS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            first, last = _period(conn, start, end)
            return first, last, reports_db.turnaround(conn, start=first, end=last)
