"""WhatsApp's SQS workers (partial batch failures; a message that keeps failing lands in its DLQ):

- the consumer: Evolution's stored deliveries ``{"tenant_id", "instance", "delivery_id"}`` applied
  (the conversation, its message, the bot's replies queued), metrics for the dashboard and the
  disconnected-number alarm; and EventBridge's ``OrderStatusChanged`` (through a queue that holds it
  a minute): the customer's status message queued, once;
- the sender: ``{"tenant_id", "message_id"}``, one message through the shop's number, paced; and
  ``{"tenant_id", "media_message_id"}``, a customer's file fetched to S3.

Each record has a time budget (its worst case below); the functions' timeouts (infra:
capabilities/whatsapp.py) fit a whole batch at its worst."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.batches import within_budget
from assistec.wiring.whatsapp import root

# A delivery is applied in one transaction with no network call; a send waits for its number's slot
# (at most the sender's max wait, 20 s) and calls Evolution once (10 s budget).
DELIVERY_WORST_CASE_S = 10.0
SEND_WORST_CASE_S = 35.0


def _delivery(record: SQSRecord, seconds_left: float) -> None:
    message = json.loads(record.body)
    if message.get("detail-type") == "OrderStatusChanged":
        # EventBridge's event, held a minute by its queue: the customer is told, once
        told = root().status_notices.tell(message["detail"])
        logger.info(
            "whatsapp status message", extra={"outcome": told, "event_id": message["detail"].get("event_id")}
        )
        return
    outcome = root().inbox.apply(
        UUID(str(message["tenant_id"])), str(message["instance"]), str(message["delivery_id"])
    )
    if outcome == "disconnected":
        metrics.add_metric(name="WhatsappDisconnected", unit=MetricUnit.Count, value=1)
    if outcome == "answered":
        metrics.add_metric(name="WhatsappBotAnswers", unit=MetricUnit.Count, value=1)
    logger.info(
        "whatsapp delivery applied", extra={"outcome": outcome, "delivery_id": message["delivery_id"]}
    )


def _send(record: SQSRecord, seconds_left: float) -> None:
    message = json.loads(record.body)
    if "media_message_id" in message:
        # A customer's file, fetched to S3 (the shop keeps them)
        fetched = root().media.fetch(UUID(str(message["tenant_id"])), UUID(str(message["media_message_id"])))
        logger.info("whatsapp media", extra={"outcome": fetched, "message_id": message["media_message_id"]})
        return
    outcome = root().sender.send(UUID(str(message["tenant_id"])), UUID(str(message["message_id"])))
    if outcome in ("failed", "unknown"):
        metrics.add_metric(name="WhatsappSendFailures", unit=MetricUnit.Count, value=1)
    logger.info("whatsapp send", extra={"outcome": outcome, "message_id": message["message_id"]})


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def consumer(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return within_budget(event, context, _delivery, worst_case_s=lambda record: DELIVERY_WORST_CASE_S)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def sender(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return within_budget(event, context, _send, worst_case_s=lambda record: SEND_WORST_CASE_S)
