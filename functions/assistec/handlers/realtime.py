"""The staff's WebSocket (API Gateway WebSocket API; locally localstack/ws_gateway) and its pushes.

One function serves the three triggers (``handler`` tells them apart by the event's shape): they
share the database root and the management API client, and one function keeps the stack small.

- ``socket``: the API's ``$connect`` (the ``?ticket=`` from ``POST /realtime/ticket``, consumed once;
  refused 401/403, so API Gateway refuses the handshake), ``$disconnect`` and ``$default`` (the
  client's ``{"action": "ping" | "chat.send" | "chat.history", ...}``, answered on the route's
  response). One function for the three routes: they share the connection's lookup and stay warm.
- ``push``: EventBridge's domain events (new order, status change, quote decided, payment, WhatsApp,
  appointments) to the shop's connected staff, by role.
- ``sweep``: scheduled; deletes connections whose ``$disconnect`` was lost, and old tickets.

Imports stay light (no pydantic models, no boto3 until a post): ``$connect`` is on the user's path.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.realtime import root


def _connect(event: dict[str, Any], connection_id: str) -> dict[str, Any]:
    from assistec.services.realtime import Refused

    params = event.get("queryStringParameters") or {}
    ticket = params.get("ticket") if isinstance(params, dict) else None
    try:
        who = root().realtime.connect(ticket if isinstance(ticket, str) else None, connection_id)
    except Refused as refused:
        logger.info("realtime connection refused", extra={"status": refused.status, "reason": refused.reason})
        metrics.add_metric(name="RealtimeConnectRefused", unit=MetricUnit.Count, value=1)
        message = (
            "Ticket ausente ou inválido."
            if refused.status == 401
            else "Ticket expirado, já usado ou inválido."
        )
        return {"statusCode": refused.status, "body": message}
    logger.append_keys(tenant_id=str(who.tenant_id), user_id=str(who.user_id))
    logger.info("realtime connected", extra={"role": who.role.value})
    return {"statusCode": 200}


def _disconnect(connection_id: str) -> dict[str, Any]:
    root().realtime.disconnect(connection_id)
    return {"statusCode": 200}


def _message(event: dict[str, Any], connection_id: str) -> dict[str, Any]:
    body = event.get("body")
    answer = root().realtime.handle(connection_id, body if isinstance(body, str) else None)
    if answer.get("type") == "error":
        logger.info("realtime message refused", extra={"code": answer.get("code")})
    return {"statusCode": 200, "body": json.dumps(answer, ensure_ascii=False, separators=(",", ":"))}


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def socket(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event.get("requestContext") or {}
    connection_id = str(request.get("connectionId") or "")
    route = request.get("routeKey")
    logger.append_keys(connection_id=connection_id, route=route)
    if not connection_id:
        return {"statusCode": 400, "body": "no connection id"}
    if route == "$connect":
        return _connect(event, connection_id)
    if route == "$disconnect":
        return _disconnect(connection_id)
    return _message(event, connection_id)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def push(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event.get("detail")
    detail_type = event.get("detail-type")
    if not isinstance(detail, dict) or not isinstance(detail_type, str):
        logger.warning("not an EventBridge event")
        return {"pushed": False}
    logger.append_keys(
        tenant_id=detail.get("tenant_id"), event_type=detail_type, event_id=detail.get("event_id")
    )
    outcome = root().realtime.push(detail_type, detail)
    if outcome is None:
        return {"pushed": False}
    metrics.add_metric(name="RealtimePushed", unit=MetricUnit.Count, value=outcome.sent)
    metrics.add_metric(name="RealtimeGone", unit=MetricUnit.Count, value=outcome.gone)
    logger.info("realtime push", extra={"sent": outcome.sent, "gone": outcome.gone})
    return {"pushed": True, "sent": outcome.sent, "gone": outcome.gone}


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def sweep(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deleted = root().realtime.sweep()
    metrics.add_metric(
        name="RealtimeConnectionsSwept", unit=MetricUnit.Count, value=deleted.get("realtime_connections", 0)
    )
    logger.info("realtime sweep", extra=deleted)
    return deleted


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The function's entry point: API Gateway's WebSocket events (``requestContext``), EventBridge's
    schedule (source ``aws.events``: the sweep) or a domain event from the bus (the push)."""
    answer: dict[str, Any]
    if "requestContext" in event:
        answer = socket(event, context)
    elif event.get("source") == "aws.events":
        answer = sweep(event, context)
    else:
        answer = push(event, context)
    return answer
