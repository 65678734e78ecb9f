"""The reports to ops in both stages: one function on the database, three rules at 09:00 in Brasília
(daily, Mondays, the 1st) naming the report, the dashboard's name and reads (that dashboard; metric
data, which has no resource-level permission), the platform's mail and nothing of the shops' SMTP;
drawn on the dashboard it reads; and every metric a report reads found on the real dashboard."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aws_cdk.assertions import Template

from assistec.domain import ops_reports as rules
from assistec_infra import constants
from tests.infra.templates import _function, _nested, _nested_reference, _template
from tests.infra.test_dashboard import _dashboard

HANDLER = constants.OPS_REPORTS_HANDLER


def _stage(stage: str, local_stack: Any, prod_stack: Any) -> Template:
    return _template(local_stack if stage == "local" else prod_stack)


def _logical_id(template: Template, handler: str) -> str:
    [name] = [
        n
        for n, f in template.find_resources("AWS::Lambda::Function").items()
        if f["Properties"]["Handler"] == handler
    ]
    return name


def _statements(template: Template, function_id: str) -> list[dict[str, Any]]:
    role = template.find_resources("AWS::Lambda::Function")[function_id]["Properties"]["Role"]["Fn::GetAtt"][
        0
    ]
    return [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_one_function_reads_the_database_the_dashboard_and_mails_the_platforms_reports(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    function = _function(template, HANDLER)
    variables = function["Environment"]["Variables"]
    # The database, the stage's dashboard by name, the platform's sender
    assert "DB_SECRET_ID" in variables
    assert variables["DASHBOARD_NAME"] == f"assistec-{stage}"
    assert variables["MAIL_SENDER"] == (
        "nao-responda@assistec.local" if stage == "local" else "nao-responda@assistec.com.br"
    )
    # No alarm e-mail in these stages' context: no recipient (the reports are logged)
    assert "OPS_REPORT_EMAIL" not in variables
    # Nothing it does not use: no bus, no shop secrets' key
    assert not {"EVENT_BUS_NAME", "PAYMENTS_KEY_ID", "MAIL_KEY_ID"} & set(variables)
    statements = _statements(template, _logical_id(template, HANDLER))
    actions = set().union(*(_actions(s) for s in statements))
    assert {"ses:SendRawEmail", "cloudwatch:GetDashboard", "cloudwatch:GetMetricData"} <= actions
    assert not {a for a in actions if a.startswith(("kms:", "events:", "sqs:", "s3:"))}, actions
    # GetDashboard on the stage's dashboard only; GetMetricData on "*" (it has no resource type)
    account = "000000000000" if stage == "local" else "111111111111"
    by_action = {a: s["Resource"] for s in statements for a in _actions(s) if a.startswith("cloudwatch:")}
    assert by_action == {
        "cloudwatch:GetDashboard": f"arn:aws:cloudwatch::{account}:dashboard/assistec-{stage}",
        "cloudwatch:GetMetricData": "*",
    }
    assert "OpsReportsFunctionName" in template.to_json()["Outputs"]


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_three_rules_run_the_daily_weekly_and_monthly_reports_at_9_in_brasilia(
    stage: str, local_stack: Any, prod_stack: Any
) -> None:
    template = _stage(stage, local_stack, prod_stack)
    function_id = _logical_id(template, HANDLER)
    rules_of = {
        json.loads(target["InputTransformer"]["InputTemplate"].replace("<time>", '"t"'))["report"]: (
            rule["Properties"]["ScheduleExpression"],
            target["InputTransformer"]["InputPathsMap"],
        )
        for rule in template.find_resources("AWS::Events::Rule").values()
        for target in rule["Properties"].get("Targets", [])
        if target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    }
    # Each rule names its report and hands over the event's time (the report's clock)
    assert rules_of == {
        "daily": ("cron(0 12 * * ? *)", {"time": "$.time"}),
        "weekly": ("cron(0 12 ? * MON *)", {"time": "$.time"}),
        "monthly": ("cron(0 12 1 * ? *)", {"time": "$.time"}),
    }
    # 12:00 UTC is 09:00 in Brasília all year (no daylight saving time since 2019)
    for month in (1, 7):
        at = datetime(2026, month, 15, 12, 0, tzinfo=UTC).astimezone(ZoneInfo("America/Sao_Paulo"))
        assert (at.hour, at.minute) == (9, 0)


def test_the_function_is_on_the_dashboard_it_reads_and_alarmed(prod_stack: Any) -> None:
    template = _template(prod_stack)
    function_id = _logical_id(template, HANDLER)
    _, _, body = _dashboard(template)
    drawn = [q for q in rules.parse_dashboard(body) if q.dimension("FunctionName") == f"${{{function_id}}}"]
    assert {(q.metric, q.stat) for q in drawn} >= {
        ("Errors", "Sum"),
        ("Duration", "p99"),
        ("Throttles", "Sum"),
    }
    alarms = {
        a["Properties"]["MetricName"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions", [{}])[0].get("Value") == {"Ref": function_id}
    }
    assert alarms == {"Errors", "Throttles"}


def test_every_metric_a_report_reads_is_on_the_real_dashboard(prod_stack: Any) -> None:
    # Given the prod dashboard's body as the function will read it (references as placeholders)
    template = _template(prod_stack)
    _, _, body = _dashboard(template)
    # When the reports' parser reads it
    queries = rules.parse_dashboard(json.dumps(body))
    # Then every section of the reports finds its metrics (a renamed graph or metric fails here, not
    # in ops' inbox as "no metric on the dashboard")
    for selection in (rules.BACKUP_AGE, *rules.WEEKLY_SELECTIONS):
        assert selection.pick(queries), selection
    latency = rules.API_LATENCY.pick(queries)
    assert {(q.metric, q.stat) for q in latency} == {("Latency", "p99"), ("IntegrationLatency", "p99")}
    # And the functions' errors and the concurrency peaks cover every app function of the stack
    functions = {
        f"${{{name}}}"
        for name, f in template.find_resources("AWS::Lambda::Function").items()
        if f["Properties"]["Handler"].startswith("assistec.")
    }
    # (a nested stack's functions come through its outputs: prod nests the real-time capability)
    nested = [
        (nested_id, name)
        for nested_id, nested_template in _nested(prod_stack).items()
        for name, f in nested_template.find_resources("AWS::Lambda::Function").items()
        if f["Properties"]["Handler"].startswith("assistec.")
    ]
    assert nested

    def covered(dimensions: set[str | None]) -> bool:
        own = {d for d in dimensions if d is not None and ".Outputs." not in d}
        others = dimensions - own
        return (
            own == functions
            and len(others) == len(nested)
            and all(
                any(d is not None and _nested_reference(d, nested_id, name) for d in others)
                for nested_id, name in nested
            )
        )

    assert covered({q.dimension("FunctionName") for q in rules.FUNCTION_ERRORS.pick(queries)})
    peaks = rules.concurrency_queries(queries)
    assert covered({q.dimension("FunctionName") for q in peaks[1:]})
    assert peaks[0].dimensions == ()  # the account's
    # And every queue's age and every dead-letter queue's depth (the nested stacks' queues too)
    queues = template.find_resources("AWS::SQS::Queue")
    nested_queues = sum(len(t.find_resources("AWS::SQS::Queue")) for t in _nested(prod_stack).values())
    assert (
        len(rules.QUEUE_AGES.pick(queries)) + len(rules.DLQ_DEPTHS.pick(queries))
        == len(queues) + nested_queues
    )
    # And the providers' errors are the dashboard's graph's, its title the one the report looks for
    from assistec_infra.capabilities.dashboard import PROVIDER_ERRORS, PROVIDERS_TITLE

    assert PROVIDERS_TITLE.startswith(rules.PROVIDERS_WIDGET)
    assert [q.metric for q in rules.PROVIDER_ERRORS.pick(queries)] == [name for name, _, _ in PROVIDER_ERRORS]
    assert [q.metric for q in rules.BACKUP_AGE.pick(queries)] == [constants.BACKUP_AGE_METRIC]


class _Platform:
    """The worker platform's part the construct uses: its config, and a plain function for a worker."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def worker(self, scope: Any, construct_id: str, spec: Any, family: Any) -> Any:
        from aws_cdk import aws_lambda as lambda_

        return lambda_.Function(
            scope,
            construct_id,
            runtime=constants.PYTHON_RUNTIME,
            handler=spec.handler,
            code=lambda_.Code.from_inline("def handler(event, context): ..."),
        )


def test_the_reports_go_to_the_stages_alarm_email_when_it_has_one() -> None:
    import aws_cdk as cdk

    from assistec_infra.capabilities.ops_reports import OpsReports
    from assistec_infra.stage_config import stage_config

    # Given the prod stage deployed with an alarm e-mail (cdk deploy -c alarm_email=...)
    config = stage_config("prod", {"alarm_email": "ops@assistec.com.br"})
    stack = cdk.Stack(cdk.App(), "Reports", env=cdk.Environment(account=config.account, region=config.region))
    OpsReports(stack, "OpsReports", platform=_Platform(config))  # type: ignore[arg-type]
    # Then the reports are mailed there
    [function] = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    assert function["Properties"]["Environment"]["Variables"]["OPS_REPORT_EMAIL"] == "ops@assistec.com.br"
