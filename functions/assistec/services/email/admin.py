"""What staff see and set of the shop's e-mail: the messages sent and what became of them, the
suppressed addresses (and lifting one), the shop's own SMTP server and its texts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import email as email_db
from assistec.db import users as users_db
from assistec.domain.permissions import Permission
from assistec.errors import AppError, ConflictError, NotFoundError, found
from assistec.services.email.service import Sent, smtp_context

if TYPE_CHECKING:
    from assistec.domain.tokens import Identity
    from assistec.integrations.kms import Cipher
    from assistec.services.email.service import Mail
    from assistec.services.email.templates import Rendered, TemplateSpec
    from assistec.services.unit_of_work import UnitsOfWork


class MailSetupError(AppError):
    """A setting the mail module cannot use (422, with the reason's own stable code)."""

    status = 422

    def __init__(self, code: str, message: str, *, field: str) -> None:
        super().__init__(message, details=[{"field": field, "message": message}])
        self.code = code


@dataclass(frozen=True, slots=True)
class SmtpCommand:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None  # None: keep the stored one
    from_address: str


@dataclass(frozen=True, slots=True)
class TemplateView:
    spec: TemplateSpec
    override: email_db.OverrideRow | None


class MailAdmin:
    def __init__(
        self,
        work: UnitsOfWork,
        mail: Callable[[], Mail],
        cipher: Callable[[], Cipher],
        *,
        allow_private_smtp: bool,
    ) -> None:
        self._work = work
        self._mail = mail
        self._cipher = cipher
        self._allow_private = allow_private_smtp

    # --- messages and suppressions -------------------------------------------------------------
    def messages(
        self,
        identity: Identity,
        *,
        limit: int,
        after: tuple[datetime, UUID] | None = None,
        status: str | None = None,
        order_id: UUID | None = None,
        to: str | None = None,
    ) -> list[email_db.MessageRow]:
        with self._work(identity, Permission.CUSTOMERS_READ) as uow:
            return email_db.list_messages(
                uow.conn,
                limit=limit,
                after=after,
                status=status,
                order_id=order_id,
                to_address=to.lower() if to else None,
            )

    def suppressions(
        self, identity: Identity, *, limit: int, after: str | None
    ) -> list[email_db.SuppressionRow]:
        with self._work(identity, Permission.CUSTOMERS_READ) as uow:
            return email_db.list_suppressions(uow.conn, limit=limit, after=after.lower() if after else None)

    def lift(self, identity: Identity, address: str) -> None:
        """Write to the address again (the customer fixed their mailbox, or asked for the mail)."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            row = found(email_db.lift(uow.conn, address), "Este endereço não está suprimido.")
            uow.audit("lift", "email_address", row.address, changes={"reason": row.reason})

    # --- the shop's SMTP server ----------------------------------------------------------------
    def smtp(self, identity: Identity) -> email_db.SmtpRow | None:
        with self._work(identity, Permission.SETTINGS_READ) as uow:
            return email_db.get_smtp(uow.conn)

    def save_smtp(self, identity: Identity, cmd: SmtpCommand, *, expected_version: int) -> email_db.SmtpRow:
        """Check the server's address (never one inside our network), encrypt the password, save."""
        from assistec.integrations.email import MailRefused, resolve_smtp_host
        from assistec.services.access import require

        require(identity, Permission.SETTINGS_WRITE)  # before the address is even looked up
        try:
            resolve_smtp_host(cmd.host, cmd.port, allow_private=self._allow_private)
        except MailRefused as exc:
            raise MailSetupError(exc.code, exc.message, field="host") from None
        if expected_version == 0 and cmd.username and not cmd.password:
            raise MailSetupError(
                "smtp_password_required", "Informe a senha do servidor SMTP.", field="password"
            )
        encrypted = (
            self._cipher().encrypt(cmd.password, smtp_context(identity.tenant_id)) if cmd.password else None
        )
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            row = email_db.save_smtp(
                uow.conn,
                tenant_id=uow.tenant_id,
                host=cmd.host,
                port=cmd.port,
                security=cmd.security,
                username=cmd.username,
                password_enc=encrypted,
                keep_password=cmd.password is None,
                from_address=cmd.from_address,
                expected_version=expected_version,
            )
            if row is None:
                current = email_db.get_smtp(uow.conn)
                raise ConflictError(
                    "As configurações de e-mail foram alteradas por outra pessoa.",
                    details={"current_version": current.version if current else 0},
                )
            changes: dict[str, Any] = {
                "host": cmd.host,
                "port": cmd.port,
                "security": cmd.security,
                "username": cmd.username,
                "from_address": cmd.from_address,
                "password_changed": cmd.password is not None,
            }
            uow.audit("update", "email_settings", uow.tenant_id, changes=changes)
        return row

    def delete_smtp(self, identity: Identity) -> None:
        """Back to the platform's sender."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            if not email_db.delete_smtp(uow.conn):
                raise NotFoundError("A loja não tem servidor SMTP próprio.")
            uow.audit("delete", "email_settings", uow.tenant_id)

    def test_smtp(self, identity: Identity) -> tuple[Sent, str]:
        """Send the test message to the signed-in user through the shop's server; the outcome is kept
        on the settings (staff see when it last worked, or why not)."""
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            smtp = found(email_db.get_smtp(uow.conn), "A loja não tem servidor SMTP próprio.")
            user = found(users_db.get_user(uow.conn, identity.user_id), "Usuário não encontrado.")
        context = {
            "requested_by": user.name,
            "server": f"{smtp.smtp_host}:{smtp.smtp_port}",
            "sent_at": datetime.now(UTC),
        }
        from assistec.integrations.email import MailUnavailable

        try:
            sent = self._mail().send(identity.tenant_id, template="smtp_test", to=user.email, context=context)
        except MailUnavailable as exc:
            # A customer's message would be retried later; a test answers now: the server is
            # unreachable (refused, timed out), and that is what the staff need to read.
            sent = Sent("failed", None, "smtp", reason=exc.message)
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            email_db.smtp_checked(uow.conn, ok=sent.ok, error=sent.reason)
        return sent, user.email

    # --- the shop's texts ----------------------------------------------------------------------
    def templates(self, identity: Identity) -> list[TemplateView]:
        from assistec.services.email.templates import TEMPLATES

        with self._work(identity, Permission.SETTINGS_READ) as uow:
            overrides = {row.template: row for row in email_db.list_overrides(uow.conn)}
        return [
            TemplateView(spec, overrides.get(name)) for name, spec in TEMPLATES.items() if spec.overridable
        ]

    def save_template(
        self, identity: Identity, name: str, *, subject: str | None, intro: str | None, expected_version: int
    ) -> TemplateView:
        from assistec.services.email.templates import Override, TemplateError

        spec = self._spec(name)
        if not subject and not intro:
            raise MailSetupError(
                "template_empty",
                "Informe o assunto, o texto de abertura ou os dois (o texto padrão volta com DELETE).",
                field="subject",
            )
        try:
            from assistec.services.email.templates import check_override

            check_override(name, Override(subject=subject, intro=intro))
        except TemplateError as exc:
            raise MailSetupError(
                exc.code, exc.message, field="intro" if "intro" in exc.code else "subject"
            ) from None
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            row = email_db.save_override(
                uow.conn,
                tenant_id=uow.tenant_id,
                template=name,
                subject=subject,
                intro=intro,
                expected_version=expected_version,
            )
            if row is None:
                current = email_db.get_override(uow.conn, name)
                raise ConflictError(
                    "Este texto foi alterado por outra pessoa.",
                    details={"current_version": current.version if current else 0},
                )
            uow.audit("update", "email_template", name, changes={"subject": subject, "intro": intro})
        return TemplateView(spec, row)

    def reset_template(self, identity: Identity, name: str) -> None:
        self._spec(name)
        with self._work(identity, Permission.SETTINGS_WRITE) as uow:
            if not email_db.delete_override(uow.conn, name):
                raise NotFoundError("Esta mensagem já usa o texto padrão.")
            uow.audit("delete", "email_template", name)

    def preview(self, identity: Identity, name: str, *, subject: str | None, intro: str | None) -> Rendered:
        """The message as the shop's customer would read it, with sample data and the given texts."""
        from assistec.db import tenants as tenants_db
        from assistec.services.email.templates import (
            Override,
            ShopFace,
            TemplateError,
            check_override,
            render,
        )

        spec = self._spec(name)
        override = Override(subject=subject, intro=intro) if subject or intro else None
        if override is not None:
            try:
                check_override(name, override)
            except TemplateError as exc:
                raise MailSetupError(exc.code, exc.message, field="intro") from None
        with self._work(identity, Permission.SETTINGS_READ) as uow:
            tenant = found(tenants_db.get_tenant(uow.conn, uow.tenant_id), "Loja não encontrada.")
        shop = ShopFace(name=tenant.name, email=tenant.email, phone=tenant.phone)
        return render(name, dict(spec.sample), shop=shop, override=override)

    @staticmethod
    def _spec(name: str) -> TemplateSpec:
        from assistec.services.email.templates import TEMPLATES

        spec = TEMPLATES.get(name)
        if spec is None or not spec.overridable:
            raise NotFoundError("Mensagem desconhecida.")
        return spec
