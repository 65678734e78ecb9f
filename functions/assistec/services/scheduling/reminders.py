"""Appointment reminders (24 h and 2 h before by default, per shop): on WhatsApp when the shop's number
is open and the customer did not opt out, else by e-mail, else recorded as not sent.

A scheduled rule runs ``Reminders.run`` every few minutes with the time in its input (a test moves
the clock through that input, never by sleeping). Each (appointment, offset) is claimed by a row in
``appointment_reminders`` committed with the queued WhatsApp message: a rerun, an overlapping run or
a redelivered event finds the claim and sends nothing; a reply "confirmo"/"cancelar" is handled by
the bot (``services/whatsapp/bot.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from assistec.db import customers as customers_db
from assistec.db import scheduling as db
from assistec.db import whatsapp as wa_db
from assistec.domain import wa_router as router
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.scheduling.appointments import TYPE_NAMES
from assistec.services.scheduling.rules import load
from assistec.services.whatsapp import outgoing

if TYPE_CHECKING:
    from assistec.db.connection import Database
    from assistec.integrations.queue import WhatsappQueue
    from assistec.services.email.service import Mail
    from assistec.services.unit_of_work import UnitsOfWork


@dataclass(slots=True)
class RunResult:
    whatsapp: int = 0
    email: int = 0
    none: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


class Reminders:
    def __init__(
        self,
        db_: Database,
        work: UnitsOfWork,
        queue: Callable[[], WhatsappQueue],
        mail: Callable[[], Mail | None],
        link_base: Callable[[], str],
    ) -> None:
        self._db = db_
        self._work = work
        self._queue = queue
        self._mail = mail
        self._link_base = link_base

    def run(self, now: datetime, *, limit: int = 500) -> RunResult:
        """Send every reminder due at ``now`` across the shops."""
        with self._db.transaction() as conn:
            due = conn.execute("select * from appointment_reminders_due(%s, %s)", (now, limit)).fetchall()
        result = RunResult()
        for tenant_id, appointment_id, offset_min in due:
            try:
                outcome = self.send(UUID(str(tenant_id)), UUID(str(appointment_id)), int(offset_min), now)
            except Exception:
                logger.exception("appointment reminder failed", extra={"appointment_id": str(appointment_id)})
                result.failed.append(str(appointment_id))
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
        return result

    def send(self, tenant_id: UUID, appointment_id: UUID, offset_min: int, now: datetime) -> str:
        """One reminder: whatsapp, email, none (no way to reach the customer) or skipped (sent
        already, or the appointment changed)."""
        email_to: tuple[str, dict[str, Any]] | None = None
        queued: UUID | None = None
        with self._work(SystemActor(tenant_id=tenant_id)) as uow:
            row = db.get_appointment(uow.conn, appointment_id, lock=True)
            if row is None or row.status not in db.ACTIVE or row.starts_at <= now:
                return "skipped"
            if not db.claim_reminder(
                uow.conn, tenant_id=tenant_id, appointment_id=row.id, offset_min=offset_min, channel="none"
            ):
                return "skipped"
            shop = load(uow)
            customer = customers_db.get_customer(uow.conn, row.customer_id)
            name = outgoing.shop_name(uow, "a loja")
            base = self._link_base()
            link = f"{base}/public/appointments/{row.public_token}" if base else ""
            when = router.when_text(row.starts_at, shop.timezone)
            kind = TYPE_NAMES.get(row.type, "Agendamento").lower()
            text = router.render_template(
                "appointment_reminder",
                wa_db.get_settings(uow.conn).templates,
                {
                    "LOJA": name,
                    "TIPO": kind,
                    "QUANDO": when,
                    "LINK": link,
                    "CLIENTE": customer.name.split()[0] if customer else "",
                },
            )
            channel = "none"
            sent = outgoing.to_customer(uow, row.customer_id, text)
            if sent.message_id is not None:
                channel, queued = "whatsapp", sent.message_id
            elif customer is not None and customer.email:
                channel = "email"
                email_to = (
                    str(customer.email),
                    {"customer_name": customer.name, "kind": kind, "when": when, "link": link or None},
                )
            uow.conn.execute(
                "update appointment_reminders set channel = %s where appointment_id = %s and offset_min = %s",
                (channel, row.id, offset_min),
            )
            uow.audit("remind", "appointment", row.id, changes={"offset_min": offset_min, "channel": channel})
        if queued is not None:
            try:
                self._queue().outbound(tenant_id, queued)
            except Exception:
                logger.exception("could not enqueue a reminder (the relay's sweep sends it)")
        if email_to is not None:
            mail = self._mail()
            if mail is None:
                return "none"
            to, context = email_to
            mailed = mail.send(tenant_id, template="appointment_reminder", to=to, context=context)
            if not mailed.ok:
                return "none"
        return channel
