"""The reconciliation queue's worker (SQS, one shop per message, partial batch failures): the shop's
charges compared with Asaas and what differs repaired; metrics for the mismatch alarm. A shop that
fails comes back alone (Asaas down for it, say) and lands in the DLQ after five tries."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.batches import within_budget
from assistec.wiring.workers import root

# A shop is started only with this much time left: it reads Asaas while more than one call's
# worst case is left, then writes what it read (a shop cut short is first in line next time).
SHOP_MIN_S = 30.0


def _record(record: SQSRecord, seconds_left: float) -> None:
    tenant_id = UUID(str(json.loads(record.body)["tenant_id"]))
    started = time.monotonic()
    try:
        report = root().reconciliation.shop(
            tenant_id, time_left=lambda: seconds_left - (time.monotonic() - started)
        )
    except Exception:
        metrics.add_metric(name="ReconciliationErrors", unit=MetricUnit.Count, value=1)
        logger.exception("reconciliation failed for a shop", extra={"tenant_id": str(tenant_id)})
        raise
    metrics.add_metric(name="ReconciliationMismatches", unit=MetricUnit.Count, value=report.mismatches)
    metrics.add_metric(name="ReconciliationShops", unit=MetricUnit.Count, value=report.shops)
    logger.info("reconciliation", extra={"tenant_id": str(tenant_id), **asdict(report)})


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return within_budget(event, context, _record, worst_case_s=lambda record: SHOP_MIN_S)
