"""The backup flow's tasks (Step Functions; the daily schedule starts it at 02:00 America/Sao_Paulo)
and the weekly restore test. Errors propagate: the state machine's Retry/Catch decide.

- ``shops``  ``{"date"?: "YYYY-MM-DD"}`` → ``{"date", "shops": [{"tenant_id"}]}``: the run's day (the
  input's, else today in São Paulo) and every shop backed up;
- ``export`` ``{"tenant_id", "date"}`` → ``{"tenant_id", "key", "bytes", "rows", "skipped"}``: the
  shop's bundle of the day at ``shops/<tenant_id>/<date>.bundle`` (tagged retention=daily|weekly|
  monthly, copied to the second bucket); ``skipped`` when it was stored already;
- ``finish`` ``{"date", "results"?: [...]}`` → the run's summary; metrics ``BackupAgeHours`` (the
  age of the oldest newest-good-bundle among the shops) and ``BackupFailures`` (results carrying an
  ``error``: the Map's Catch puts it there; without ``results``, the shops with no good bundle of the
  day in ``backup_runs``);
- ``restore_test`` ``{"limit"?: 20}`` → ``{"tested", "failed", "results"}``; metric
  ``RestoreTestFailures``.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.backup import root

RESTORE_TEST_LIMIT = 20


def _day(event: dict[str, Any]) -> date:
    value = event.get("date")
    return date.fromisoformat(value) if isinstance(value, str) and value else root().runs.today()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def shops(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = _day(event)
    found = root().runs.shops()
    logger.info("backup shops", extra={"date": day.isoformat(), "shops": len(found)})
    return {"date": day.isoformat(), "shops": [{"tenant_id": str(t)} for t in found]}


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def export(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tenant_id = UUID(str(event["tenant_id"]))
    day = date.fromisoformat(str(event["date"]))
    logger.append_keys(tenant_id=str(tenant_id))
    outcome = root().runs.export(tenant_id, day)
    logger.info("backup export", extra=outcome.as_dict())
    return outcome.as_dict()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def finish(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    results = event.get("results")
    summary = root().runs.finish(_day(event), results if isinstance(results, list) else None)
    metrics.add_metric(name="BackupAgeHours", unit=MetricUnit.Count, value=summary.age_hours)
    metrics.add_metric(name="BackupFailures", unit=MetricUnit.Count, value=summary.failed)
    logger.info("backup run", extra=summary.as_dict())
    return summary.as_dict()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def restore_test(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    r = root()
    limit = int(event.get("limit") or RESTORE_TEST_LIMIT)
    summary = r.runs.restore_test(r.scratch_database, max(1, min(limit, 500)))
    metrics.add_metric(name="RestoreTestFailures", unit=MetricUnit.Count, value=summary.failed)
    logger.info("restore test", extra={"tested": summary.tested, "failed": summary.failed})
    return summary.as_dict()
