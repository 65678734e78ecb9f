"""The shop's settings: business hours and days, welcome and out-of-hours messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistec.db import repositories as repo
from assistec.db.connection import Database
from assistec.db.rows import SettingsRow
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, NotFoundError
from assistec.services import audit
from assistec.services.access import require


@dataclass(frozen=True, slots=True)
class SettingsUpdate:
    version: int
    timezone: str
    business_hours: dict[str, list[list[str]]]
    welcome_message: str
    out_of_hours_message: str
    logo_url: str | None = None


class ShopSettingsService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, identity: Identity) -> SettingsRow:
        require(identity, Permission.SETTINGS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            row = repo.get_settings(conn)
        if row is None:
            raise NotFoundError("Configurações não encontradas.")
        return row

    def update(
        self, identity: Identity, update: SettingsUpdate, *, correlation_id: str | None = None
    ) -> SettingsRow:
        require(identity, Permission.SETTINGS_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            current = repo.get_settings(conn)
            if current is None:
                raise NotFoundError("Configurações não encontradas.")
            row = repo.update_settings(
                conn,
                expected_version=update.version,
                timezone=update.timezone,
                business_hours=update.business_hours,
                welcome_message=update.welcome_message,
                out_of_hours_message=update.out_of_hours_message,
                logo_url=update.logo_url,
            )
            if row is None:
                raise ConflictError(
                    "As configurações foram alteradas por outra pessoa. Recarregue e tente novamente.",
                    details={"current_version": current.version},
                )
            changed: dict[str, Any] = {
                field: {"from": getattr(current, field), "to": getattr(row, field)}
                for field in (
                    "timezone",
                    "business_hours",
                    "welcome_message",
                    "out_of_hours_message",
                    "logo_url",
                )
                if getattr(current, field) != getattr(row, field)
            }
            audit.record(
                conn,
                identity,
                action="update",
                entity="settings",
                entity_id=str(identity.tenant_id),
                changes=changed,
                correlation_id=correlation_id,
            )
            return row
