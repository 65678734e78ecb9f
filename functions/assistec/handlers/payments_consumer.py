"""SQS consumer: applies stored Asaas events, one message per event, with partial batch failures
(a message that fails goes back alone; after five tries it lands in the DLQ, which ops watch).

Messages: a shop's Asaas event, a platform account event (the shops' subscriptions), and
EventBridge's ShopSignedUp (the shop's Asaas subscription is created)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.workers import WorkerRoot, root

processor = BatchProcessor(event_type=EventType.SQS)


def dispatch(message: dict[str, Any], services: WorkerRoot) -> str:
    """Apply one queue message; its outcome. Raises to have it retried."""
    if "platform_event_id" in message:
        return services.platform_webhook.apply(str(message["platform_event_id"]))
    if message.get("detail-type") == "ShopSignedUp":
        return services.provisioning.provision(UUID(str(message["detail"]["tenant_id"])))
    return services.inbox.apply(UUID(message["tenant_id"]), str(message["event_id"]))


def _record(record: SQSRecord) -> None:
    message = json.loads(record.body)
    outcome = dispatch(message, root())
    logger.info(
        "queue message applied",
        extra={
            "kind": message.get("detail-type") or ("platform" if "platform_event_id" in message else "shop"),
            "event_id": message.get("event_id") or message.get("platform_event_id") or message.get("id"),
            "outcome": outcome,
        },
    )


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=_record, processor=processor, context=context)
    )
