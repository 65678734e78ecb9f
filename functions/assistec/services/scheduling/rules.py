"""``/settings/scheduling``: each appointment type's duration, buffer and capacity, the slot grid,
notice and horizon, closed dates, optional holidays, reminder offsets and booking hours. Everyone
reads them; owners and admins change them (optimistic locking)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from assistec.db import scheduling as db
from assistec.db import shop_settings as settings_db
from assistec.domain import scheduling as rules
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork

_STALE = "As configurações de agenda foram alteradas por outra pessoa. Recarregue e tente novamente."
DEFAULT_TZ = "America/Sao_Paulo"


@dataclass(frozen=True, slots=True)
class ShopRules:
    """What availability and bookings are computed from, read in one transaction."""

    timezone: str
    hours: dict[str, Any]  # booking hours, or the business hours
    types: dict[str, rules.TypeRule]
    step_min: int
    min_notice_min: int
    horizon_days: int
    closed_dates: list[date]
    observe_optional_holidays: bool
    reminder_offsets: list[int]
    version: int


def type_rules(stored: dict[str, Any]) -> dict[str, rules.TypeRule]:
    """The shop's rules per type over the defaults (a type it never set keeps the default)."""
    merged: dict[str, rules.TypeRule] = {}
    for name in rules.APPOINTMENT_TYPES:
        base = rules.DEFAULT_RULES[name]
        own = stored.get(name) or {}
        merged[name] = replace(base, **{k: v for k, v in own.items() if k in rules.TypeRule.__slots__})
    return merged


def load(uow: UnitOfWork) -> ShopRules:
    row = db.get_settings(uow.conn)
    shop = settings_db.get_settings(uow.conn)
    business = shop.business_hours if shop is not None else {}
    return ShopRules(
        timezone=(shop.timezone if shop is not None else None) or DEFAULT_TZ,
        hours=row.booking_hours if row.booking_hours is not None else dict(business or {}),
        types=type_rules(row.types),
        step_min=row.step_min,
        min_notice_min=row.min_notice_min,
        horizon_days=row.horizon_days,
        closed_dates=list(row.closed_dates),
        observe_optional_holidays=row.observe_optional_holidays,
        reminder_offsets=list(row.reminder_offsets),
        version=row.version,
    )


class SchedulingSettingsService:
    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    def get(self, identity: Identity) -> tuple[ShopRules, dict[str, Any] | None]:
        with self._work(identity, Permission.SETTINGS_READ) as uow:
            return load(uow), db.get_settings(uow.conn).booking_hours

    def save(
        self, identity: Identity, *, version: int, values: dict[str, Any]
    ) -> tuple[ShopRules, dict[str, Any] | None]:
        """Replace the shop's scheduling rules (``values``: every field of the settings); 409 when
        ``version`` is not the one stored (0 for a shop that never saved them)."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            current = db.get_settings(uow.conn)
            if current.version != version:
                raise ConflictError(_STALE, details={"current_version": current.version})
            saved = db.save_settings(
                uow.conn, tenant_id=uow.tenant_id, values=values, expected_version=version
            )
            if saved is None:
                raise ConflictError(_STALE, details={"current_version": db.get_settings(uow.conn).version})
            uow.audit(
                "update",
                "scheduling_settings",
                uow.tenant_id,
                changes={k: (str(v) if isinstance(v, list | dict) else v) for k, v in values.items()},
            )
            return load(uow), saved.booking_hours
