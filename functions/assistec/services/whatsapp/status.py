"""Status messages (issue 11 §6): when an order moves, its customer reads it on WhatsApp, if the shop
tells that status (its setting) and the customer did not opt out.

The domain event ``OrderStatusChanged`` reaches the consumer through a queue that holds every message
60 s (infra: capabilities/whatsapp.py), so a transition undone within the minute is not told: the
order's status is read when the message arrives and must still be the one the event moved it to.
Each event is told at most once (``wa_status_notices`` keyed by the event's id, committed with the
queued message); the send queue paces it with the number's other messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from assistec.db import customers as customers_db
from assistec.db import orders as orders_db
from assistec.db import whatsapp as wa_db
from assistec.domain import wa_router as router
from assistec.integrations.queue import WhatsappQueue
from assistec.observability import logger
from assistec.services.audit import PublicActor
from assistec.services.unit_of_work import UnitOfWork, UnitsOfWork
from assistec.services.whatsapp import outgoing


class StatusNotices:
    def __init__(
        self, work: UnitsOfWork, queue: Callable[[], WhatsappQueue], link_base: Callable[[], str]
    ) -> None:
        self._work = work
        self._queue = queue
        self._link_base = link_base

    def tell(self, detail: dict[str, Any]) -> str:
        """Tell the customer of one ``OrderStatusChanged`` (its EventBridge ``detail``); the outcome."""
        tenant_id = UUID(str(detail["tenant_id"]))
        event_id = UUID(str(detail["event_id"]))
        order_id = UUID(str(detail["order_id"]))
        status = str(detail["status"])
        queued: UUID | None = None
        with self._work(PublicActor(tenant_id=tenant_id, label="WhatsApp")) as uow:
            # Claimed first: a redelivered event (or the same one on two consumers, the second
            # waiting on the first's row) finds it and tells nothing.
            if not wa_db.record_notice(
                uow.conn, tenant_id=tenant_id, event_id=event_id, order_id=order_id, to_status=status
            ):
                return "already_told"
            outcome, queued = self._decide(uow, event_id, order_id, status)
            wa_db.finish_notice(uow.conn, event_id, outcome, queued)
        if queued is not None:
            try:
                self._queue().outbound(tenant_id, queued)
            except Exception:
                logger.exception("could not enqueue a status message (it stays queued)")
        return outcome

    def _decide(
        self, uow: UnitOfWork, event_id: UUID, order_id: UUID, status: str
    ) -> tuple[str, UUID | None]:
        order = orders_db.get(uow.conn, order_id)
        if order is None:
            return "skipped_no_order", None
        if order.status != status:
            return "skipped_undone", None  # moved again within the minute: not told
        settings = wa_db.get_settings(uow.conn)
        enabled = (
            settings.status_messages
            if settings.status_messages is not None
            else router.DEFAULT_STATUS_MESSAGES
        )
        if status not in enabled:
            return "skipped_off", None
        customer = customers_db.get_customer(uow.conn, order.customer_id)
        device = uow.conn.execute(
            "select brand, model from devices where id = %s", (order.device_id,)
        ).fetchone()
        base = self._link_base()
        text = router.render_template(
            f"status_{status}",
            settings.templates,
            {
                "CLIENTE": customer.name.split()[0] if customer and customer.name.strip() else "",
                "OS": str(order.number),
                "APARELHO": " ".join(str(x) for x in device if x) if device else "aparelho",
                "LINK": f"{base}/public/orders/{order.tracking_token}" if base else "",
                "LOJA": outgoing.shop_name(uow),
            },
        )
        queued = outgoing.to_customer(uow, order.customer_id, text)
        if queued.message_id is None:
            return f"skipped_{queued.reason}", None
        return "queued", queued.message_id
