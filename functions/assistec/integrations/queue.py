"""The payments queue (SQS): the webhook inboxes hand each stored event to the consumer through it.

Three kinds of message reach the consumer: a shop's Asaas event ``{"tenant_id", "event_id"}``, a
platform account event ``{"platform_event_id"}``, and EventBridge's ``ShopSignedUp`` (a rule on the
bus targets this queue), which provisions the shop's subscription."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol
from uuid import UUID


class EventQueue(Protocol):
    def send(self, tenant_id: UUID, event_id: str) -> None: ...

    def send_platform(self, event_id: str) -> None: ...


class SqsEventQueue:
    def __init__(self, queue_url: str) -> None:
        self._url = queue_url
        self._client: Any = None

    def _sqs(self) -> Any:
        if self._client is None:
            import boto3  # deferred: only the webhook route and the sweeper send

            self._client = boto3.client("sqs")
        return self._client

    def send(self, tenant_id: UUID, event_id: str) -> None:
        self._sqs().send_message(
            QueueUrl=self._url, MessageBody=json.dumps({"tenant_id": str(tenant_id), "event_id": event_id})
        )

    def send_platform(self, event_id: str) -> None:
        """A delivery of the platform account's webhook (the shops' subscriptions)."""
        self._sqs().send_message(QueueUrl=self._url, MessageBody=json.dumps({"platform_event_id": event_id}))


class ShopQueue(Protocol):
    """The reconciliation queue: one message per shop to reconcile (``{"tenant_id"}``)."""

    def send_shops(self, tenant_ids: list[UUID]) -> None: ...


class SqsShopQueue:
    def __init__(self, queue_url: str) -> None:
        self._url = queue_url
        self._client: Any = None

    def send_shops(self, tenant_ids: list[UUID]) -> None:
        """Ten to a request (SQS's batch); raises when SQS refused any (the fan-out's rule retries,
        and a shop enqueued twice is skipped by the worker as recently reconciled)."""
        if self._client is None:
            import boto3  # deferred: only the reconciliation's fan-out sends

            self._client = boto3.client("sqs")
        for start in range(0, len(tenant_ids), 10):
            chunk = tenant_ids[start : start + 10]
            answer = self._client.send_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "MessageBody": json.dumps({"tenant_id": str(t)})}
                    for i, t in enumerate(chunk)
                ],
            )
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused {len(answer['Failed'])} reconciliation messages")


class WhatsappQueue(Protocol):
    """WhatsApp's two queues: Evolution's stored deliveries for the consumer (``inbound``, held back
    ``delay_s`` so a burst of messages is answered once), and the messages to send through the shop's
    number (``outbound``, paced per number by the sender)."""

    def inbound(self, tenant_id: UUID, instance: str, delivery_id: str, *, delay_s: int = 0) -> None: ...

    def outbound(self, tenant_id: UUID, message_id: UUID) -> None: ...

    def media(self, tenant_id: UUID, message_id: UUID) -> None: ...


class SqsWhatsappQueue:
    def __init__(self, inbound_url: str | None, outbound_url: str | None) -> None:
        self._inbound_url = inbound_url
        self._outbound_url = outbound_url
        self._client: Any = None

    def _sqs(self) -> Any:
        if self._client is None:
            import boto3  # deferred: only WhatsApp's routes and workers send

            self._client = boto3.client("sqs")
        return self._client

    def inbound(self, tenant_id: UUID, instance: str, delivery_id: str, *, delay_s: int = 0) -> None:
        if not self._inbound_url:
            raise RuntimeError("WHATSAPP_QUEUE_URL is not set")
        body = {"tenant_id": str(tenant_id), "instance": instance, "delivery_id": delivery_id}
        self._sqs().send_message(
            QueueUrl=self._inbound_url, MessageBody=json.dumps(body), DelaySeconds=max(0, min(delay_s, 900))
        )

    def outbound(self, tenant_id: UUID, message_id: UUID) -> None:
        if not self._outbound_url:
            raise RuntimeError("WHATSAPP_SEND_QUEUE_URL is not set")
        body = {"tenant_id": str(tenant_id), "message_id": str(message_id)}
        self._sqs().send_message(QueueUrl=self._outbound_url, MessageBody=json.dumps(body))

    def media(self, tenant_id: UUID, message_id: UUID) -> None:
        """A customer's media message to fetch to S3 (the sender talks to Evolution)."""
        if not self._outbound_url:
            raise RuntimeError("WHATSAPP_SEND_QUEUE_URL is not set")
        body = {"tenant_id": str(tenant_id), "media_message_id": str(message_id)}
        self._sqs().send_message(QueueUrl=self._outbound_url, MessageBody=json.dumps(body))


class CalendarQueue(Protocol):
    def push(self, items: list[tuple[UUID, UUID]]) -> None:
        """Appointments ``(tenant_id, appointment_id)`` to mirror to Google again."""
        ...


class SqsCalendarQueue:
    """The calendar queue: the sweep's retries (``AppointmentChanged`` arrives from EventBridge)."""

    def __init__(self, url: str | None) -> None:
        self._url = url
        self._client: Any = None

    def push(self, items: list[tuple[UUID, UUID]]) -> None:
        if not self._url:
            raise RuntimeError("CALENDAR_QUEUE_URL is not set")
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        for start in range(0, len(items), 10):
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": json.dumps({"tenant_id": str(t), "appointment_id": str(a)}),
                }
                for i, (t, a) in enumerate(items[start : start + 10])
            ]
            answer = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused {len(answer['Failed'])} calendar messages")


def dead_letter_depths(urls: Mapping[str, str]) -> dict[str, int | None]:
    """How many messages each queue holds (SQS's approximate count); None for one SQS would not tell
    within a second. A health check: short timeouts, no retries."""
    if not urls:
        return {}
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "sqs", config=Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1})
    )
    depths: dict[str, int | None] = {}
    for name, url in urls.items():
        try:
            attributes = client.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            depths[name] = int(attributes["ApproximateNumberOfMessages"])
        except Exception:
            depths[name] = None
    return depths
