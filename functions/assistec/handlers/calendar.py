"""Scheduling's functions:

- ``worker`` (SQS, the calendar queue; partial batch failures): EventBridge's ``AppointmentChanged``
  and the scheduled pass's retries ``{"tenant_id", "appointment_id"}`` — the appointment mirrored to
  the shop's Google Calendar (one insert/patch/delete under a 10 s budget, plus a token refresh);
- ``scheduled`` (EventBridge, every 5 minutes): the pass of ``services/scheduling/jobs.py``;
- ``reminders`` (EventBridge, every 5 minutes): the reminders due at the input's ``now`` (the rule
  sends none: the event's own time), on WhatsApp or by e-mail, once each.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger, metrics
from assistec.wiring.batches import within_budget
from assistec.wiring.calendar import root
from assistec.wiring.schedule import run_time

PUSH_WORST_CASE_S = 25.0  # a refresh and a call, each within the client's 10 s budget, plus the database


def _push(record: SQSRecord, seconds_left: float) -> None:
    message = json.loads(record.body)
    detail = message.get("detail", message) if message.get("detail-type") else message
    outcome = root().sync.push(UUID(str(detail["tenant_id"])), UUID(str(detail["appointment_id"])))
    if outcome in ("failed", "reconnect"):
        metrics.add_metric(name="CalendarSyncFailures", unit=MetricUnit.Count, value=1)
    logger.info("calendar push", extra={"outcome": outcome, "appointment_id": detail["appointment_id"]})


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def worker(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return within_budget(event, context, _push, worst_case_s=lambda record: PUSH_WORST_CASE_S)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def scheduled(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from assistec.services.scheduling.jobs import calendar_pass

    r = root()
    result = calendar_pass(
        r.database,
        r.calendar_queue,
        r.sync,
        r.availability,
        now=run_time(event),
        time_left_s=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    if result.failed:
        metrics.add_metric(name="CalendarPassFailures", unit=MetricUnit.Count, value=len(result.failed))
    summary = {
        "requeued": result.requeued,
        "shops": result.shops,
        "deferred": result.deferred,
        "moved": result.moved,
        "cancelled": result.cancelled,
        "failed": len(result.failed),
    }
    logger.info("calendar pass", extra=summary)
    return summary


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def reminders(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = root().reminders.run(run_time(event))
    metrics.add_metric(name="RemindersSent", unit=MetricUnit.Count, value=result.whatsapp + result.email)
    if result.failed:
        metrics.add_metric(name="ReminderFailures", unit=MetricUnit.Count, value=len(result.failed))
    summary = {"whatsapp": result.whatsapp, "email": result.email, "none": result.none,
               "skipped": result.skipped, "failed": len(result.failed)}  # fmt: skip
    logger.info("appointment reminders", extra=summary)
    return summary
