"""The payments queue (SQS): the webhook inboxes hand each stored event to the consumer through it.

Three kinds of message reach the consumer: a shop's Asaas event ``{"tenant_id", "event_id"}``, a
platform account event ``{"platform_event_id"}``, and EventBridge's ``ShopSignedUp`` (a rule on the
bus targets this queue), which provisions the shop's subscription."""

from __future__ import annotations

import json
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
