"""What the shop's owner reads when its WhatsApp number drops."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.unit_of_work import UnitsOfWork
from assistec.services.whatsapp.inbox import Disconnected

if TYPE_CHECKING:
    from assistec.services.email.service import Mail


def tell_owner_disconnected(work: UnitsOfWork, mail: Mail, event: Disconnected) -> None:
    """E-mail the shop's owners (never fails the caller: the state is recorded, the alarm fires)."""
    with work(SystemActor(tenant_id=event.tenant_id)) as uow:
        rows = uow.conn.execute(
            "select email from users where role = 'owner' and active order by created_at"
        ).fetchall()
    for (email,) in rows:
        try:
            mail.send(
                event.tenant_id,
                template="whatsapp_disconnected",
                to=str(email),
                context={"number": event.number},
                audience="shop",
            )
        except Exception:
            logger.exception("could not e-mail the owner about the disconnected number")
