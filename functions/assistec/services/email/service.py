"""The one way the product sends e-mail.

``Mail.send`` renders a message from its template (the shop's own subject and opening paragraph when
it wrote them), refuses an address the shop's suppression list holds, sends through the shop's own
SMTP server when it configured one (else the platform's SES sender, the shop as reply-to), and
records every message in ``email_messages``: 'sending' before the provider is called, then 'sent'
with the provider's id or 'failed' with the reason. SES's delivery, bounce and complaint events
(``MailEvents``) move the record on and suppress the address for that shop.

No transaction is held while a provider is called. A transient failure (``MailUnavailable``) is
raised for the caller's retry (a Step Functions task, an SQS message); a permanent refusal
(``MailRefused``) is recorded and answered as ``Sent(status='failed')``: retrying would not help.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from assistec.db import email as email_db
from assistec.db import shop_settings as settings_db
from assistec.db import tenants as tenants_db
from assistec.integrations.kms import SMTP_PASSWORD
from assistec.observability import logger
from assistec.services.audit import SystemActor

if TYPE_CHECKING:
    from assistec.integrations.email import Attachment, Mailer, SmtpConfig
    from assistec.integrations.kms import Cipher
    from assistec.services.email.templates import Override, ShopFace
    from assistec.services.unit_of_work import UnitsOfWork

# Who a message is for: a shop's customer (the shop's name as sender, its address as reply-to, its
# own server and texts when it has them) or the shop itself (the platform writing to its staff).
Audience = Literal["customer", "shop"]


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of one message."""

    status: Literal["sent", "suppressed", "failed"]
    record_id: UUID | None
    transport: str
    provider_message_id: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "sent"


def smtp_context(tenant_id: UUID) -> dict[str, str]:
    """The KMS encryption context of a shop's SMTP password."""
    return {SMTP_PASSWORD[0]: SMTP_PASSWORD[1], "tenant_id": str(tenant_id)}


@dataclass(frozen=True, slots=True)
class _Plan:
    record_id: UUID
    transport: str
    shop: ShopFace
    override: Override | None
    smtp: email_db.SmtpRow | None
    status: str
    reason: str | None


class Mail:
    """Renders, sends and records the product's e-mail (see the module docstring)."""

    def __init__(
        self,
        work: UnitsOfWork,
        ses: Callable[[], Mailer],
        *,
        smtp_cipher: Callable[[], Cipher],
        smtp: Callable[[SmtpConfig], Mailer],
        support_address: str | None = None,
    ) -> None:
        self._work = work
        self._support = support_address
        self._ses = ses
        self._smtp_cipher = smtp_cipher
        self._smtp = smtp

    def send(
        self,
        tenant_id: UUID,
        *,
        template: str,
        to: str,
        context: Mapping[str, Any],
        audience: Audience = "customer",
        attachments: Sequence[Attachment] = (),
        order_id: UUID | None = None,
    ) -> Sent:
        from assistec.integrations.email import MailRefused, OutgoingMail
        from assistec.services.email.templates import render

        plan = self._plan(tenant_id, template, to, audience, attachments, order_id)
        if plan.status == "suppressed":
            logger.info("mail suppressed", extra={"template": template, "record": str(plan.record_id)})
            return Sent("suppressed", plan.record_id, plan.transport, reason=plan.reason)
        try:
            rendered = render(
                template, {"shop_name": plan.shop.name, **context}, shop=plan.shop, override=plan.override
            )
            mail = OutgoingMail(
                to=to,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                from_name=plan.shop.name if audience == "customer" else None,
                reply_to=plan.shop.email if audience == "customer" else self._support,
                attachments=tuple(attachments),
                tags=(("tenant", str(tenant_id)), ("template", template), ("record", str(plan.record_id))),
            )
            mailer = self._mailer(tenant_id, plan.smtp)
            provider_id = mailer.send(mail)
        except MailRefused as exc:
            self._finish(tenant_id, plan.record_id, "failed", error_code=exc.code, detail=exc.message)
            logger.warning("mail refused", extra={"template": template, "code": exc.code})
            return Sent("failed", plan.record_id, plan.transport, reason=exc.message)
        except Exception as exc:
            self._finish(tenant_id, plan.record_id, "failed", error_code="unavailable", detail=_short(exc))
            raise
        self._finish(tenant_id, plan.record_id, "sent", provider_message_id=provider_id, subject=mail.subject)
        logger.info("mail sent", extra={"template": template, "transport": plan.transport})
        return Sent("sent", plan.record_id, plan.transport, provider_message_id=provider_id)

    def send_platform(self, *, template: str, to: str, context: Mapping[str, Any]) -> str:
        """A message from the platform to someone who has no shop yet (a sign-up's confirmation):
        through SES, logged with its id, not recorded (no shop to record it in). Errors propagate."""
        from assistec.integrations.email import OutgoingMail
        from assistec.services.email.templates import render

        rendered = render(template, context)
        mail = OutgoingMail(
            to=to,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            reply_to=self._support,
            tags=(("template", template),),
        )
        provider_id = self._ses().send(mail)
        logger.info("platform mail sent", extra={"template": template, "provider_message_id": provider_id})
        return provider_id

    def _plan(
        self,
        tenant_id: UUID,
        template: str,
        to: str,
        audience: Audience,
        attachments: Sequence[Attachment],
        order_id: UUID | None,
    ) -> _Plan:
        """Read what the message needs and write its record, in one short transaction."""
        from assistec.services.email.templates import TEMPLATES, Override, ShopFace

        with self._work(SystemActor(tenant_id=tenant_id)) as uow:
            tenant = tenants_db.get_tenant(uow.conn, tenant_id)
            if tenant is None:
                raise LookupError(f"no shop {tenant_id}")
            shop_settings = settings_db.get_settings(uow.conn)
            shop = ShopFace(
                name=tenant.name,
                logo_url=shop_settings.logo_url if shop_settings else None,
                email=tenant.email,
                phone=tenant.phone,
            )
            customer_facing = audience == "customer"
            smtp = email_db.get_smtp(uow.conn) if customer_facing else None
            override = None
            if customer_facing and TEMPLATES[template].overridable:
                row = email_db.get_override(uow.conn, template)
                override = Override(subject=row.subject, intro=row.intro) if row else None
            suppressed = email_db.suppression(uow.conn, to)
            transport = "smtp" if smtp is not None else "ses"
            reason = _SUPPRESSED.get(suppressed.reason, suppressed.detail) if suppressed else None
            record = email_db.add_message(
                uow.conn,
                tenant_id=tenant_id,
                template=template,
                to_address=to.lower(),
                subject=None,
                transport=transport,
                status="suppressed" if suppressed else "sending",
                attachments=[a.filename for a in attachments],
                order_id=order_id,
                detail=reason,
            )
        return _Plan(record.id, transport, shop, override, smtp, record.status, reason)

    def _mailer(self, tenant_id: UUID, smtp: email_db.SmtpRow | None) -> Mailer:
        if smtp is None:
            return self._ses()
        from assistec.integrations.email import SmtpConfig

        password = None
        if smtp.smtp_password_enc is not None:
            password = self._smtp_cipher().decrypt(smtp.smtp_password_enc, smtp_context(tenant_id))
        return self._smtp(
            SmtpConfig(
                host=smtp.smtp_host,
                port=smtp.smtp_port,
                security="tls" if smtp.smtp_security == "tls" else "starttls",
                username=smtp.smtp_username,
                password=password,
                from_address=smtp.from_address,
            )
        )

    def _finish(
        self,
        tenant_id: UUID,
        record_id: UUID,
        status: str,
        *,
        provider_message_id: str | None = None,
        error_code: str | None = None,
        detail: str | None = None,
        subject: str | None = None,
    ) -> None:
        with self._work(SystemActor(tenant_id=tenant_id)) as uow:
            email_db.finish_message(
                uow.conn,
                record_id,
                status=status,
                provider_message_id=provider_message_id,
                error_code=error_code,
                detail=detail,
                subject=subject,
            )


_SUPPRESSED = {
    "bounce": (
        "Endereço suprimido: o servidor do destinatário recusou mensagens anteriores (bounce permanente)."
    ),
    "complaint": "Endereço suprimido: o destinatário marcou uma mensagem da loja como spam.",
}


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
