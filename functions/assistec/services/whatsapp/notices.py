"""What the shop's owner reads when its WhatsApp number drops."""

from __future__ import annotations

from assistec.integrations.email import Mailer
from assistec.observability import logger
from assistec.services.audit import SystemActor
from assistec.services.unit_of_work import UnitsOfWork
from assistec.services.whatsapp import outgoing
from assistec.services.whatsapp.inbox import Disconnected


def tell_owner_disconnected(work: UnitsOfWork, mailer: Mailer, event: Disconnected) -> None:
    """E-mail the shop's owners (never fails the caller: the state is recorded, the alarm fires)."""
    with work(SystemActor(tenant_id=event.tenant_id)) as uow:
        rows = uow.conn.execute(
            "select email from users where role = 'owner' and active order by created_at"
        ).fetchall()
        shop = outgoing.shop_name(uow, "sua loja")
    number = f" (+{event.number})" if event.number else ""
    body = (
        f"O número de WhatsApp{number} da {shop} foi desconectado.\n\n"
        "Enquanto ele estiver desconectado, o assistente não responde aos clientes e as mensagens "
        "de status e orçamentos não são enviadas.\n\n"
        "Para reconectar, abra o painel em Configurações > WhatsApp e leia o QR code com o celular da loja."
    )
    for (email,) in rows:
        try:
            mailer.send(str(email), "WhatsApp desconectado", body)
        except Exception:
            logger.exception("could not e-mail the owner about the disconnected number")
