"""API Gateway's management API of a WebSocket API's connections (``apigatewaymanagementapi``):
post a message to one connection. The endpoint is the stage's callback URL
(``https://{api}.execute-api.{region}.amazonaws.com/{stage}``; locally the gateway stand-in's,
localstack/ws_gateway), from the settings."""

from __future__ import annotations

import threading
from typing import Any, Protocol


class Connections(Protocol):
    def post(self, connection_id: str, data: bytes) -> bool:
        """Send ``data`` to the connection; False when it is gone (410), so its row is dropped."""
        ...


class ManagementApiConnections:
    """boto3's client, built on first use and shared by the threads that post in parallel."""

    def __init__(self, endpoint: str, *, max_pool: int = 16) -> None:
        self._endpoint = endpoint
        self._max_pool = max_pool
        self._client: Any = None
        self._lock = threading.Lock()

    def _api(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3  # deferred: only the functions that post load it
                from botocore.config import Config

                self._client = boto3.client(
                    "apigatewaymanagementapi",
                    endpoint_url=self._endpoint,
                    # A second try at most, soon: a slow connection must not hold back the shop's others.
                    config=Config(
                        retries={"total_max_attempts": 2, "mode": "standard"},
                        connect_timeout=2,
                        read_timeout=5,
                        max_pool_connections=self._max_pool,
                    ),
                )
            return self._client

    def post(self, connection_id: str, data: bytes) -> bool:
        client = self._api()
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
        except client.exceptions.GoneException:
            return False
        return True
