"""Daily (EventBridge rule): the shops' subscriptions: create what signup could not, re-read late
invoices from Asaas, suspend past the grace period, bring back who paid, e-mail the owners."""

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
    report = root().dunning.run()
    for name, value in (
        ("DunningNotices", report.notices),
        ("ShopsPastDue", report.past_due),
        ("ShopsSuspended", report.suspended),
        ("ShopsReactivated", report.reactivated),
        ("DunningErrors", report.errors),
        ("ProvisioningRefused", report.provisioning_refused),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    return asdict(report)
