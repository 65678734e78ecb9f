"""WhatsApp's workers' composition root: the consumer of Evolution's stored deliveries (the bot
answers there) and the sender (the messages leave through the shop's number), one settings model
(``WhatsappSettings``)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import DatabaseRoot, Installed, Mailing

if TYPE_CHECKING:
    from assistec.integrations.flows import FlowResumer
    from assistec.integrations.queue import WhatsappQueue
    from assistec.services.whatsapp.inbox import Disconnected, WhatsappInbox
    from assistec.services.whatsapp.media import MediaFetcher
    from assistec.services.whatsapp.sender import WhatsappSender
    from assistec.services.whatsapp.server import ClientFactory
    from assistec.services.whatsapp.status import StatusNotices
    from assistec.settings import WhatsappSettings


class WhatsappRoot(Mailing["WhatsappSettings"], DatabaseRoot):
    def __init__(self, settings: WhatsappSettings) -> None:
        super().__init__(settings, event_bus_name=settings.event_bus_name or "")
        self.settings = settings

    @cached_property
    def queue(self) -> WhatsappQueue:
        from assistec.integrations.queue import SqsWhatsappQueue

        return SqsWhatsappQueue(self.settings.whatsapp_queue_url, self.settings.whatsapp_send_queue_url)

    @cached_property
    def evolution(self) -> ClientFactory:
        from assistec.services.whatsapp.server import client_factory, server_from_secret

        return client_factory(lambda: server_from_secret(self.settings.evolution_secret_id))

    @cached_property
    def resumer(self) -> FlowResumer:
        """Hands a waiting quote flow the decision the customer replied on WhatsApp."""
        from assistec.integrations.flows import StepFunctionsResumer

        return StepFunctionsResumer()

    @cached_property
    def inbox(self) -> WhatsappInbox:
        """Applies stored deliveries; the bot answers, the replies go to the send queue."""
        from assistec.services.whatsapp.bot import WhatsappBot
        from assistec.services.whatsapp.inbox import WhatsappInbox

        bot = WhatsappBot(
            lambda: self.settings.public_base_url or "",
            resume=lambda token, output: self.resumer.resume(token, output),
        )
        return WhatsappInbox(self.work, lambda: self.queue, bot=bot, on_disconnect=self.tell_owner)

    @cached_property
    def status_notices(self) -> StatusNotices:
        """Orders' status messages (OrderStatusChanged, held a minute by its queue)."""
        from assistec.services.whatsapp.status import StatusNotices

        return StatusNotices(self.work, lambda: self.queue, lambda: self.settings.public_base_url or "")

    @cached_property
    def media(self) -> MediaFetcher:
        """Customers' files to S3 (the devices bucket, the shop's whatsapp/ prefix)."""
        from assistec.integrations.storage import S3MediaStore
        from assistec.services.whatsapp.media import MediaFetcher

        bucket = self.settings.devices_bucket
        if not bucket:
            raise RuntimeError("DEVICES_BUCKET is not set: only the sender fetches media")
        store = S3MediaStore(bucket)
        return MediaFetcher(self.work, lambda: self.evolution(), lambda: store)

    @cached_property
    def sender(self) -> WhatsappSender:
        from assistec.services.whatsapp.sender import WhatsappSender

        return WhatsappSender(self.work, lambda: self.evolution(), interval_ms=self.settings.send_interval_ms)

    def tell_owner(self, event: Disconnected) -> None:
        """The shop's number dropped: the owner reads it by e-mail (the alarm tells ops)."""
        from assistec.services.whatsapp.notices import tell_owner_disconnected

        tell_owner_disconnected(self.work, self.mail, event)


def _from_environment() -> WhatsappRoot:
    from assistec.settings import WhatsappSettings

    return WhatsappRoot(WhatsappSettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get
install = _root.install
