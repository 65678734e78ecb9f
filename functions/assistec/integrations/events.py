"""EventBridge: the bus the outbox relay (services/outbox.py) publishes domain events to."""

from __future__ import annotations

from typing import Any, Protocol


class EventBus(Protocol):
    def put(self, entries: list[dict[str, Any]]) -> list[bool]:
        """Send the entries; one success flag per entry, in order."""
        ...


class EventBridgeBus:
    def __init__(self, bus_name: str) -> None:
        self._bus_name = bus_name
        self._client: Any = None

    def _events(self) -> Any:
        if self._client is None:
            import boto3  # deferred: only requests that publish need it

            self._client = boto3.client("events")
        return self._client

    def put(self, entries: list[dict[str, Any]]) -> list[bool]:
        response = self._events().put_events(
            Entries=[{**entry, "EventBusName": self._bus_name} for entry in entries]
        )
        return ["ErrorCode" not in result for result in response["Entries"]]
