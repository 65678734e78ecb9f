"""The shop's settings: business hours and days, welcome and out-of-hours messages."""

from __future__ import annotations

from typing import Any

from assistec.db import shop_settings as settings_db
from assistec.db.rows import SettingsRow
from assistec.domain.permissions import Permission
from assistec.domain.shop_settings import SettingsUpdate
from assistec.domain.tokens import Identity
from assistec.errors import NotFoundError
from assistec.services.unit_of_work import UnitsOfWork

_NOT_FOUND = "Configurações não encontradas."
_AUDITED = ("timezone", "business_hours", "welcome_message", "out_of_hours_message", "logo_url")


class ShopSettingsService:
    """The shop's settings: read by any staff member, changed by owners and admins at a version
    (409 when stale); the audit keeps only the fields that really changed."""

    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    def get(self, identity: Identity) -> SettingsRow:
        """The shop's settings."""
        with self._work(identity, Permission.SETTINGS_READ) as uow:
            row = settings_db.get_settings(uow.conn)
        if row is None:
            raise NotFoundError(_NOT_FOUND)
        return row

    def update(self, identity: Identity, update: SettingsUpdate) -> SettingsRow:
        """Replace the settings at ``update.version``."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            current, row = uow.update_versioned(
                lambda: settings_db.get_settings(uow.conn),
                lambda: settings_db.update_settings(
                    uow.conn,
                    expected_version=update.version,
                    timezone=update.timezone,
                    business_hours=update.business_hours,
                    welcome_message=update.welcome_message,
                    out_of_hours_message=update.out_of_hours_message,
                    logo_url=update.logo_url,
                ),
                version_of=lambda r: r.version,
                not_found=_NOT_FOUND,
                stale="As configurações foram alteradas por outra pessoa. Recarregue e tente novamente.",
            )
            changed: dict[str, Any] = {
                field: {"from": getattr(current, field), "to": getattr(row, field)}
                for field in _AUDITED
                if getattr(current, field) != getattr(row, field)
            }
            uow.audit("update", "settings", uow.tenant_id, changes=changed)
            return row
