"""The retention job: daily at 03:30 in Brasília, the database only, an alarm when it falls behind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assistec_infra import constants
from tests.infra.templates import _function, _template


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_retention_job_runs_daily_with_the_database_only(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _template(local_stack if stage == "local" else prod_stack)
    function = _function(template, constants.RETENTION_HANDLER)
    variables = set(function["Environment"]["Variables"])
    assert "DB_SECRET_ID" in variables
    assert not {"EVENT_BUS_NAME", "MAIL_SENDER", "PAYMENTS_KEY_ID"} & variables
    template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "cron(30 6 * * ? *)"})
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": constants.RETENTION_BEHIND_METRIC, "EvaluationPeriods": 3, "Threshold": 1},
    )
    assert "RetentionFunctionName" in template.to_json()["Outputs"]


def test_the_schedule_is_a_quiet_hour_in_brasilia_all_year() -> None:
    # EventBridge rules take UTC; Brazil has had no daylight saving time since 2019
    for month in (1, 7):
        at = datetime(2026, month, 15, 6, 30, tzinfo=UTC).astimezone(ZoneInfo("America/Sao_Paulo"))
        assert (at.hour, at.minute) == (3, 30)
