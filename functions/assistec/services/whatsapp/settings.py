"""``/settings/whatsapp``: the bot's texts (each a shop template with a pt-BR default) and whether the
bot answers at all. Everyone reads them; owners and admins change them (optimistic locking)."""

from __future__ import annotations

from dataclasses import dataclass

from assistec.db import whatsapp as wa_db
from assistec.domain import wa_router as router
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, ValidationFailedError
from assistec.services.unit_of_work import UnitsOfWork

_STALE = "As configurações do WhatsApp foram alteradas por outra pessoa. Recarregue e tente novamente."


@dataclass(frozen=True, slots=True)
class WhatsappSettingsView:
    templates: dict[str, str]  # every text, the shop's where it has one, else the default
    overrides: dict[str, str]  # the shop's own texts only
    bot_enabled: bool
    status_messages: list[str]  # the order statuses told to the customer on WhatsApp
    version: int


class WhatsappSettingsService:
    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    def get(self, identity: Identity) -> WhatsappSettingsView:
        with self._work(identity, Permission.SETTINGS_READ) as uow:
            row = wa_db.get_settings(uow.conn)
        return _view(row.templates, row.bot_enabled, row.status_messages, row.version)

    def save(
        self,
        identity: Identity,
        *,
        version: int,
        templates: dict[str, str | None],
        bot_enabled: bool,
        status_messages: list[str] | None = None,
    ) -> WhatsappSettingsView:
        """Replace the shop's texts: a key with null (or the default's text) goes back to the default;
        every text is checked (known key, known placeholders, length); 409 on a stale version."""
        problems: dict[str, list[str]] = {}
        overrides: dict[str, str] = {}
        for key, text in templates.items():
            if text is None or text == router.DEFAULT_TEMPLATES.get(key):
                if key not in router.DEFAULT_TEMPLATES:
                    problems[key] = ["Texto desconhecido."]
                continue
            found = router.validate_template(key, text)
            if found:
                problems[key] = found
            else:
                overrides[key] = text
        if problems:
            raise ValidationFailedError(details={"templates": problems})
        statuses = sorted(set(status_messages)) if status_messages is not None else None
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            saved = wa_db.save_settings(
                uow.conn,
                tenant_id=uow.tenant_id,
                templates=overrides,
                bot_enabled=bot_enabled,
                status_messages=statuses,
                expected_version=version,
            )
            if saved is None:
                raise ConflictError(_STALE, details={"current_version": wa_db.get_settings(uow.conn).version})
            uow.audit(
                "update",
                "whatsapp_settings",
                uow.tenant_id,
                changes={
                    "templates": sorted(overrides),
                    "bot_enabled": bot_enabled,
                    "status_messages": statuses,
                },
            )
        return _view(overrides, bot_enabled, statuses, saved)


def _view(
    overrides: dict[str, str], enabled: bool, statuses: list[str] | None, version: int
) -> WhatsappSettingsView:
    return WhatsappSettingsView(
        templates={key: overrides.get(key, text) for key, text in router.DEFAULT_TEMPLATES.items()},
        overrides=overrides,
        bot_enabled=enabled,
        status_messages=list(router.DEFAULT_STATUS_MESSAGES) if statuses is None else statuses,
        version=version,
    )
