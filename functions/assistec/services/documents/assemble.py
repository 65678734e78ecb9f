"""From the shop's rows to the documents it prints: every moment in the shop's time zone, CNPJ, CPF and
phones as people write them, and money exactly as the rows hold it (centavos)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from assistec.db.rows import CustomerRow, DeviceRow, DocumentSettingsRow, OrderRow, QuoteRow, TenantRow
from assistec.domain import documents as ids
from assistec.domain import phones
from assistec.domain import quotes as quote_rules
from assistec.domain import shop_documents as rules
from assistec.domain.shop_documents import DocumentKind
from assistec.services.documents.model import (
    DeliveryDocument,
    DeviceInfo,
    IntakeDocument,
    Line,
    Party,
    QuoteDocument,
    ShopHeader,
)

Document = IntakeDocument | QuoteDocument | DeliveryDocument

# What the delivery receipt calls money received beyond the approved quote (a charge of another
# amount: a diagnosis fee, an extra part agreed at the counter): printed, so the sums still add up.
EXTRA_RECEIVED = "Outros valores recebidos"


@dataclass(frozen=True, slots=True)
class Facts:
    """What one document of one order is made of, read in one transaction of the shop."""

    kind: DocumentKind
    tenant: TenantRow
    settings: DocumentSettingsRow
    order: OrderRow
    customer: CustomerRow
    device: DeviceRow
    # kind quote: the quote printed; kind delivery: the approved quote (its lines are the services)
    quote: QuoteRow | None = None


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%d/%m/%Y às %H:%M}"


def shop_header(tenant: TenantRow, settings: DocumentSettingsRow, logo: bytes | None) -> ShopHeader:
    return ShopHeader(
        name=tenant.name,
        document=ids.formatted(tenant.cnpj),
        phone=phones.readable(tenant.phone),
        email=tenant.email,
        address=settings.address,
        logo=logo,
        terms=settings.intake_terms,
    )


def party(customer: CustomerRow) -> Party:
    return Party(
        name=customer.name,
        phone=phones.readable(customer.phone),
        document=ids.formatted(customer.document) if customer.document else None,
        email=customer.email,
    )


def device_info(device: DeviceRow) -> DeviceInfo:
    serial = " / ".join(dict.fromkeys(part for part in (device.imei, device.serial) if part))
    return DeviceInfo(
        kind=rules.DEVICE_KINDS_PT.get(device.type, device.type),
        brand=device.brand,
        model=device.model,
        serial=serial or None,
        condition=device.condition,
        accessories=tuple(device.accessories),
        password_given=device.unlock_code is not None,
    )


def quote_lines(quote: QuoteRow) -> tuple[Line, ...]:
    return tuple(
        Line(
            description=str(line["description"]),
            quantity=int(line["quantity"]),
            unit_cents=int(line["unit_price_cents"]),
        )
        for line in quote.lines
    )


def document(facts: Facts, *, logo: bytes | None, link_base: str, now: datetime) -> Document:
    """The document ``facts.kind`` of the order. ``link_base``: the API's public base URL, for the
    tracking and approval links printed on it ("" prints none)."""
    zone = ZoneInfo(facts.settings.timezone)
    order = facts.order
    shop = shop_header(facts.tenant, facts.settings, logo)
    customer, device = party(facts.customer), device_info(facts.device)
    number = rules.order_number(order.number)
    match facts.kind:
        case "intake":
            notes = f"Previsão de entrega: {_when(order.promised_at, zone)}." if order.promised_at else None
            return IntakeDocument(
                shop=shop,
                customer=customer,
                device=device,
                order_number=number,
                opened_at=order.created_at.astimezone(zone),
                problem=order.reported_problem,
                notes=notes,
                tracking_url=f"{link_base}/public/orders/{order.tracking_token}" if link_base else None,
            )
        case "quote":
            quote = facts.quote
            assert quote is not None
            pending = quote.status == "pending" and now < quote.public_expires_at
            return QuoteDocument(
                shop=shop,
                customer=customer,
                device=device,
                order_number=number,
                quote_number=quote.version,
                issued_at=quote.created_at.astimezone(zone),
                valid_until=quote.valid_until,
                lines=quote_lines(quote),
                discount_cents=quote.discount_cents,
                total_cents=quote.total_cents,
                notes=_quote_notes(quote, zone, now),
                approval_url=f"{link_base}/public/quotes/{quote.public_token}"
                if link_base and pending
                else None,
            )
        case "delivery":
            assert order.delivered_at is not None
            delivered_at = order.delivered_at.astimezone(zone)
            services = quote_lines(facts.quote) if facts.quote else ()
            total = facts.quote.total_cents if facts.quote else 0
            if order.paid_cents > total:
                services += (Line(EXTRA_RECEIVED, 1, order.paid_cents - total),)
                total = order.paid_cents
            return DeliveryDocument(
                shop=shop,
                customer=customer,
                device=device,
                order_number=number,
                delivered_at=delivered_at,
                services=services,
                total_cents=total,
                paid_cents=order.paid_cents,
                warranty_days=rules.warranty_days(delivered_at.date(), order.warranty_until),
                warranty_terms=facts.settings.warranty_terms,
            )


def _quote_notes(quote: QuoteRow, zone: ZoneInfo, now: datetime) -> str:
    notes = [f"Prazo: {quote_rules.working_days(quote.deadline_days)} após a aprovação."]
    if quote.discount_cents and quote.discount_rule:
        notes.append(f"Desconto aplicado: {quote.discount_rule}.")
    if quote.status in ("approved", "rejected") and quote.decided_at is not None:
        verb = "Aprovado" if quote.status == "approved" else "Recusado"
        notes.append(f"{verb} por {quote.decided_name or 'cliente'} em {_when(quote.decided_at, zone)}.")
    elif quote.status == "superseded":
        notes.append("Substituído por uma versão mais nova deste orçamento.")
    elif quote.status == "pending" and now >= quote.public_expires_at:
        notes.append(f"Vencido em {quote.valid_until:%d/%m/%Y}.")
    return " ".join(notes)
