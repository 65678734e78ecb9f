"""An automatic message to a customer on WhatsApp (status messages, the quote flow, the payment flow):
queued on the shop's number when it can go, with the reason when it cannot.

It can go when the shop's number is open, the customer has a phone, and that person did not opt out
("PARAR"). The message is written in the caller's transaction (``queued``); the caller hands its id
to the send queue after the commit."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from assistec.db import customers as customers_db
from assistec.db import tenants as tenants_db
from assistec.db import whatsapp as wa_db
from assistec.domain import whatsapp as wa
from assistec.services.unit_of_work import UnitOfWork


def shop_name(uow: UnitOfWork, default: str = "") -> str:
    """The shop's name, as its messages sign them."""
    tenant = tenants_db.get_tenant(uow.conn, uow.tenant_id)
    return tenant.name if tenant else default


@dataclass(frozen=True, slots=True)
class Queued:
    message_id: UUID | None  # None: not queued, see ``reason``
    reason: str  # "queued", or why not: no_number, no_phone, opted_out


def to_customer(uow: UnitOfWork, customer_id: UUID, text: str) -> Queued:
    """Queue ``text`` to the customer's WhatsApp (their conversation, made if new)."""
    instance = wa_db.get_instance(uow.conn)
    if instance is None or instance.state != "open":
        return Queued(None, "no_number")
    customer = customers_db.get_customer(uow.conn, customer_id)
    phone = wa.normalize_phone(customer.phone) if customer else None
    if phone is None:
        return Queued(None, "no_phone")
    conversation = wa_db.find_conversation(uow.conn, sorted(wa.phone_variants(phone)), None)
    if conversation is not None and conversation.opted_out_at is not None:
        return Queued(None, "opted_out")
    if conversation is None:
        conversation = wa_db.insert_conversation(
            uow.conn, tenant_id=uow.tenant_id, phone=phone, lid=None, customer_id=customer_id, push_name=None
        )
    message = wa_db.insert_message(
        uow.conn,
        tenant_id=uow.tenant_id,
        conversation_id=conversation.id,
        direction="out",
        author="bot",
        kind="text",
        body=text,
        status="queued",
    )
    assert message is not None
    return Queued(message.id, "queued")
