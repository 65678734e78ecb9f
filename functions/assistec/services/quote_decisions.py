"""The customer's decision on a quote: on the public link, or recorded by staff at the counter.

No work before explicit approval: only a decision on a pending, unexpired quote moves the order
from quote_sent to approved (reserving its parts) or rejected. A decided quote stays decided (409
``quote_already_decided``); an expired or replaced one is gone (410 ``quote_link_gone``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from assistec.db import orders as orders_db
from assistec.db import quotes as quotes_db
from assistec.db.rows import OrderRow, QuoteRow
from assistec.domain import public_links
from assistec.domain.orders import Status
from assistec.errors import AppError, ConflictError
from assistec.services import stock
from assistec.services.orders import apply_transition
from assistec.services.unit_of_work import UnitOfWork


class QuoteGoneError(AppError):
    """The link can no longer be used: expired, or replaced by a newer version."""

    status = 410
    code = "quote_link_gone"
    message = "Este link de orçamento não está mais disponível."


class QuoteDecidedError(ConflictError):
    """The quote was already approved or rejected."""

    code = "quote_already_decided"


def decide(
    uow: UnitOfWork,
    quote: QuoteRow,
    *,
    approve: bool,
    name: str,
    via: str,
    ip: str | None = None,
    user_agent: str | None = None,
    label: str | None = None,
) -> QuoteRow:
    """Record the decision on a locked quote and move its order to approved or rejected.

    ``name`` is who decided (typed by the customer or by staff), ``via`` where (link or staff),
    ``label`` how the order's history names a customer acting on the link. Approving reserves the
    quote's parts; what the shelf lacks goes out in the event as ``missing_parts``.
    """
    refuse_closed(quote)
    order = orders_db.get(uow.conn, quote.order_id, lock=True)
    assert order is not None
    if order.status != Status.QUOTE_SENT:
        raise ConflictError(
            "Esta ordem de serviço não está aguardando decisão de orçamento.",
            details={"status": order.status},
        )
    decided = quotes_db.decide(
        uow.conn,
        quote.id,
        status="approved" if approve else "rejected",
        name=name,
        ip=ip,
        user_agent=user_agent,
        via=via,
        by=uow.user_id,
    )
    uow.audit(
        "approve" if approve else "reject",
        "quote",
        quote.id,
        changes={"name": name, "via": via, "ip": ip, "user_agent": user_agent},
    )
    extra: dict[str, Any] = {"quote_id": str(quote.id), "quote_version": quote.version, "decided_via": via}
    if approve:
        missing = stock.reserve(uow, order_id=order.id, quote_id=quote.id, needs=_parts_needed(quote))
        extra["missing_parts"] = {str(k): v for k, v in missing.items()}
    apply_transition(
        uow,
        order,
        Status.APPROVED if approve else Status.REJECTED,
        workflow=orders_db.get_workflow(uow.conn),
        reason=f"Orçamento v{quote.version} {'aprovado' if approve else 'recusado'} por {name}",
        actor_label=label,
        extra_detail=extra,
    )
    return decided


def refuse_closed(quote: QuoteRow) -> None:
    """409 when the quote was decided, 410 when it was superseded or expired."""
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


class LinkExpiredError(QuoteGoneError):
    """The link was readable for a while after its quote closed or its order was delivered (the
    warranty) or cancelled, and that while has passed: the same 410 page as an expired quote's."""

    code = "link_expired"
    message = "Este link expirou. Fale com a loja se precisar das informações."


def refuse_unreadable_quote(quote: QuoteRow, *, read_days: int, now: datetime | None = None) -> None:
    """410 ``link_expired`` once a decided or expired quote's reading time has passed
    (``public_links.quote_readable_until``)."""
    until = public_links.quote_readable_until(
        status=quote.status,
        decided_at=quote.decided_at,
        expires_at=quote.public_expires_at,
        read_days=read_days,
    )
    if until is not None and (now or datetime.now(UTC)) >= until:
        raise LinkExpiredError(
            "Este link de orçamento expirou. Fale com a loja se precisar de uma cópia do orçamento.",
            details={"reason": "read_expired", "readable_until": until.isoformat()},
        )


def refuse_unreadable_order(
    order: OrderRow, *, closed_at: datetime | None, timezone: str, read_days: int, now: datetime | None = None
) -> None:
    """410 ``link_expired`` once a delivered order's warranty has ended (or a cancelled order's
    reading time passed) (``public_links.tracking_readable_until``)."""
    until = public_links.tracking_readable_until(
        status=order.status,
        delivered_at=order.delivered_at,
        warranty_until=order.warranty_until,
        closed_at=closed_at,
        timezone=timezone,
        read_days=read_days,
    )
    if until is not None and (now or datetime.now(UTC)) >= until:
        raise LinkExpiredError(
            "Este link de acompanhamento expirou. Fale com a loja se precisar das informações da OS.",
            details={"reason": "read_expired", "readable_until": until.isoformat()},
        )


def _parts_needed(quote: QuoteRow) -> dict[UUID, int]:
    """How many of each stock part the quote's lines use."""
    needs: dict[UUID, int] = defaultdict(int)
    for line in quote.lines:
        if line["kind"] == "part" and line.get("part_id"):
            needs[UUID(line["part_id"])] += int(line["quantity"])
    return dict(needs)
