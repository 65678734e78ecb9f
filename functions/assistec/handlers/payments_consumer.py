"""SQS consumer: applies stored Asaas events, one message per event, with partial batch failures
(a message that fails goes back alone; after five tries it lands in the DLQ, which ops watch).

Messages: a shop's Asaas event, a platform account event (the shops' subscriptions), and
EventBridge's ShopSignedUp (the shop's Asaas subscription is created)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.db.connection import Database
from assistec.integrations import platform
from assistec.integrations.asaas import AsaasClient
from assistec.integrations.events import EventBridgeBus, OutboxRelay
from assistec.integrations.kms import KmsCipher
from assistec.integrations.platform import PlatformAccount
from assistec.observability import logger, metrics
from assistec.services.billing import BillingService
from assistec.services.payment_flow import SesMailer, StepFunctionsResumer
from assistec.services.payments import PaymentsService, WebhookInbox
from assistec.settings import consumer_settings

processor = BatchProcessor(event_type=EventType.SQS)


class _NoQueue:
    def send(self, tenant_id: UUID, event_id: str) -> None:  # the consumer never enqueues
        raise RuntimeError("the consumer does not enqueue")

    def send_platform(self, event_id: str) -> None:
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

    return PaymentsService(database(), KmsCipher(settings.payments_key_id), relay(), _asaas)


@cache
def resumer() -> StepFunctionsResumer:
    return StepFunctionsResumer()


@cache
def inbox() -> WebhookInbox:
    """The consumer's inbox; the reconciliation and the payment flow share its pieces."""
    return WebhookInbox(database(), _NoQueue(), relay(), payments, resumer().resume)


def platform_account() -> PlatformAccount:
    return platform.platform_account(consumer_settings().platform_asaas_secret_id)


def _asaas(environment: str, api_key: str) -> AsaasClient:
    return AsaasClient.for_account(environment, api_key, base_url=consumer_settings().asaas_base_url)


@cache
def billing() -> BillingService:
    """The shops' subscriptions (the dunning run shares it)."""
    return BillingService(
        database(), platform_account, _asaas, relay=relay(), mailer=SesMailer(consumer_settings().mail_sender)
    )


def dispatch(message: dict[str, Any]) -> str:
    """Apply one queue message; its outcome. Raises to have it retried."""
    if "platform_event_id" in message:
        return billing().apply_platform_event(str(message["platform_event_id"]))
    if message.get("detail-type") == "ShopSignedUp":
        return billing().provision(UUID(str(message["detail"]["tenant_id"])))
    return inbox().apply(UUID(message["tenant_id"]), str(message["event_id"]))


def _record(record: SQSRecord) -> None:
    message = json.loads(record.body)
    outcome = dispatch(message)
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
