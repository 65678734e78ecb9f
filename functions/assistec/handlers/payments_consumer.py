"""SQS consumer: applies stored Asaas events, one message per event, with partial batch failures
(a message that fails goes back alone; after five tries it lands in the DLQ, which ops watch)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.db.connection import Database
from assistec.integrations.asaas import AsaasClient
from assistec.integrations.events import EventBridgeBus, OutboxRelay
from assistec.integrations.kms import KmsCipher
from assistec.observability import logger, metrics
from assistec.services.payment_flow import StepFunctionsResumer
from assistec.services.payments import PaymentsService, WebhookInbox
from assistec.settings import consumer_settings

processor = BatchProcessor(event_type=EventType.SQS)


class _NoQueue:
    def send(self, tenant_id: UUID, event_id: str) -> None:  # the consumer never enqueues
        raise RuntimeError("the consumer does not enqueue")


@cache
def database() -> Database:
    return Database(consumer_settings())


@cache
def relay() -> OutboxRelay:
    return OutboxRelay(database(), EventBridgeBus(consumer_settings().event_bus_name))


@cache
def payments() -> PaymentsService:
    settings = consumer_settings()

    def asaas(environment: str, api_key: str) -> AsaasClient:
        return AsaasClient(
            api_key,
            environment="production" if environment == "production" else "sandbox",
            base_url=settings.asaas_base_url,
        )

    return PaymentsService(database(), KmsCipher(settings.payments_key_id), relay(), asaas)


@cache
def resumer() -> StepFunctionsResumer:
    return StepFunctionsResumer()


@cache
def inbox() -> WebhookInbox:
    """The consumer's inbox; the reconciliation and the payment flow share its pieces."""
    return WebhookInbox(database(), _NoQueue(), relay(), payments, resumer().resume)


def _record(record: SQSRecord) -> None:
    message = json.loads(record.body)
    outcome = inbox().apply(UUID(message["tenant_id"]), str(message["event_id"]))
    logger.info("asaas event", extra={"event_id": message["event_id"], "outcome": outcome})


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=_record, processor=processor, context=context)
    )
