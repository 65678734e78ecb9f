"""Hourly (EventBridge rule): the reconciliation's fan-out, one message per shop due on the
reconciliation queue (the shops reconciled longest ago first); handlers/reconcile_shop.py
reconciles each. Metrics for the dashboard: how many shops were enqueued."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.workers import root


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services = root()
    enqueued = services.reconciliation.fan_out(services.reconcile_queue)
    metrics.add_metric(name="ReconciliationShopsEnqueued", unit=MetricUnit.Count, value=enqueued)
    logger.info("reconciliation fan-out", extra={"enqueued": enqueued})
    return {"enqueued": enqueued}
