"""The events API Gateway sends a WebSocket API's Lambda proxy integrations, in AWS's shapes
(tests/fixtures/apigw_websocket: real CONNECT, MESSAGE and DISCONNECT events), and its ids.

Pure functions: the gateway passes in the clock and the ids, the tests compare the shapes.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Hop-by-hop headers of the handshake: API Gateway does not pass them on.
_DROPPED_HEADERS = {"connection", "upgrade"}

# The close of a client that sent a close frame without a status code, in API Gateway's words
# (the recorded DISCONNECT event).
NO_STATUS_CODE = 1005
NO_STATUS_REASON = "Client-side close frame status not set"


def new_id() -> str:
    """A connection, request or message id in API Gateway's format: 11 random bytes, URL-safe
    base64 with its padding ("BFHPhfCWIAMCKlQ=")."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def trace_id(now_ms: int) -> str:
    return f"Root=1-{now_ms // 1000:08x}-{secrets.token_hex(12)}"


def request_time(epoch_ms: int) -> str:
    """``11/Nov/2024:11:35:24 +0000``: the CLF time of ``requestContext.requestTime``."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


@dataclass(frozen=True)
class Connection:
    """What API Gateway knows of a connection once it is opened."""

    connection_id: str
    api_id: str
    stage: str
    domain_name: str
    connected_at_ms: int
    source_ip: str
    user_agent: str | None


def _identity(conn: Connection) -> dict[str, str]:
    identity = {"sourceIp": conn.source_ip}
    if conn.user_agent is not None:
        identity["userAgent"] = conn.user_agent
    return identity


def _request_context(
    conn: Connection, route_key: str, event_type: str, now_ms: int, request_id: str
) -> dict[str, Any]:
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(now_ms),
        "messageDirection": "IN",
        "stage": conn.stage,
        "connectedAt": conn.connected_at_ms,
        "requestTimeEpoch": now_ms,
        "identity": _identity(conn),
        "requestId": request_id,
        "domainName": conn.domain_name,
        "connectionId": conn.connection_id,
        "apiId": conn.api_id,
    }


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """API Gateway's two views of repeated names: the last value, and all of them."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def connect_event(
    conn: Connection,
    headers: list[tuple[str, str]],
    query: list[tuple[str, str]],
    *,
    port: int,
    now_ms: int,
    request_id: str,
) -> dict[str, Any]:
    """The ``$connect`` event: the handshake's headers (hop-by-hop ones dropped, API Gateway's
    ``X-Forwarded-*`` and trace id added) and its query string (absent when there is none)."""
    forwarded = [(name, value) for name, value in headers if name.lower() not in _DROPPED_HEADERS]
    forwarded += [
        ("X-Amzn-Trace-Id", trace_id(now_ms)),
        ("X-Forwarded-For", conn.source_ip),
        ("X-Forwarded-Port", str(port)),
        ("X-Forwarded-Proto", "http"),  # ws:// locally; API Gateway only speaks wss:// (https)
    ]
    single, multi = _single_and_multi(forwarded)
    event: dict[str, Any] = {"headers": single, "multiValueHeaders": multi}
    if query:
        event["queryStringParameters"], event["multiValueQueryStringParameters"] = _single_and_multi(query)
    event["requestContext"] = _request_context(conn, "$connect", "CONNECT", now_ms, request_id)
    event["isBase64Encoded"] = False
    return event


def message_event(
    conn: Connection, route_key: str, body: str, *, now_ms: int, request_id: str, message_id: str
) -> dict[str, Any]:
    """A message's event: its route, its body as received (text frames only: API Gateway refuses
    binary ones, so ``isBase64Encoded`` is always false)."""
    context = _request_context(conn, route_key, "MESSAGE", now_ms, request_id)
    return {
        "requestContext": {"routeKey": route_key, "messageId": message_id, **context},
        "body": body,
        "isBase64Encoded": False,
    }


def disconnect_event(
    conn: Connection, status_code: int, reason: str, *, now_ms: int, request_id: str
) -> dict[str, Any]:
    """The ``$disconnect`` event, sent after the connection closed (best effort, as in AWS), with
    the headers API Gateway puts on it."""
    headers = {"Host": conn.domain_name, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    context = _request_context(conn, "$disconnect", "DISCONNECT", now_ms, request_id)
    return {
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": {
            "routeKey": "$disconnect",
            "disconnectStatusCode": status_code,
            "disconnectReason": reason,
            **context,
        },
        "isBase64Encoded": False,
    }
