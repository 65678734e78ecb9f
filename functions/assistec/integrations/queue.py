"""The payments queue (SQS): the webhook inbox hands each stored event to the consumer through it."""

from __future__ import annotations

import json
from typing import Any, Protocol
from uuid import UUID


class EventQueue(Protocol):
    def send(self, tenant_id: UUID, event_id: str) -> None: ...


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
