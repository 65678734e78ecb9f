"""Hourly (EventBridge rule): reconcile every shop's charges with Asaas; metrics for the alarm."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.workers import root


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = root().reconciliation.run()
    metrics.add_metric(name="ReconciliationMismatches", unit=MetricUnit.Count, value=report.mismatches)
    metrics.add_metric(name="ReconciliationErrors", unit=MetricUnit.Count, value=report.errors)
    logger.info("reconciliation", extra=asdict(report))
    return asdict(report)
