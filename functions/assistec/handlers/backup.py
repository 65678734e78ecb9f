"""The backup flow's tasks (Step Functions; the daily schedule starts it at 02:00 America/Sao_Paulo)
and the weekly restore test. Errors propagate: the state machine's Retry/Catch decide.

- ``shops``  ``{"date"?: "YYYY-MM-DD", "tenant_ids"?: [...]}`` → ``{"date", "shops": <count>,
  "list_key"}``: the run's day (the input's, else today in São Paulo), and every shop backed up (or
  those named: a run for a few shops) written to the backup bucket as a JSON array of
  ``{"tenant_id"}`` at ``list_key`` (the flow's Distributed Map reads it there);
- ``export`` ``{"tenant_id", "date"}`` → ``{"tenant_id", "key", "bytes", "rows", "skipped"}``: the
  shop's bundle of the day at ``shops/<tenant_id>/<date>.bundle`` (tagged retention=daily|weekly|
  monthly, copied to the second bucket); ``skipped`` when it was stored already;
- ``finish`` ``{"date", "list_key"?, "results"?: [...]}`` → the run's summary; metrics
  ``BackupAgeHours`` (the age of the oldest newest-good-bundle among the shops) and
  ``BackupFailures``: the run's shops (those of its list, else all) with no good bundle of the day in
  ``backup_runs`` (the flow passes no results: a Distributed Map's do not come back into the state);
  given ``results`` (a manual run), those carrying an ``error``;
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
    named = event.get("tenant_ids")
    only = [UUID(str(t)) for t in named] if isinstance(named, list) else None
    key, count = root().runs.list_shops(day, only)
    logger.info("backup shops", extra={"date": day.isoformat(), "shops": count, "list_key": key})
    return {"date": day.isoformat(), "shops": count, "list_key": key}


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
    results, list_key = event.get("results"), event.get("list_key")
    summary = root().runs.finish(
        _day(event),
        results if isinstance(results, list) else None,
        list_key=list_key if isinstance(list_key, str) and list_key else None,
    )
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
