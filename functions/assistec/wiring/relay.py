"""The outbox relay's composition root (scheduled every minute)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import DatabaseRoot, Installed

if TYPE_CHECKING:
    from assistec.integrations.queue import EventQueue
    from assistec.services.stranded_deliveries import StrandedDeliveries
    from assistec.settings import RelaySettings


class RelayRoot(DatabaseRoot):
    """The database, the bus and (when the payments stack is deployed) the payments queue."""

    def __init__(self, settings: RelaySettings) -> None:
        super().__init__(settings, event_bus_name=settings.event_bus_name)
        self.settings = settings

    @cached_property
    def payments_queue(self) -> EventQueue | None:
        from assistec.integrations.queue import SqsEventQueue

        url = self.settings.payments_queue_url
        return SqsEventQueue(url) if url else None

    @cached_property
    def stranded_deliveries(self) -> StrandedDeliveries | None:
        """None without the payments stack (no queue to sweep into)."""
        from assistec.services.stranded_deliveries import StrandedDeliveries

        queue = self.payments_queue
        return StrandedDeliveries(self.database, queue) if queue is not None else None

    def requeue_whatsapp_replies(self) -> int:
        """WhatsApp replies whose send-queue message was lost, enqueued again (0 without the queue)."""
        url = self.settings.whatsapp_send_queue_url
        if not url:
            return 0
        from assistec.integrations.queue import SqsWhatsappQueue
        from assistec.services.whatsapp.sweep import requeue_replies

        return requeue_replies(self.database, SqsWhatsappQueue(None, url))


def _from_environment() -> RelayRoot:
    from assistec.settings import RelaySettings

    return RelayRoot(RelaySettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get  # the environment's root
install = _root.install  # tests: use another root (None: rebuild on next use)
