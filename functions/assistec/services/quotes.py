"""Quotes (orçamentos): priced from the shop's rules and stock, versioned, sent as the shop's text,
and decided by the customer on a signed public link, or at the counter with staff recording it.

No work before explicit approval: only a decision on a pending, unexpired quote moves the order
from quote_sent to approved (reserving its parts) or rejected (``quote_decisions``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from assistec.db import customers as customers_db
from assistec.db import devices as devices_db
from assistec.db import orders as orders_db
from assistec.db import quotes as quotes_db
from assistec.db import sql
from assistec.db import stock as stock_db
from assistec.db.rows import DeviceRow, OrderRow, QuoteRow
from assistec.domain import orders as machine
from assistec.domain import public_links
from assistec.domain import quotes as quote_rules
from assistec.domain.orders import Status
from assistec.domain.permissions import Permission
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, NotFoundError, ValidationFailedError, found
from assistec.observability import logger
from assistec.services import quote_decisions, quote_flow
from assistec.services.audit import PublicActor
from assistec.services.orders import apply_transition
from assistec.services.pricing import shop_template
from assistec.services.unit_of_work import UnitsOfWork

_QUOTABLE = {Status.DIAGNOSING, Status.QUOTE_SENT, Status.REJECTED}
_ORDER_NOT_FOUND = "Ordem de serviço não encontrada."
_QUOTE_NOT_FOUND = "Orçamento não encontrado."
_NOT_ON_LINK = "Confira se o link foi copiado por inteiro."


@dataclass(frozen=True, slots=True)
class PublicQuote:
    """What the customer sees on a quote's public link."""

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
    """What the customer sees on an order's tracking link: status and dates only."""

    order: OrderRow
    shop_name: str
    logo_url: str | None
    timezone: str
    steps: list[tuple[str, datetime]]


class QuotesService:
    """Quotes of a shop's orders and the customers' public links.

    Staff use cases need ``ORDERS_READ`` / ``ORDERS_WRITE``; the public ones need the link's
    token, which names the shop. Each change is one transaction with its audit entry and the
    order's ``OrderStatusChanged`` event, published after commit.
    """

    def __init__(
        self,
        work: UnitsOfWork,
        *,
        link_read_days: int = public_links.DEFAULT_READ_DAYS,
        resume: quote_flow.Resume | None = None,
        auto_send: Callable[[Identity, UUID], None] | None = None,
    ) -> None:
        self._work = work
        # How long a decided or expired quote's link, or a cancelled order's, can still be read.
        self._read_days = link_read_days
        # Hands a waiting quote flow its decision (Step Functions' task token), after the commit.
        self._resume = resume
        # Sends a new quote through the quote flow when the shop wants it (after the commit).
        self._auto_send = auto_send

    # --- staff ---------------------------------------------------------------------------------
    def create(
        self,
        identity: Identity,
        order_id: UUID,
        *,
        lines: list[dict[str, Any]],
        deadline_days: int,
        link_base: str = "",
    ) -> QuoteRow:
        """Quote an order in diagnosis (or re-quote a quoted or rejected one), 409 otherwise.

        Lines are priced from the shop's stock and price rules (422 when a service has no price),
        the best discount the customer qualifies for applies, and the shop's message is rendered
        with the public link. The new version supersedes the pending one, and the order moves to
        quote_sent (409 when the shop's workflow does not allow it).
        """
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            conn = uow.conn
            order = found(orders_db.get(conn, order_id, lock=True), _ORDER_NOT_FOUND)
            if Status(order.status) not in _QUOTABLE:
                raise ConflictError(
                    f"Não é possível orçar uma OS com status {machine.LABELS_PT[Status(order.status)]}.",
                    details={"status": order.status, "quotable": sorted(s.value for s in _QUOTABLE)},
                )
            device = devices_db.get_device(conn, order.device_id)
            customer = customers_db.get_customer(conn, order.customer_id)
            assert device is not None
            assert customer is not None
            priced = [_price(conn, line, device) for line in lines]
            subtotal = sum(line.total_cents for line in priced)
            discount_rule = quotes_db.best_discount(conn, customer_since=customer.created_at)
            discount = quote_rules.discount_cents(subtotal, discount_rule.percent) if discount_rule else 0
            template = shop_template(conn)
            shop_name, _, tz = quotes_db.shop_face(conn)
            valid_until = orders_db.local_today(conn) + timedelta(days=template.validity_days)
            expires_at = datetime.combine(valid_until + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz))
            token = public_links.new_token(uow.tenant_id)
            discount_line = (
                f"\n- Desconto ({discount_rule.name}): -{quote_rules.brl(discount)}"
                if discount_rule and discount
                else ""
            )
            rendered = quote_rules.render(
                template.body,
                {
                    "VALOR": quote_rules.brl(subtotal - discount),
                    "CLIENTE": customer.name,
                    "APARELHO": f"{device.brand} {device.model}",
                    "PRAZO": quote_rules.working_days(deadline_days),
                    "VALIDADE": f"{valid_until:%d/%m/%Y}",
                    "LOJA": shop_name,
                    "OS": str(order.number),
                    "ITENS": quote_rules.items_text(priced) + discount_line,
                    "LINK": f"{link_base}/public/quotes/{token}",
                },
            )
            ended = quote_flow.pending_tokens(uow, order_id)  # their flows end: superseded
            superseded = quotes_db.supersede_pending(conn, order_id)
            quote = quotes_db.insert_quote(
                conn,
                tenant_id=uow.tenant_id,
                order_id=order_id,
                version=quotes_db.next_version(conn, order_id),
                lines=[line.as_dict() for line in priced],
                subtotal_cents=subtotal,
                discount_cents=discount,
                discount_rule=discount_rule.name if discount_rule and discount else None,
                deadline_days=deadline_days,
                valid_until=valid_until,
                rendered_text=rendered,
                public_token=token,
                public_expires_at=expires_at,
                created_by=identity.user_id,
            )
            uow.audit(
                "create",
                "quote",
                quote.id,
                changes={
                    "order_id": str(order_id),
                    "version": quote.version,
                    "total_cents": quote.total_cents,
                    "superseded": superseded,
                },
            )
            if order.status != Status.QUOTE_SENT:
                workflow = orders_db.get_workflow(conn)
                allowed = machine.allowed_from(Status(order.status), workflow.disabled_transitions)
                if Status.QUOTE_SENT not in allowed:
                    raise ConflictError(
                        "O fluxo da loja não permite enviar orçamento a partir deste status.",
                        details={
                            "from": order.status,
                            "to": "quote_sent",
                            "allowed": [s.value for s in allowed],
                        },
                    )
                apply_transition(
                    uow,
                    order,
                    Status.QUOTE_SENT,
                    workflow=workflow,
                    reason=f"Orçamento v{quote.version}: {quote_rules.brl(quote.total_cents)}",
                    extra_detail={"quote_id": str(quote.id), "quote_version": quote.version},
                )
        quote_flow.hand_back(self._resume, ended, {"decision": "superseded"})
        if self._auto_send is not None:
            try:
                self._auto_send(identity, quote.id)
            except Exception:  # the quote stands; staff can send it (POST /quotes/{id}/send)
                logger.exception("could not send a new quote by itself")
        return quote

    def list(self, identity: Identity, order_id: UUID) -> list[QuoteRow]:
        """Every version of the order's quote, newest first (404 when the order is not the shop's)."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            if orders_db.get(uow.conn, order_id) is None:
                raise NotFoundError(_ORDER_NOT_FOUND)
            return quotes_db.quotes_of(uow.conn, order_id)

    def get(self, identity: Identity, quote_id: UUID) -> QuoteRow:
        """The quote (404 when it is not the shop's)."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            return found(quotes_db.get_quote(uow.conn, quote_id), _QUOTE_NOT_FOUND)

    def decide_at_counter(self, identity: Identity, quote_id: UUID, *, approve: bool, name: str) -> QuoteRow:
        """Staff record the customer's decision given in person or by phone (typed name kept),
        with the same rules as the link (``quote_decisions.decide``)."""
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            quote = found(quotes_db.get_quote(uow.conn, quote_id, lock=True), _QUOTE_NOT_FOUND)
            decided = quote_decisions.decide(uow, quote, approve=approve, name=name, via="staff")
            token = quote_flow.take_token(uow, quote_id)
        quote_flow.hand_back(
            self._resume, [token] if token else [], {"decision": "approve" if approve else "reject"}
        )
        return decided

    # --- public links --------------------------------------------------------------------------
    def public_view(self, token: str) -> PublicQuote:
        """The quote behind a public link, as its customer sees it (404 for an unknown link)."""
        with self._work(link_visitor(token)) as uow:
            quote = readable_quote(uow.conn, token, read_days=self._read_days)
            return _public_quote(uow.conn, quote)

    def decide_on_link(
        self, token: str, *, approve: bool, name: str, ip: str | None, user_agent: str | None
    ) -> PublicQuote:
        """The customer approves or rejects on the link (``quote_decisions.decide``); the name they
        typed, their IP and browser are kept as the record of the decision."""
        actor = PublicActor(tenant_id=_link_tenant(token), label=f"Cliente: {name} (link)")
        with self._work(actor) as uow:
            quote = found(
                quotes_db.quote_by_token(uow.conn, token, lock=True), f"{_QUOTE_NOT_FOUND} {_NOT_ON_LINK}"
            )
            quote_decisions.refuse_unreadable_quote(quote, read_days=self._read_days)
            decided = quote_decisions.decide(
                uow,
                quote,
                approve=approve,
                name=name,
                via="link",
                ip=ip,
                user_agent=(user_agent or "")[:500] or None,
                label=actor.label,
            )
            waiting = quote_flow.take_token(uow, quote.id)
            public = _public_quote(uow.conn, decided)
        quote_flow.hand_back(
            self._resume, [waiting] if waiting else [], {"decision": "approve" if approve else "reject"}
        )
        return public

    def public_order(self, token: str) -> PublicOrder:
        """The order behind a tracking link: its status and the dates it changed, nothing else."""
        with self._work(link_visitor(token)) as uow:
            return readable_order(uow.conn, token, read_days=self._read_days)


# --- the public links' lookups (their pages, and the documents they offer) --------------------------
def _link_tenant(token: str) -> UUID:
    tenant = found(
        public_links.token_tenant(token), "Link não encontrado. Confira se ele foi copiado por inteiro."
    )
    return tenant


def link_visitor(token: str) -> PublicActor:
    """Whoever opens a public link (only reads: nobody to name); 404 for a token cut short."""
    return PublicActor(tenant_id=_link_tenant(token), label="Cliente (link)")


def readable_quote(conn: sql.Conn, token: str, *, read_days: int) -> QuoteRow:
    """The quote behind a public link while its customer may read it: 404 for an unknown link, 410
    once its reading time has passed (``quote_decisions.refuse_unreadable_quote``)."""
    quote = found(quotes_db.quote_by_token(conn, token), f"{_QUOTE_NOT_FOUND} {_NOT_ON_LINK}")
    quote_decisions.refuse_unreadable_quote(quote, read_days=read_days)
    return quote


def readable_order(conn: sql.Conn, token: str, *, read_days: int) -> PublicOrder:
    """The order behind a tracking link, its status and the dates it changed, while its customer may
    read it: 404 for an unknown link, 410 after the warranty (``refuse_unreadable_order``)."""
    order = found(orders_db.by_tracking_token(conn, token), f"{_ORDER_NOT_FOUND} {_NOT_ON_LINK}")
    shop_name, logo, tz = quotes_db.shop_face(conn)
    steps = [(t.to_status, t.at) for t in orders_db.history(conn, order.id)]
    quote_decisions.refuse_unreadable_order(
        order, closed_at=steps[-1][1] if steps else None, timezone=tz, read_days=read_days
    )
    return PublicOrder(order=order, shop_name=shop_name, logo_url=logo, timezone=tz, steps=steps)


def _public_quote(conn: sql.Conn, quote: QuoteRow) -> PublicQuote:
    order = orders_db.get(conn, quote.order_id)
    assert order is not None
    device = devices_db.get_device(conn, order.device_id)
    customer = customers_db.get_customer(conn, order.customer_id)
    assert device is not None
    assert customer is not None
    shop_name, logo, tz = quotes_db.shop_face(conn)
    return PublicQuote(
        quote=quote,
        order=order,
        shop_name=shop_name,
        logo_url=logo,
        customer_name=customer.name,
        device=f"{device.brand} {device.model}",
        timezone=tz,
        latest_version=quotes_db.next_version(conn, order.id) - 1,
    )


def _price(conn: sql.Conn, line: dict[str, Any], device: DeviceRow) -> quote_rules.Line:
    """A quote line priced from the stock part, the shop's service price, or as typed (labour)."""
    kind = line["kind"]
    if kind == "part":
        part = stock_db.get_part(conn, line["part_id"])
        if part is None:
            raise _line_error("Peça não encontrada no estoque.", "part_id")
        return quote_rules.Line(
            kind="part",
            description=part.name,
            quantity=line["quantity"],
            unit_price_cents=part.price_cents,
            part_id=str(part.id),
        )
    if kind == "service":
        price = quotes_db.price_for(
            conn, service=line["service"], device_type=device.type, brand=device.brand, model=device.model
        )
        if price is None:
            raise _line_error(
                f'Sem preço cadastrado para "{line["service"]}" em {device.type} {device.brand} '
                f"{device.model}. Cadastre em /price-rules ou lance como mão de obra.",
                "service",
            )
        return quote_rules.Line(
            kind="service",
            description=price.service,
            quantity=line["quantity"],
            unit_price_cents=price.price_cents,
        )
    return quote_rules.Line(
        kind="labour",
        description=line["description"],
        quantity=line["quantity"],
        unit_price_cents=line["price_cents"],
    )


def _line_error(message: str, field: str) -> ValidationFailedError:
    return ValidationFailedError(message, details=[{"field": f"lines.{field}", "message": message}])
