"""The payments worker family's composition root: the SQS consumer, the hourly reconciliation, the
daily dunning run and the payment flow's Step Functions tasks share one settings model
(``ConsumerSettings``) and these pieces."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from assistec.wiring.base import AsaasRoot, Installed, Mailing

if TYPE_CHECKING:
    from assistec.integrations.flows import FlowResumer
    from assistec.integrations.queue import ShopQueue, WhatsappQueue
    from assistec.services.billing.dunning import Dunning
    from assistec.services.billing.platform_webhook import PlatformWebhook
    from assistec.services.billing.provisioning import Provisioning
    from assistec.services.billing.standing import Notices
    from assistec.services.payment_flow import PaymentFlow
    from assistec.services.payments.inbox import WebhookInbox
    from assistec.services.payments.reconcile import Reconciliation
    from assistec.services.quote_flow import QuoteFlow
    from assistec.settings import ConsumerSettings


class WorkerRoot(Mailing["ConsumerSettings"], AsaasRoot):
    """Settings, integrations and services of the payments workers."""

    def __init__(self, settings: ConsumerSettings) -> None:
        super().__init__(settings, event_bus_name=settings.event_bus_name, asaas=settings)
        self.settings = settings

    # --- integrations ---------------------------------------------------------------------------

    @cached_property
    def resumer(self) -> FlowResumer:
        from assistec.integrations.flows import StepFunctionsResumer

        return StepFunctionsResumer()

    @cached_property
    def reconcile_queue(self) -> ShopQueue:
        """The reconciliation queue (one message per shop), which the hourly fan-out fills."""
        from assistec.integrations.queue import SqsShopQueue

        if not self.settings.reconcile_queue_url:
            raise RuntimeError("RECONCILE_QUEUE_URL is not set: only the fan-out function sends")
        return SqsShopQueue(self.settings.reconcile_queue_url)

    # --- services -------------------------------------------------------------------------------
    @cached_property
    def inbox(self) -> WebhookInbox:
        """Applies stored Asaas events (the consumer never enqueues: no queue)."""
        from assistec.services.payments.inbox import WebhookInbox

        return WebhookInbox(self.work, None, lambda: self.payments, resume=self.resumer.resume)

    @cached_property
    def reconciliation(self) -> Reconciliation:
        """The comparison of the shops' charges with Asaas: the hourly fan-out and the per-shop worker."""
        from assistec.services.payments.reconcile import Reconciliation

        return Reconciliation(self.work, self.payments, resume=self.resumer.resume)

    @cached_property
    def billing_notices(self) -> Notices:
        """The owners' dunning e-mails."""
        from assistec.services.billing.standing import Notices

        return Notices(self.mail)

    @cached_property
    def provisioning(self) -> Provisioning:
        """The consumer's ``ShopSignedUp``: the shop's Asaas customer and subscription."""
        from assistec.services.billing.provisioning import Provisioning

        return Provisioning(self.work, self.platform_asaas)

    @cached_property
    def platform_webhook(self) -> PlatformWebhook:
        """Applies the platform account's stored deliveries (the consumer never enqueues: no queue)."""
        from assistec.services.billing.platform_webhook import PlatformWebhook

        return PlatformWebhook(self.work, self.platform_asaas, self.billing_notices)

    @cached_property
    def dunning(self) -> Dunning:
        """The daily run over the shops' subscriptions."""
        from assistec.services.billing.dunning import Dunning

        return Dunning(self.work, self.platform_asaas, self.provisioning, self.billing_notices)

    @cached_property
    def whatsapp_queue(self) -> WhatsappQueue:
        """The flows' messages on WhatsApp (the send queue)."""
        from assistec.integrations.queue import SqsWhatsappQueue

        return SqsWhatsappQueue(None, self.settings.whatsapp_send_queue_url)

    @cached_property
    def payment_flow(self) -> PaymentFlow:
        from assistec.services.payment_flow import PaymentFlow

        return PaymentFlow(
            self.work, self.payments, self.mail, self.resumer, whatsapp=lambda: self.whatsapp_queue
        )

    @cached_property
    def quote_flow(self) -> QuoteFlow:
        from assistec.integrations.flows import StepFunctionsStarter
        from assistec.services.quote_flow import QuoteFlow

        payments = StepFunctionsStarter(self.settings.payment_flow_arn)
        return QuoteFlow(self.work, self.mail, self.resumer, lambda: self.whatsapp_queue, lambda: payments)


def _from_environment() -> WorkerRoot:
    from assistec.settings import ConsumerSettings

    return WorkerRoot(ConsumerSettings())  # type: ignore[call-arg]  # values come from the environment


_root = Installed(_from_environment)
root = _root.get  # the environment's root
install = _root.install  # tests: use another root (None: rebuild on next use)
