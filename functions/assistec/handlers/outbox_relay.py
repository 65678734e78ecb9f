"""Scheduled every minute: publish the domain events still pending in the outbox, and enqueue
again the stored Asaas webhooks and the WhatsApp replies whose queue message was lost.

The API publishes its events right after each commit; this catches what that missed (the bus
refused, the function timed out after commit) so that no committed change loses its event.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.relay import root


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services = root()
    report = services.outbox.run()
    stranded = services.stranded_deliveries
    requeued = stranded.requeue() if stranded is not None else 0
    replies = services.requeue_whatsapp_replies()
    metrics.add_metric(name="InboxRequeued", unit=MetricUnit.Count, value=requeued)
    metrics.add_metric(name="WhatsappRepliesRequeued", unit=MetricUnit.Count, value=replies)
    metrics.add_metric(name="OutboxPublished", unit=MetricUnit.Count, value=report.published)
    metrics.add_metric(
        name="OutboxOldestPendingSeconds", unit=MetricUnit.Seconds, value=report.oldest_pending_s
    )
    outcome = {
        "published": report.published,
        "oldest_pending_s": report.oldest_pending_s,
        "requeued": requeued,
        "whatsapp_replies_requeued": replies,
    }
    logger.info("outbox relay run", extra=outcome)
    return outcome
