"""The quote flow (issue 11 §5) as Step Functions runs it (infra: capabilities/quote_flow.py).

send the quote (WhatsApp when the customer can get it there, e-mail otherwise) → wait for the
decision (a task token kept in ``quote_flows``, server-side) → a reminder after ``first_wait_seconds``
→ wait again → expired after ``second_wait_seconds``. The decision comes from the public link, the
counter, or a WhatsApp reply ("1"/"sim"/"aprovo", "2"/"não"; kept with its message as evidence);
whoever records it hands the token back after the commit. Approved: the parts were reserved and the
order moved (``quote_decisions.decide``), the customer is told and, when the flow asks for it, the
payment flow starts (its charge goes out on WhatsApp too). Rejected or expired: the order moves and
the customer is told. A newer version of the quote ends the older one's flow (``superseded``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import customers as customers_db
from assistec.db import devices as devices_db
from assistec.db import orders as orders_db
from assistec.db import quotes as quotes_db
from assistec.db import whatsapp as wa_db
from assistec.domain import wa_router as router
from assistec.domain.permissions import Permission, Role
from assistec.domain.tokens import Identity
from assistec.errors import ConflictError, found
from assistec.integrations.flows import FlowResumer, FlowStarter
from assistec.integrations.queue import WhatsappQueue
from assistec.observability import correlation_id, logger
from assistec.services import quote_decisions
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork
from assistec.services.whatsapp import outgoing

if TYPE_CHECKING:
    from assistec.services.email.service import Mail

type Resume = Callable[[str, dict[str, Any]], None]

_QUOTE_NOT_FOUND = "Orçamento não encontrado."


class QuoteFlowRunningError(ConflictError):
    code = "quote_flow_running"
    message = "Este orçamento já foi enviado e aguarda a resposta do cliente."


# --- the token, where the decisions are recorded ------------------------------------------------
def take_token(uow: UnitOfWork, quote_id: UUID) -> str | None:
    """The waiting flow's token of a quote, taken (cleared) in the caller's transaction; the caller
    hands it back after the commit."""
    row = uow.conn.execute(
        "with old as (select task_token from quote_flows where quote_id = %s and task_token is not null "
        "for update) update quote_flows f set task_token = null from old where f.quote_id = %s "
        "returning old.task_token",
        (quote_id, quote_id),
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def pending_tokens(uow: UnitOfWork, order_id: UUID) -> list[str]:
    """The tokens of the order's pending quotes' flows, taken (a new version supersedes them)."""
    rows = uow.conn.execute(
        "with waiting as (select f.quote_id, f.task_token from quote_flows f "
        "join quotes q on q.id = f.quote_id "
        "where q.order_id = %s and q.status = 'pending' and f.task_token is not null for update of f) "
        "update quote_flows f set task_token = null from waiting w where f.quote_id = w.quote_id "
        "returning w.task_token",
        (order_id,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def hand_back(resume: Resume | None, tokens: list[str], output: dict[str, Any]) -> None:
    """Complete the waiting flows (after the commit; a failure is logged: the flow's own timeout
    still moves it on)."""
    for token in tokens:
        if resume is None:
            continue
        try:
            resume(token, output)
        except Exception:
            logger.exception("could not hand a quote flow its decision back")


def pending_for_customer(uow: UnitOfWork, customer_id: UUID) -> list[tuple[UUID, str]]:
    """The customer's quotes sent by a flow and not decided yet: (quote id, order number). A reply
    that comes before the flow keeps its token counts too (the flow finds the quote decided)."""
    rows = uow.conn.execute(
        "select q.id, o.number from quotes q join service_orders o on o.id = q.order_id "
        "join quote_flows f on f.quote_id = q.id where o.customer_id = %s and q.status = 'pending' "
        "and f.finished_at is null and f.channel is not null order by q.created_at",
        (customer_id,),
    ).fetchall()
    return [(UUID(str(r[0])), str(r[1])) for r in rows]


def identity_of(flow: dict[str, Any]) -> Identity:
    return Identity(tenant_id=UUID(flow["tenant_id"]), user_id=UUID(flow["user_id"]), role=Role(flow["role"]))


# --- the API's side -------------------------------------------------------------------------------
class QuoteFlowStarter:
    def __init__(self, work: UnitsOfWork, starter: Callable[[], FlowStarter]) -> None:
        self._work = work
        self._starter = starter

    def start_if_auto(self, identity: Identity, quote_id: UUID) -> str | None:
        """A new quote, sent by itself when the shop wants it (``auto_send_quotes``), with the
        shop's reminder and expiry; the execution's ARN, None when the shop sends by hand."""
        with self._work(identity, Permission.ORDERS_READ) as uow:
            settings = wa_db.get_settings(uow.conn)
        if not settings.auto_send_quotes:
            return None
        return self.start(
            identity,
            quote_id,
            reminder_hours=settings.quote_reminder_hours,
            expire_hours=settings.quote_expire_hours,
            payment=None,
        )

    def start(
        self,
        identity: Identity,
        quote_id: UUID,
        *,
        reminder_hours: int,
        expire_hours: int,
        payment: dict[str, Any] | None,
    ) -> str:
        """Send a pending quote to its customer and wait for the decision (order writers); the
        execution's ARN. 404 for another shop's quote, 409 for a decided or superseded one or one
        whose flow already waits."""
        with self._work(identity, Permission.ORDERS_WRITE) as uow:
            quote = found(quotes_db.get_quote(uow.conn, quote_id, lock=True), _QUOTE_NOT_FOUND)
            quote_decisions.refuse_closed(quote)
            claimed = uow.conn.execute(
                "insert into quote_flows (tenant_id, quote_id, started_by) values (%s, %s, %s) "
                "on conflict (tenant_id, quote_id) do update set started_at = now(), "
                "started_by = excluded.started_by, "
                "finished_at = null, outcome = null, execution_arn = null "
                "where (quote_flows.task_token is null and quote_flows.execution_arn is null) "
                "or quote_flows.finished_at is not null returning 1",
                (uow.tenant_id, quote_id, identity.user_id),
            ).fetchone()
            if claimed is None:
                raise QuoteFlowRunningError()
            uow.audit(
                "send",
                "quote",
                quote_id,
                changes={"reminder_hours": reminder_hours, "expire_hours": expire_hours},
            )
        flow = {
            "tenant_id": str(identity.tenant_id),
            "user_id": str(identity.user_id),
            "role": identity.role.value,
            "quote_id": str(quote_id),
            "order_id": str(quote.order_id),
            "first_wait_seconds": reminder_hours * 3600,
            "second_wait_seconds": max(1, expire_hours - reminder_hours) * 3600,
            "payment": payment,
            "correlation_id": correlation_id(),
        }
        arn = self._starter().start(f"quote-{quote_id}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}", flow)
        with self._work(identity) as uow:
            uow.conn.execute("update quote_flows set execution_arn = %s where quote_id = %s", (arn, quote_id))
        return arn


# --- the steps --------------------------------------------------------------------------------------
class QuoteFlow:
    """The steps, each on behalf of the user who sent the quote. Errors propagate: the state machine
    retries and catches them."""

    def __init__(
        self,
        work: UnitsOfWork,
        mail: Mail,
        resumer: FlowResumer,
        queue: Callable[[], WhatsappQueue],
        payment_flow: Callable[[], FlowStarter] | None = None,
    ) -> None:
        self._work = work
        self._mail = mail
        self._resumer = resumer
        self._queue = queue
        self._payment_flow = payment_flow

    def send(self, flow: dict[str, Any], *, reminder: bool = False) -> dict[str, Any]:
        """The quote's message (or a reminder) to the customer: WhatsApp, else e-mail, else nothing
        (the output says which); nothing for a quote no longer pending."""
        quote_id = UUID(flow["quote_id"])
        with self._work(identity_of(flow)) as uow:
            quote = quotes_db.get_quote(uow.conn, quote_id)
            if quote is None or quote.status != "pending":
                return {"channel": "none", "reason": f"quote {quote.status if quote else 'gone'}"}
            order = orders_db.get(uow.conn, quote.order_id)
            assert order is not None
            templates = wa_db.get_settings(uow.conn).templates
            text = (
                router.render_template(
                    "quote_reminder",
                    templates,
                    {
                        "OS": str(order.number),
                        "LINK": _link(quote.rendered_text),
                        "LOJA": outgoing.shop_name(uow),
                    },
                )
                if reminder
                else quote.rendered_text
            )
            queued = outgoing.to_customer(uow, order.customer_id, text)
            channel = "whatsapp" if queued.message_id else "email"
            email = None
            if channel == "email":
                customer = customers_db.get_customer(uow.conn, order.customer_id)
                email = customer.email if customer else None
                channel = "email" if email else "none"
                device = devices_db.get_device(uow.conn, order.device_id)
                mail_context = {
                    "customer_name": customer.name if customer else "",
                    "order_number": order.number,
                    "device": f"{device.brand} {device.model}" if device else "",
                    "items": [
                        {
                            "description": line["description"],
                            "quantity": line["quantity"],
                            "total_cents": line["total_cents"],
                        }
                        for line in quote.lines
                    ],
                    "discount_cents": quote.discount_cents,
                    "discount_name": quote.discount_rule,
                    "total_cents": quote.total_cents,
                    "deadline": f"{quote.deadline_days} dia(s)",
                    "valid_until": quote.valid_until,
                    "link": _link(quote.rendered_text),
                    "reminder": reminder,
                }
            if not reminder:
                uow.conn.execute(
                    "update quote_flows set channel = %s where quote_id = %s", (channel, quote_id)
                )
        tenant_id = identity_of(flow).tenant_id
        if queued.message_id is not None:
            self._queue().outbound(tenant_id, queued.message_id)
        elif email:
            sent = self._mail.send(
                tenant_id, template="quote_sent", to=email, context=mail_context, order_id=order.id
            )
            if not sent.ok:
                return {"channel": "none", "reason": sent.reason}
        return {"channel": channel, "reason": queued.reason}

    def await_decision(self, flow: dict[str, Any], token: str) -> None:
        """Keep the token (the decision hands it back); a quote decided or superseded meanwhile
        hands it back at once."""
        quote_id = UUID(flow["quote_id"])
        with self._work(identity_of(flow)) as uow:
            quote = quotes_db.get_quote(uow.conn, quote_id, lock=True)
            status = quote.status if quote else "superseded"
            if status == "pending":
                uow.conn.execute(
                    "update quote_flows set task_token = %s where quote_id = %s", (token, quote_id)
                )
                return
        decision = {"approved": "approve", "rejected": "reject"}.get(status, "superseded")
        self._resumer.resume(token, {"decision": decision})

    def decided(self, flow: dict[str, Any]) -> dict[str, Any]:
        """Approved or rejected: the customer is told; approved, the payment flow starts when asked."""
        quote_id = UUID(flow["quote_id"])
        decision = str((flow.get("decision") or {}).get("decision"))
        identity = identity_of(flow)
        with self._work(identity) as uow:
            quote = quotes_db.get_quote(uow.conn, quote_id)
            assert quote is not None
            order = orders_db.get(uow.conn, quote.order_id)
            assert order is not None
            key = "quote_approved" if quote.status == "approved" else "quote_rejected"
            text = router.render_template(
                key,
                wa_db.get_settings(uow.conn).templates,
                {"OS": str(order.number), "LOJA": outgoing.shop_name(uow)},
            )
            queued = outgoing.to_customer(uow, order.customer_id, text)
            uow.conn.execute(
                "update quote_flows set finished_at = now(), outcome = %s, task_token = null "
                "where quote_id = %s",
                (quote.status, quote_id),
            )
        if queued.message_id is not None:
            self._queue().outbound(identity.tenant_id, queued.message_id)
        payment = flow.get("payment")
        started = None
        if quote.status == "approved" and payment and self._payment_flow is not None:
            started = self._payment_flow().start(
                f"os-{order.id}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}",
                {
                    "tenant_id": flow["tenant_id"],
                    "user_id": flow["user_id"],
                    "role": flow["role"],
                    "order_id": str(order.id),
                    "billing_type": payment.get("billing_type", "PIX"),
                    "value_cents": None,
                    "wait_seconds": int(payment.get("wait_hours", 24)) * 3600,
                    "correlation_id": flow.get("correlation_id"),
                },
            )
        return {"decision": decision, "status": quote.status, "told": queued.reason, "payment_flow": started}

    def expired(self, flow: dict[str, Any]) -> dict[str, Any]:
        """No answer after the reminder: a quote still pending is rejected as expired (the order
        moves), and the customer is told."""
        quote_id = UUID(flow["quote_id"])
        identity = identity_of(flow)
        with self._work(identity) as uow:
            quote = quotes_db.get_quote(uow.conn, quote_id, lock=True)
            assert quote is not None
            order = orders_db.get(uow.conn, quote.order_id)
            assert order is not None
            queued = outgoing.Queued(None, "not_pending")
            if quote.status == "pending":
                # Past its validity already (QuoteGoneError): nothing left to decide
                with contextlib.suppress(quote_decisions.QuoteGoneError):
                    quote_decisions.decide(
                        uow,
                        quote,
                        approve=False,
                        name="Sem resposta",
                        via="expired",
                        label="Orçamento expirado",
                    )
                text = router.render_template(
                    "quote_expired",
                    wa_db.get_settings(uow.conn).templates,
                    {"OS": str(order.number), "LOJA": outgoing.shop_name(uow)},
                )
                queued = outgoing.to_customer(uow, order.customer_id, text)
            uow.conn.execute(
                "update quote_flows set finished_at = now(), outcome = 'expired', task_token = null "
                "where quote_id = %s",
                (quote_id,),
            )
        if queued.message_id is not None:
            self._queue().outbound(identity.tenant_id, queued.message_id)
        return {"outcome": "expired", "told": queued.reason}


def _link(rendered: str) -> str:
    """The quote's public link, as its message carries it."""
    for word in rendered.split():
        if "/public/quotes/" in word:
            return word.rstrip(".,;)")
    return ""
