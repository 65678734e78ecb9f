"""Quotes (orçamentos): priced from the shop's rules and stock, versioned, sent as the shop's text,
and decided by the customer on a signed public link, or at the counter with staff recording it.

No work before explicit approval: only a decision on a pending, unexpired quote moves the order
from quote_sent to approved (reserving its parts) or rejected.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from assistec.db import orders as orders_db
from assistec.db import quotes as quotes_db
from assistec.db import repositories as repo
from assistec.db import stock as stock_db
from assistec.db.connection import Database
from assistec.db.rows import OrderRow, QuoteRow
from assistec.domain import orders as machine
from assistec.domain import quotes as text
from assistec.domain.orders import Status
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import AppError, ConflictError, NotFoundError, ValidationFailedError
from assistec.integrations.events import OutboxRelay
from assistec.services import audit, stock
from assistec.services.access import require
from assistec.services.audit import Actor, PublicActor
from assistec.services.orders import _pairs, apply_transition, tracking_token_tenant

_QUOTABLE = {Status.DIAGNOSING, Status.QUOTE_SENT, Status.REJECTED}


class QuoteGoneError(AppError):
    """The link can no longer be used: expired, or replaced by a newer version."""

    status = 410
    code = "quote_link_gone"
    message = "Este link de orçamento não está mais disponível."


class QuoteDecidedError(ConflictError):
    code = "quote_already_decided"


@dataclass(frozen=True, slots=True)
class PublicQuote:
    quote: QuoteRow
    order: OrderRow
    shop_name: str
    logo_url: str | None
    customer_name: str
    device: str
    timezone: str
    latest_version: int


@dataclass(frozen=True, slots=True)
class PublicOrder:
    order: OrderRow
    shop_name: str
    logo_url: str | None
    timezone: str
    steps: list[tuple[str, datetime]]


def _public_tenant(token: str) -> UUID:
    tenant = tracking_token_tenant(token)
    if tenant is None:
        raise NotFoundError("Link não encontrado. Confira se ele foi copiado por inteiro.")
    return tenant


class QuotesService:
    def __init__(self, db: Database, relay: OutboxRelay) -> None:
        self._db = db
        self._relay = relay

    # --- staff ---------------------------------------------------------------------------------
    def create(
        self,
        identity: Identity,
        order_id: UUID,
        *,
        lines: list[dict[str, Any]],
        deadline_days: int,
        link_base: str = "",
        correlation_id: str | None = None,
    ) -> QuoteRow:
        require(identity, Permission.ORDERS_WRITE)
        events: list[UUID] = []
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            order = orders_db.get(conn, order_id, lock=True)
            if order is None:
                raise NotFoundError("Ordem de serviço não encontrada.")
            if Status(order.status) not in _QUOTABLE:
                raise ConflictError(
                    f"Não é possível orçar uma OS com status {machine.LABELS_PT[Status(order.status)]}.",
                    details={"status": order.status, "quotable": sorted(s.value for s in _QUOTABLE)},
                )
            device = repo.get_device(conn, order.device_id)
            customer = repo.get_customer(conn, order.customer_id)
            assert device is not None
            assert customer is not None
            priced = [self._price(conn, line, device) for line in lines]
            subtotal = sum(line.total_cents for line in priced)
            rule = quotes_db.best_discount(conn, customer_since=customer.created_at)
            discount = text.discount_cents(subtotal, rule.percent) if rule else 0
            template = quotes_db.get_template(conn)
            shop_name, _, tz = quotes_db.shop_face(conn)
            validity = template.validity_days if template else 7
            valid_until = orders_db.local_today(conn) + timedelta(days=validity)
            expires_at = datetime.combine(valid_until + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz))
            token = f"{identity.tenant_id}.{secrets.token_urlsafe(32)}"
            rendered = text.render(
                template.body if template else text.DEFAULT_TEMPLATE,
                {
                    "VALOR": text.brl(subtotal - discount),
                    "CLIENTE": customer.name,
                    "APARELHO": f"{device.brand} {device.model}",
                    "PRAZO": text.working_days(deadline_days),
                    "VALIDADE": f"{valid_until:%d/%m/%Y}",
                    "LOJA": shop_name,
                    "OS": str(order.number),
                    "ITENS": text.items_text(priced)
                    + (f"\n- Desconto ({rule.name}): -{text.brl(discount)}" if rule and discount else ""),
                    "LINK": f"{link_base}/public/quotes/{token}",
                },
            )
            superseded = quotes_db.supersede_pending(conn, order_id)
            quote = quotes_db.insert_quote(
                conn,
                tenant_id=identity.tenant_id,
                order_id=order_id,
                version=quotes_db.next_version(conn, order_id),
                lines=[line.as_dict() for line in priced],
                subtotal_cents=subtotal,
                discount_cents=discount,
                discount_rule=rule.name if rule and discount else None,
                deadline_days=deadline_days,
                valid_until=valid_until,
                rendered_text=rendered,
                public_token=token,
                public_expires_at=expires_at,
                created_by=identity.user_id,
            )
            audit.record(
                conn,
                identity,
                action="create",
                entity="quote",
                entity_id=str(quote.id),
                changes={
                    "order_id": str(order_id),
                    "version": quote.version,
                    "total_cents": quote.total_cents,
                    "superseded": superseded,
                },
                correlation_id=correlation_id,
            )
            if order.status != Status.QUOTE_SENT:
                workflow = orders_db.get_workflow(conn)
                allowed = machine.allowed_from(Status(order.status), _pairs(workflow))
                if Status.QUOTE_SENT not in allowed:
                    raise ConflictError(
                        "O fluxo da loja não permite enviar orçamento a partir deste status.",
                        details={
                            "from": order.status,
                            "to": "quote_sent",
                            "allowed": [s.value for s in allowed],
                        },
                    )
                _, event = apply_transition(
                    conn,
                    identity,
                    order,
                    Status.QUOTE_SENT,
                    workflow=workflow,
                    reason=f"Orçamento v{quote.version}: {text.brl(quote.total_cents)}",
                    correlation_id=correlation_id,
                    extra_detail={"quote_id": str(quote.id), "quote_version": quote.version},
                )
                events.append(event)
        self._relay.flush_quietly(events)
        return quote

    def _price(self, conn: repo.Conn, line: dict[str, Any], device: Any) -> text.Line:
        kind = line["kind"]
        if kind == "part":
            part = stock_db.get_part(conn, line["part_id"])
            if part is None:
                raise _line_error("Peça não encontrada no estoque.", "part_id")
            return text.Line(
                kind="part",
                description=part.name,
                quantity=line["quantity"],
                unit_price_cents=part.price_cents,
                part_id=str(part.id),
            )
        if kind == "service":
            rule = quotes_db.price_for(
                conn, service=line["service"], device_type=device.type, brand=device.brand, model=device.model
            )
            if rule is None:
                raise _line_error(
                    f'Sem preço cadastrado para "{line["service"]}" em {device.type} {device.brand} '
                    f"{device.model}. Cadastre em /price-rules ou lance como mão de obra.",
                    "service",
                )
            return text.Line(
                kind="service",
                description=rule.service,
                quantity=line["quantity"],
                unit_price_cents=rule.price_cents,
            )
        return text.Line(
            kind="labour",
            description=line["description"],
            quantity=line["quantity"],
            unit_price_cents=line["price_cents"],
        )

    def list(self, identity: Identity, order_id: UUID) -> list[QuoteRow]:
        require(identity, Permission.ORDERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            if orders_db.get(conn, order_id) is None:
                raise NotFoundError("Ordem de serviço não encontrada.")
            return quotes_db.quotes_of(conn, order_id)

    def get(self, identity: Identity, quote_id: UUID) -> QuoteRow:
        require(identity, Permission.ORDERS_READ)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            quote = quotes_db.get_quote(conn, quote_id)
        if quote is None:
            raise NotFoundError("Orçamento não encontrado.")
        return quote

    def decide_at_counter(
        self,
        identity: Identity,
        quote_id: UUID,
        *,
        approve: bool,
        name: str,
        correlation_id: str | None = None,
    ) -> QuoteRow:
        """Staff record the customer's decision given in person or by phone (typed name kept)."""
        require(identity, Permission.ORDERS_WRITE)
        with self._db.tenant_tx(identity.tenant_id, user_id=identity.user_id) as conn:
            quote = quotes_db.get_quote(conn, quote_id, lock=True)
            if quote is None:
                raise NotFoundError("Orçamento não encontrado.")
            quote, event = self._decide(
                conn,
                identity,
                quote,
                approve=approve,
                name=name,
                ip=None,
                user_agent=None,
                via="staff",
                label=None,
                correlation_id=correlation_id,
            )
        self._relay.flush_quietly([event])
        return quote

    # --- public link ---------------------------------------------------------------------------
    def public_view(self, token: str) -> PublicQuote:
        tenant = _public_tenant(token)
        with self._db.tenant_tx(tenant) as conn:
            quote = quotes_db.quote_by_token(conn, token)
            if quote is None:
                raise NotFoundError("Orçamento não encontrado. Confira se o link foi copiado por inteiro.")
            return self._public(conn, quote)

    def _public(self, conn: repo.Conn, quote: QuoteRow) -> PublicQuote:
        order = orders_db.get(conn, quote.order_id)
        assert order is not None
        device = repo.get_device(conn, order.device_id)
        customer = repo.get_customer(conn, order.customer_id)
        assert device is not None
        assert customer is not None
        shop_name, logo, tz = quotes_db.shop_face(conn)
        latest = quotes_db.next_version(conn, order.id) - 1
        return PublicQuote(
            quote=quote,
            order=order,
            shop_name=shop_name,
            logo_url=logo,
            customer_name=customer.name,
            device=f"{device.brand} {device.model}",
            timezone=tz,
            latest_version=latest,
        )

    def decide_on_link(
        self, token: str, *, approve: bool, name: str, ip: str | None, user_agent: str | None
    ) -> PublicQuote:
        tenant = _public_tenant(token)
        with self._db.tenant_tx(tenant) as conn:
            quote = quotes_db.quote_by_token(conn, token, lock=True)
            if quote is None:
                raise NotFoundError("Orçamento não encontrado. Confira se o link foi copiado por inteiro.")
            actor = PublicActor(tenant_id=tenant, label=f"Cliente: {name} (link)")
            quote, event = self._decide(
                conn,
                actor,
                quote,
                approve=approve,
                name=name,
                ip=ip,
                user_agent=(user_agent or "")[:500] or None,
                via="link",
                label=actor.label,
                correlation_id=None,
            )
            view = self._public(conn, quote)
        self._relay.flush_quietly([event])
        return view

    def public_order(self, token: str) -> PublicOrder:
        tenant = _public_tenant(token)
        with self._db.tenant_tx(tenant) as conn:
            order = orders_db.by_tracking_token(conn, token)
            if order is None:
                raise NotFoundError(
                    "Ordem de serviço não encontrada. Confira se o link foi copiado por inteiro."
                )
            shop_name, logo, tz = quotes_db.shop_face(conn)
            steps = [(t.to_status, t.at) for t in orders_db.history(conn, order.id)]
        return PublicOrder(
            order=order,
            shop_name=shop_name,
            logo_url=logo,
            timezone=tz,
            steps=steps,
        )

    # --- the decision itself -------------------------------------------------------------------
    def _decide(
        self,
        conn: repo.Conn,
        actor: Actor,
        quote: QuoteRow,
        *,
        approve: bool,
        name: str,
        ip: str | None,
        user_agent: str | None,
        via: str,
        label: str | None,
        correlation_id: str | None,
    ) -> tuple[QuoteRow, UUID]:
        if quote.status in ("approved", "rejected"):
            verb = "aprovado" if quote.status == "approved" else "recusado"
            assert quote.decided_at is not None
            raise QuoteDecidedError(
                f"Este orçamento já foi {verb} por {quote.decided_name}.",
                details={"status": quote.status, "decided_at": quote.decided_at.isoformat()},
            )
        if quote.status == "superseded":
            raise QuoteGoneError(
                "Este orçamento foi substituído por uma versão mais nova. "
                "Use o link mais recente enviado pela loja.",
                details={"reason": "superseded"},
            )
        if datetime.now(quote.public_expires_at.tzinfo) >= quote.public_expires_at:
            raise QuoteGoneError(
                f"Este orçamento venceu em {quote.valid_until:%d/%m/%Y}. Peça um novo orçamento à loja.",
                details={"reason": "expired", "valid_until": quote.valid_until.isoformat()},
            )
        order = orders_db.get(conn, quote.order_id, lock=True)
        assert order is not None
        if order.status != Status.QUOTE_SENT:
            raise ConflictError(
                "Esta ordem de serviço não está aguardando decisão de orçamento.",
                details={"status": order.status},
            )
        decided = quotes_db.decide(
            conn,
            quote.id,
            status="approved" if approve else "rejected",
            name=name,
            ip=ip,
            user_agent=user_agent,
            via=via,
            by=actor.user_id,
        )
        audit.record(
            conn,
            actor,
            action="approve" if approve else "reject",
            entity="quote",
            entity_id=str(quote.id),
            changes={"name": name, "via": via, "ip": ip, "user_agent": user_agent},
            correlation_id=correlation_id,
        )
        extra: dict[str, Any] = {
            "quote_id": str(quote.id),
            "quote_version": quote.version,
            "decided_via": via,
        }
        if approve:
            needs: dict[UUID, int] = defaultdict(int)
            for line in quote.lines:
                if line["kind"] == "part" and line.get("part_id"):
                    needs[UUID(line["part_id"])] += int(line["quantity"])
            missing = stock.reserve(conn, actor, order_id=order.id, quote_id=quote.id, needs=dict(needs))
            extra["missing_parts"] = {str(k): v for k, v in missing.items()}
        _, event = apply_transition(
            conn,
            actor,
            order,
            Status.APPROVED if approve else Status.REJECTED,
            workflow=orders_db.get_workflow(conn),
            reason=f"Orçamento v{quote.version} {'aprovado' if approve else 'recusado'} por {name}",
            correlation_id=correlation_id,
            actor_label=label,
            extra_detail=extra,
        )
        return decided, event


def _line_error(message: str, field: str) -> ValidationFailedError:
    return ValidationFailedError(message, details=[{"field": f"lines.{field}", "message": message}])
