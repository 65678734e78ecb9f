"""The data exports worker (SQS, the data exports queue, one message at a time; partial batch
failures): EventBridge's ``DataExportRequested`` ``{"tenant_id", "export_id"}`` — the owner's zip of
the shop's data made once (services/data_exports.py). A duplicate delivery does nothing; an error on
the export's own row returns the message to the queue (DLQ after five tries). Metrics: ``DataExportsReady``
and ``DataExportFailures`` (its alarm)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.batches import within_budget
from assistec.wiring.data_exports import root

# An export is started only with this much of the invocation left (one message per invocation: the
# whole timeout, 15 minutes, minus the runtime's start).
EXPORT_MIN_S = 60.0


def _export(record: SQSRecord, seconds_left: float) -> None:
    message = json.loads(record.body)
    detail = message.get("detail", message) if message.get("detail-type") else message
    tenant_id, export_id = UUID(str(detail["tenant_id"])), UUID(str(detail["export_id"]))
    logger.append_keys(tenant_id=str(tenant_id), export_id=str(export_id))
    outcome = root().runner.run(tenant_id, export_id)
    if outcome == "ready":
        metrics.add_metric(name="DataExportsReady", unit=MetricUnit.Count, value=1)
    elif outcome == "failed":
        metrics.add_metric(name="DataExportFailures", unit=MetricUnit.Count, value=1)
    logger.info("data export", extra={"outcome": outcome})


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def worker(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return within_budget(event, context, _export, worst_case_s=lambda record: EXPORT_MIN_S)
