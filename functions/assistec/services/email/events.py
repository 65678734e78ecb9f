"""SES's delivery, bounce and complaint events (configuration set → SNS → SQS → the mail events
function): each moves the message's record on, and a permanent bounce or a complaint puts the address
on that shop's suppression list with the reason staff will read."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from assistec.db import email as email_db
from assistec.observability import logger
from assistec.services.audit import SystemActor

if TYPE_CHECKING:
    from assistec.domain.mail_events import MailEvent
    from assistec.services.unit_of_work import UnitsOfWork

# The record's status for each kind of event (a transient bounce is SES still trying: 'delayed').
_STATUS = {
    "sent": "sent",
    "delivered": "delivered",
    "delayed": "delayed",
    "soft_bounced": "delayed",
    "bounced": "bounced",
    "complained": "complained",
    "rejected": "rejected",
}


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


class MailEvents:
    def __init__(self, work: UnitsOfWork) -> None:
        self._work = work

    def apply(self, event: MailEvent) -> str:
        """Apply one event; the outcome names what happened (for the log and the tests). Applying
        the same event twice changes nothing more (SES and SQS both deliver at least once)."""
        tenant_id = _uuid(event.tags.get("tenant"))
        status = _STATUS.get(event.kind)
        if tenant_id is None:
            # Sent without a shop (a sign-up confirmation) or by another sender of the account.
            logger.info("mail event without a shop", extra={"kind": event.kind})
            return "no_shop"
        if status is None:
            return "ignored"
        with self._work(SystemActor(tenant_id=tenant_id)) as uow:
            record = email_db.apply_event(
                uow.conn,
                record_id=_uuid(event.tags.get("record")),
                provider_message_id=event.message_id,
                status=status,
                detail=event.reason if status not in ("sent", "delivered") else None,
            )
            if event.suppress:
                for address in event.recipients:
                    before = email_db.suppression(uow.conn, address)
                    row = email_db.suppress(
                        uow.conn,
                        tenant_id=tenant_id,
                        address=address,
                        reason="complaint" if event.kind == "complained" else "bounce",
                        detail=event.reason,
                        message_id=record.id if record else None,
                    )
                    if before is None or before.reason != row.reason:
                        uow.audit("suppress", "email_address", address, changes={"reason": row.reason})
        logger.info("mail event", extra={"kind": event.kind, "known": record is not None})
        return status if record is not None else "unknown_message"
