"""SQS consumer: applies stored Asaas events, one message per event, with partial batch failures
(a message that fails goes back alone; after five tries it lands in the DLQ, which ops watch).

Messages: a shop's Asaas event, a platform account event (the shops' subscriptions), and
EventBridge's ShopSignedUp (the shop's Asaas subscription is created).

Each record has a time budget: it is started only while the invocation has time left for its
worst case (below), the rest go back as batch item failures at once. The function's timeout (infra:
capabilities/payments.py) fits a whole batch of webhook events at their worst."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.batches import within_budget
from assistec.wiring.workers import WorkerRoot, root

# The longest one record can take, by kind (Asaas's operations run under the client's 8 s deadline
# each, retries included): a shop's event asks Asaas once per try and tries up to three times when
# its charge moves meanwhile; a platform event reads a payment and a subscription; provisioning
# finds or creates a customer and a subscription (each create with its lookup) and reads invoices.
EVENT_WORST_CASE_S = 30.0
PLATFORM_EVENT_WORST_CASE_S = 20.0
PROVISIONING_WORST_CASE_S = 60.0


def dispatch(message: dict[str, Any], services: WorkerRoot) -> str:
    """Apply one queue message; its outcome. Raises to have it retried."""
    if "platform_event_id" in message:
        return services.platform_webhook.apply(str(message["platform_event_id"]))
    if message.get("detail-type") == "ShopSignedUp":
        return services.provisioning.provision(UUID(str(message["detail"]["tenant_id"])))
    return services.inbox.apply(UUID(message["tenant_id"]), str(message["event_id"]))


def worst_case_s(record: SQSRecord) -> float:
    body = record.body or ""
    if '"ShopSignedUp"' in body:
        return PROVISIONING_WORST_CASE_S
    if '"platform_event_id"' in body:
        return PLATFORM_EVENT_WORST_CASE_S
    return EVENT_WORST_CASE_S


def _record(record: SQSRecord, seconds_left: float) -> None:
    message = json.loads(record.body)
    outcome = dispatch(message, root())
    if message.get("detail-type") == "ShopSignedUp" and outcome == "refused":
        # Asaas refused a new shop's subscription (its data): ops' alarm (the daily run counts
        # the shops it still refuses, the same metric)
        metrics.add_metric(name="ProvisioningRefused", unit=MetricUnit.Count, value=1)
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
    return within_budget(event, context, _record, worst_case_s=worst_case_s)
