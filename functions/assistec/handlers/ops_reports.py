"""The reports to ops (EventBridge, three rules on one function): ``daily`` (backups, 09:00 in
Brasília), ``weekly`` (performance, Mondays) and ``monthly`` (capacity, the 1st). ``handler`` runs the
one the rule's input names (``{"report": "daily", "time": <the event's time>}``); each answers with
the report it built (and where it was mailed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from assistec.observability import logger
from assistec.wiring.ops_reports import root
from assistec.wiring.schedule import run_time

if TYPE_CHECKING:
    from assistec.domain.ops_reports import ReportKind


def _run(kind: ReportKind, event: dict[str, Any]) -> dict[str, Any]:
    delivered = root().reports.run(kind, run_time(event))
    logger.info("ops report delivered", extra={"report": kind, "mailed_to": delivered.mailed_to})
    return delivered.output()


@logger.inject_lambda_context(clear_state=True)
def daily(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _run("daily", event)


@logger.inject_lambda_context(clear_state=True)
def weekly(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _run("weekly", event)


@logger.inject_lambda_context(clear_state=True)
def monthly(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _run("monthly", event)


_REPORTS = {"daily": daily, "weekly": weekly, "monthly": monthly}


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = event.get("report")
    if report not in _REPORTS:
        raise ValueError(f"unknown report {report!r}: the rule's input names daily, weekly or monthly")
    return _REPORTS[report](event, context)
