"""What SES tells us about a message after it left: delivered, bounced, complained about, delayed.

SES publishes these through a configuration set's SNS event destination (``eventType``) or, for the
older identity notifications, with ``notificationType`` (same objects, no tags); SNS hands them to
a Lambda as ``Records[].Sns.Message``, a JSON string. Shapes: AWS SES Developer Guide, "Examples of
event data that Amazon SES publishes to Amazon SNS" and "Amazon SNS notification examples for
Amazon SES" (tests/fixtures/ses/README.md). Pure: no I/O.

What we act on: a permanent bounce or a complaint means never writing to that address again
(``suppress``); a transient bounce or a delay does not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

MailEventKind = Literal[
    "delivered", "bounced", "soft_bounced", "complained", "rejected", "delayed", "sent", "other"
]

DIAGNOSTIC_MAX = 300
MESSAGE_MAX = 512 * 1024  # SNS carries at most 256 KB; anything far larger is not SES's


class MalformedMailEvent(ValueError):
    """An SNS record that is not an SES event we can read (``code`` stable, ``message`` pt-BR)."""

    code = "ses_event_malformed"

    def __init__(self, message: str) -> None:
        self.message = f"Evento do SES malformado: {message}"
        super().__init__(self.message)


@dataclass(frozen=True)
class MailEvent:
    """One event about one message we sent (``message_id`` is SES's, as ``send_raw_email`` returned
    it). ``tags`` holds the first value of each SES message tag (ours and SES's ``ses:*``),
    ``recipients`` the addresses the event is about, lower-cased."""

    kind: MailEventKind
    message_id: str
    tags: dict[str, str]
    recipients: tuple[str, ...]
    suppress: bool
    reason: str
    occurred_at: datetime
    feedback_id: str | None


# --- SES's objects (only the fields we read; SES adds fields without notice) ---------------------
class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True)


class _Mail(_Model):
    message_id: str = Field(min_length=1)
    timestamp: datetime
    destination: list[str] = []
    tags: dict[str, list[str]] = {}


class _Recipient(_Model):
    email_address: str
    action: str | None = None
    status: str | None = None
    diagnostic_code: str | None = None


class _Bounce(_Model):
    bounce_type: str
    bounce_sub_type: str | None = None
    bounced_recipients: list[_Recipient] = []
    timestamp: datetime | None = None
    feedback_id: str | None = None


class _Complaint(_Model):
    complained_recipients: list[_Recipient] = []
    complaint_feedback_type: str | None = None
    complaint_sub_type: str | None = None
    timestamp: datetime | None = None
    feedback_id: str | None = None


class _Delivery(_Model):
    recipients: list[str] = []
    timestamp: datetime | None = None
    smtp_response: str | None = None


class _Reject(_Model):
    reason: str | None = None


class _DeliveryDelay(_Model):
    delay_type: str | None = None
    delayed_recipients: list[_Recipient] = []
    timestamp: datetime | None = None


class _SesEvent(_Model):
    # Event publishing names it eventType; identity notifications, notificationType.
    event_type: str = Field(validation_alias=AliasChoices("eventType", "notificationType"))
    mail: _Mail
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None
    delivery: _Delivery | None = None
    reject: _Reject | None = None
    delivery_delay: _DeliveryDelay | None = None


# --- pt-BR reasons for the shop's staff -------------------------------------------------------------
_PERMANENT_SUBTYPES = {
    "NoEmail": "E-mail inexistente (bounce permanente)",
    "Suppressed": "Endereço na lista de supressão do SES por bounces ou reclamações anteriores",
    "OnAccountSuppressionList": "Endereço na lista de supressão da conta SES",
    "UnsupportedAttachment": "O servidor do destinatário recusou o tipo de anexo (bounce permanente)",
}
_TRANSIENT_SUBTYPES = {
    "MailboxFull": "Caixa de entrada do destinatário cheia",
    "MessageTooLarge": "Mensagem grande demais para o servidor do destinatário",
    "ContentRejected": "O servidor do destinatário recusou o conteúdo da mensagem",
    "AttachmentRejected": "O servidor do destinatário recusou o anexo",
}
_DELAY_TYPES = {
    "InternalFailure": "falha interna do SES",
    "General": "falha genérica",
    "MailboxFull": "caixa de entrada cheia",
    "SpamDetected": "o servidor do destinatário suspeitou de spam",
    "RecipientServerError": "erro no servidor do destinatário",
    "IPFailure": "o servidor do destinatário bloqueou o IP de envio",
    "TransientCommunicationFailure": "falha temporária de comunicação com o servidor do destinatário",
    "BYOIPHostNameLookupUnavailable": "falha ao consultar o nome do IP de envio",
    "Undetermined": "motivo não identificado",
    "SendingDeferral": "envio adiado pelo SES",
}
_REJECT_REASONS = {"Bad content": "conteúdo suspeito (vírus)"}


def _clip(text: str | None, limit: int = DIAGNOSTIC_MAX) -> str:
    text = " ".join((text or "").split())
    text = text.removeprefix("smtp; ").removeprefix("smtp;")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _with(lead: str, diagnostic: str) -> str:
    return f"{lead}: {diagnostic}" if diagnostic else lead


def _lower(addresses: list[str]) -> tuple[str, ...]:
    return tuple(a.strip().lower() for a in addresses if a.strip())


def _from_bounce(event: _SesEvent, bounce: _Bounce) -> tuple[MailEventKind, tuple[str, ...], bool, str]:
    recipients = _lower([r.email_address for r in bounce.bounced_recipients]) or _lower(
        event.mail.destination
    )
    diagnostic = _clip(
        next((r.diagnostic_code for r in bounce.bounced_recipients if r.diagnostic_code), None)
    )
    sub = bounce.bounce_sub_type or ""
    if bounce.bounce_type == "Permanent":
        lead = _PERMANENT_SUBTYPES.get(
            sub, "E-mail inexistente ou recusado pelo servidor (bounce permanente)"
        )
        return "bounced", recipients, True, _with(lead, diagnostic)
    if bounce.bounce_type == "Transient":
        lead = _TRANSIENT_SUBTYPES.get(sub, "Falha temporária na entrega")
        return "soft_bounced", recipients, False, _with(f"{lead} (bounce temporário)", diagnostic)
    return (
        "soft_bounced",
        recipients,
        False,
        _with("Falha na entrega sem motivo identificado pelo SES", diagnostic),
    )


def _from_complaint(
    event: _SesEvent, complaint: _Complaint
) -> tuple[MailEventKind, tuple[str, ...], bool, str]:
    recipients = _lower([r.email_address for r in complaint.complained_recipients]) or _lower(
        event.mail.destination
    )
    if complaint.complaint_sub_type == "OnAccountSuppressionList":
        return (
            "complained",
            recipients,
            True,
            "Endereço na lista de supressão da conta SES (reclamação anterior)",
        )
    if complaint.complaint_feedback_type == "not-spam":
        # A feedback loop reporting that the recipient took the message OUT of spam: no reason to stop.
        return "complained", recipients, False, "O destinatário indicou que a mensagem não é spam"
    return "complained", recipients, True, "O destinatário marcou a mensagem como spam (reclamação)"


def _classify(
    event: _SesEvent,
) -> tuple[MailEventKind, tuple[str, ...], bool, str, datetime | None, str | None]:
    """(kind, recipients, suppress, reason, the event's own time, feedback id)."""
    kind = event.event_type
    destination = _lower(event.mail.destination)
    if kind == "Bounce":
        if event.bounce is None:
            raise MalformedMailEvent("evento Bounce sem o objeto bounce.")
        k, recipients, suppress, reason = _from_bounce(event, event.bounce)
        return k, recipients, suppress, reason, event.bounce.timestamp, event.bounce.feedback_id
    if kind == "Complaint":
        if event.complaint is None:
            raise MalformedMailEvent("evento Complaint sem o objeto complaint.")
        k, recipients, suppress, reason = _from_complaint(event, event.complaint)
        return k, recipients, suppress, reason, event.complaint.timestamp, event.complaint.feedback_id
    if kind == "Delivery":
        delivery = event.delivery or _Delivery()
        reason = _with("Entregue ao servidor de e-mail do destinatário", _clip(delivery.smtp_response))
        return (
            "delivered",
            _lower(delivery.recipients) or destination,
            False,
            reason,
            delivery.timestamp,
            None,
        )
    if kind == "Send":
        return "sent", destination, False, "Aceita pelo SES para envio", None, None
    if kind == "Reject":
        why = (event.reject.reason if event.reject else None) or ""
        reason = _with("O SES recusou a mensagem e não a enviou", _REJECT_REASONS.get(why, _clip(why)))
        return "rejected", destination, False, reason, None, None
    if kind == "DeliveryDelay":
        delay = event.delivery_delay or _DeliveryDelay()
        recipients = _lower([r.email_address for r in delay.delayed_recipients]) or destination
        diagnostic = _clip(
            next((r.diagnostic_code for r in delay.delayed_recipients if r.diagnostic_code), None)
        )
        what = _DELAY_TYPES.get(delay.delay_type or "", "motivo não identificado")
        lead = f"Entrega atrasada ({what}); o SES continua tentando"
        return "delayed", recipients, False, _with(lead, diagnostic), delay.timestamp, None
    return "other", destination, False, f"Evento do SES: {_clip(kind, 60)}", None, None


# --- the entry point --------------------------------------------------------------------------------
def _message_of(record: Any) -> str:
    if not isinstance(record, dict):
        raise MalformedMailEvent("o registro SNS não é um objeto.")
    sns = record.get("Sns", record)  # a Lambda record, or the SNS message itself
    if not isinstance(sns, dict) or "Message" not in sns:
        raise MalformedMailEvent("o registro não tem Sns.Message.")
    message = sns["Message"]
    if not isinstance(message, str):
        raise MalformedMailEvent("Sns.Message não é um texto.")
    if len(message) > MESSAGE_MAX:
        raise MalformedMailEvent("Sns.Message grande demais.")
    return message


def parse_sns_record(record: dict[str, Any]) -> MailEvent:
    """The MailEvent in one SNS record (``event["Records"][i]``); MalformedMailEvent when the record
    is not an SES event we can read."""
    return parse_ses_message(_message_of(record))


def parse_ses_message(message: str) -> MailEvent:
    """The MailEvent in SES's JSON (SNS's ``Message``, or an SQS body under raw message delivery)."""
    if len(message) > MESSAGE_MAX:
        raise MalformedMailEvent("Sns.Message grande demais.")
    try:
        body = json.loads(message)
    except ValueError as exc:
        raise MalformedMailEvent("Sns.Message não é JSON.") from exc
    if not isinstance(body, dict):
        raise MalformedMailEvent("Sns.Message não é um objeto JSON.")
    if "eventType" not in body and "notificationType" not in body:
        raise MalformedMailEvent("sem eventType nem notificationType.")
    try:
        event = _SesEvent.model_validate(body)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise MalformedMailEvent(f"campos inválidos: {', '.join(fields)[:200]}.") from None
    kind, recipients, suppress, reason, at, feedback_id = _classify(event)
    return MailEvent(
        kind=kind,
        message_id=event.mail.message_id,
        tags={name: values[0] for name, values in event.mail.tags.items() if values},
        recipients=recipients,
        suppress=suppress,
        reason=reason,
        occurred_at=at or event.mail.timestamp,
        feedback_id=feedback_id,
    )
