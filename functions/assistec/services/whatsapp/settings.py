"""``/settings/whatsapp``: the bot's texts (each a shop template with a pt-BR default), whether the bot
answers at all, which order statuses are told, how quotes go out (by themselves or not, their
reminder and expiry) and whether customers' media is fetched to S3. Everyone reads them; owners and
admins change them (optimistic locking)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    auto_send_quotes: bool
    quote_reminder_hours: int
    quote_expire_hours: int
    fetch_media: bool
    version: int


class WhatsappSettingsService:
    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    def get(self, identity: Identity) -> WhatsappSettingsView:
        with self._work(identity, Permission.SETTINGS_READ) as uow:
            return _view(wa_db.get_settings(uow.conn))

    def save(
        self,
        identity: Identity,
        *,
        version: int,
        templates: dict[str, str | None],
        bot_enabled: bool,
        status_messages: list[str] | None = None,
        options: dict[str, Any] | None = None,
    ) -> WhatsappSettingsView:
        """Replace the shop's texts: a key with null (or the default's text) goes back to the default;
        every text is checked (known key, known placeholders, length); ``options`` (any of
        ``db.whatsapp.OPTIONS``) change only what they name; 409 on a stale version."""
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
        options = options or {}
        statuses = sorted(set(status_messages)) if status_messages is not None else None
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            current = wa_db.get_settings(uow.conn)
            if version != current.version:
                # Stale, before anything is written (a first save over an existing row would trip the
                # table's checks on the defaults it would insert)
                raise ConflictError(_STALE, details={"current_version": current.version})
            reminder = options.get("quote_reminder_hours", current.quote_reminder_hours)
            expire = options.get("quote_expire_hours", current.quote_expire_hours)
            if expire <= reminder:
                raise ValidationFailedError(
                    details=[
                        {"field": "quote_expire_hours", "message": "deve ser maior que quote_reminder_hours"}
                    ]
                )
            saved = wa_db.save_settings(
                uow.conn,
                tenant_id=uow.tenant_id,
                templates=overrides,
                bot_enabled=bot_enabled,
                status_messages=statuses,
                options=options,
                expected_version=version,
            )
            if saved is None:
                raise ConflictError(_STALE, details={"current_version": current.version})
            uow.audit(
                "update",
                "whatsapp_settings",
                uow.tenant_id,
                changes={
                    "templates": sorted(overrides),
                    "bot_enabled": bot_enabled,
                    "status_messages": statuses,
                    **options,
                },
            )
            return _view(wa_db.get_settings(uow.conn))


def _view(row: wa_db.SettingsRow) -> WhatsappSettingsView:
    return WhatsappSettingsView(
        templates={key: row.templates.get(key, text) for key, text in router.DEFAULT_TEMPLATES.items()},
        overrides=row.templates,
        bot_enabled=row.bot_enabled,
        status_messages=(
            list(router.DEFAULT_STATUS_MESSAGES) if row.status_messages is None else row.status_messages
        ),
        auto_send_quotes=row.auto_send_quotes,
        quote_reminder_hours=row.quote_reminder_hours,
        quote_expire_hours=row.quote_expire_hours,
        fetch_media=row.fetch_media,
        version=row.version,
    )
