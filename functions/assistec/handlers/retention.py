"""The daily retention job (EventBridge): purges what the retention policies say is kept no longer
(migration 0028), reports per table what went (metric ``RetentionPurged``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.base import DatabaseRoot, Installed
from assistec.wiring.schedule import run_time


def _from_environment() -> DatabaseRoot:
    from assistec.settings import DatabaseSettings

    return DatabaseRoot(DatabaseSettings(), event_bus_name=None)


_root = Installed(_from_environment)
root = _root.get
install = _root.install


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from assistec.services.retention import purge

    result = purge(
        root().database,
        now=run_time(event),
        time_left_s=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    metrics.add_metric(name="RetentionPurged", unit=MetricUnit.Count, value=result.total)
    metrics.add_metric(name="RetentionBehind", unit=MetricUnit.Count, value=0 if result.complete else 1)
    summary = {"purged": result.per_table, "rounds": result.rounds, "complete": result.complete}
    logger.info("retention", extra=summary)
    return summary
