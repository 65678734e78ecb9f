"""The reports to ops against LocalStack's CloudWatch and SES.

The stage's own dashboard: LocalStack's CloudFormation skips it, `make up` puts it through the
CloudWatch API (localstack/devctl/dashboard.py); GetDashboard answers it with the deployed stack's
functions, queues and alarms, and the deployed reports function reads it. The weekly report's
numbers: a dashboard of this run put beside metric points of last week; the real boto3 reader gets
the dashboard and the numbers through GetMetricData, and the report e-mailed through the local SES
shows them. LocalStack's GetMetricData has no percentiles: the API's p99 line says it is unavailable,
and why, the rest stands."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assistec.domain.ops_reports import weekly_window
from tests.conftest import LambdaContext
from tests.e2e.shops import mails_to, wait_for
from tests.support_ops_reports import small_dashboard


@pytest.fixture
def reports_root(stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from assistec.settings import OpsReportSettings
    from assistec.wiring import ops_reports as wiring

    # The function's boto3 clients, pointed at LocalStack as the local stage's executor points them
    for name, value in {
        "AWS_ENDPOINT_URL": stack["localstack_url"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }.items():
        monkeypatch.setenv(name, value)
    yield lambda settings: wiring.install(wiring.OpsReportsRoot(OpsReportSettings(**settings)))
    wiring.install(None)


def test_the_weekly_report_reads_a_dashboards_metrics_from_cloudwatch_and_mails_them(
    stack: dict[str, Any], aws: Any, reports_root: Any
) -> None:
    cloudwatch = aws("cloudwatch")
    run = uuid.uuid4().hex[:10]
    name = f"assistec-e2e-reports-{run}"
    api, fn_api, fn_consumer = f"api-{run}", f"fn-api-{run}", f"fn-consumer-{run}"
    queue, dlq = f"events-{run}", f"events-dlq-{run}"
    namespace = f"AssistecE2E{run}"  # the providers' errors: by their graph, in a namespace of this run
    ops = f"ops-{run}@exemplo.com.br"
    # Given a dashboard shaped like the stage's, and last week's points of the metrics it draws
    body = small_dashboard(
        api=api, functions={"API": fn_api, "Payments consumer": fn_consumer}, queue=queue, dlq=dlq,
        app_namespace=namespace,
    )  # fmt: skip
    cloudwatch.put_dashboard(DashboardName=name, DashboardBody=json.dumps(body))
    now = datetime.now(UTC)
    wednesday = weekly_window(now).start + timedelta(days=2, hours=9)

    def put(ns: str, metric: str, dims: dict[str, str], *values: float) -> None:
        cloudwatch.put_metric_data(
            Namespace=ns,
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    "Timestamp": wednesday + timedelta(minutes=5 * i),
                    "Value": value,
                }
                for i, value in enumerate(values)
            ],
        )

    put("AWS/ApiGateway", "Latency", {"ApiName": api}, 120, 950, 300)
    put("AWS/ApiGateway", "Count", {"ApiName": api}, 100, 200, 700)
    put("AWS/ApiGateway", "4XXError", {"ApiName": api}, 20, 5)
    put("AWS/ApiGateway", "5XXError", {"ApiName": api}, 1)
    put("AWS/Lambda", "Errors", {"FunctionName": fn_consumer}, 2, 3)
    put("AWS/Lambda", "Errors", {"FunctionName": fn_api}, 0)
    put("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": queue}, 30, 200)
    put("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": dlq}, 4, 1)
    put(namespace, "WhatsappSendFailures", {"service": "assistec"}, 7)
    try:
        # When the weekly report runs (the function's root: the real CloudWatch reader and SES sender)
        reports_root(
            {
                "database_url": stack["database_url"],  # (the weekly report reads no table)
                "stage": "local",
                "dashboard_name": name,
                "ops_report_email": ops,
                "mail_sender": stack["mail_sender"],
                "mail_configuration_set": stack["mail_configuration_set"],
            }
        )
        from assistec.handlers import ops_reports

        output = ops_reports.handler({"report": "weekly", "time": now.isoformat()}, LambdaContext())
    finally:
        cloudwatch.delete_dashboards(DashboardNames=[name])

    # Then the report shows last week's numbers, read through GetMetricData
    sections = {heading: rows for heading, rows in output["sections"]}
    api_rows = sections["API (semana)"]
    # LocalStack answers a percentile with an internal error: said, not hidden (AWS answers 950 ms)
    assert api_rows[0] in ("Latency p99: 950 ms",) or api_rows[0].startswith(
        "latência p99: indisponível: "
    ), api_rows
    assert api_rows[1:] == ["Requests: 1.000", "4XX: 25 (2,50% dos pedidos)", "5XX: 1 (0,10% dos pedidos)"]
    assert sections["Funções: erros (semana)"] == ["Payments consumer: 5", "demais 1: 0"]
    assert sections["Filas: mensagem mais antiga (máximo da semana)"] == ["Payments/Events: 3 min 20 s"]
    assert sections["Filas de falhas (DLQ): mensagens esperando (máximo da semana)"] == [
        "Payments/EventsDlq: 4"
    ]
    assert sections["Provedores: erros (semana)"] == ["Evolution: sends failed or unknown: 7", "demais 1: 0"]
    # And ops got it through SES
    assert output["mailed_to"] == ops
    [mail] = wait_for("the report in LocalStack's SES", lambda: mails_to(stack, ops), timeout_s=60)
    window = weekly_window(now)
    assert mail["subject"] == f"[assistec] Desempenho da semana de {window.label} (local)"
    for row in ("Requests: 1.000", "Payments consumer: 5", "Payments/Events: 3 min 20 s"):
        assert row in mail["text"]


def test_without_its_dashboard_the_report_says_so(stack: dict[str, Any], reports_root: Any) -> None:
    # Given a stage whose dashboard does not exist
    missing = f"assistec-e2e-missing-{uuid.uuid4().hex[:10]}"
    reports_root(
        {
            "database_url": stack["database_url"],
            "stage": "local",
            "dashboard_name": missing,
            "ops_report_email": None,
        }
    )
    from assistec.handlers import ops_reports

    # When the weekly report runs
    output = ops_reports.handler({"report": "weekly"}, LambdaContext())
    # Then each section says the dashboard could not be read, with CloudWatch's own reason
    rows = [row for _, section in output["sections"] for row in section]
    assert rows
    assert all(f"painel {missing} não lido: GetDashboard: " in row for row in rows), rows
    assert "does not exist" in rows[0]
    assert output["mailed_to"] is None


def _stack_resources(aws: Any, stack: dict[str, Any], resource_type: str) -> list[str]:
    pages = (
        aws("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack["stack_name"])
    )
    return [
        r["PhysicalResourceId"]
        for page in pages
        for r in page["StackResourceSummaries"]
        if r["ResourceType"] == resource_type
    ]


def _template_widgets(aws: Any, stack: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The deployed template's dashboard widgets (type, title); references read as empty text."""
    template = aws("cloudformation").get_template(StackName=stack["stack_name"])["TemplateBody"]
    template = json.loads(template) if isinstance(template, str) else template
    [dashboard] = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    separator, parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"]
    body = json.loads(separator.join(p if isinstance(p, str) else "" for p in parts))
    return [(w["type"], w["properties"].get("title")) for w in body["widgets"]]


def test_the_local_stage_has_its_dashboard_with_the_deployed_names(stack: dict[str, Any], aws: Any) -> None:
    # Given the deployed stack (LocalStack's CloudFormation skipped its dashboard; `make up` put it)
    functions = set(_stack_resources(aws, stack, "AWS::Lambda::Function"))
    alarm_names = _stack_resources(aws, stack, "AWS::CloudWatch::Alarm")
    alarms = [
        a["AlarmArn"]
        for first in range(0, len(alarm_names), 100)
        for a in aws("cloudwatch").describe_alarms(AlarmNames=alarm_names[first : first + 100])[
            "MetricAlarms"
        ]
    ]
    queues = {url.rsplit("/", 1)[1] for url in _stack_resources(aws, stack, "AWS::SQS::Queue")}
    # When ops (or the reports) ask CloudWatch for the stage's dashboard
    assert stack["dashboard_name"] == "assistec-local"
    body = json.loads(aws("cloudwatch").get_dashboard(DashboardName="assistec-local")["DashboardBody"])
    # Then it is the template's dashboard, widget for widget
    widgets = body["widgets"]
    assert [(w["type"], w["properties"].get("title")) for w in widgets] == _template_widgets(aws, stack)
    # And it names the deployed resources: every alarm by its ARN, functions and queues by name
    shown = [arn for w in widgets if w["type"] == "alarm" for arn in w["properties"]["alarms"]]
    assert len(alarms) == len(alarm_names) >= 50
    assert sorted(shown) == sorted(alarms)
    drawn = {
        row[row.index(dimension) + 1]
        for w in widgets
        if w["type"] == "metric"
        for row in w["properties"]["metrics"]
        for dimension in ("FunctionName", "QueueName")
        if dimension in row
    }
    drawn_functions = drawn - queues
    assert len(drawn_functions) >= 15
    assert drawn_functions <= functions, sorted(drawn_functions - functions)
    assert queues <= drawn, sorted(queues - drawn)
    assert not [w for w in widgets if "${" in json.dumps(w)]


def _invoke_report(aws: Any, stack: dict[str, Any], report: str) -> dict[str, Any]:
    answer = aws("lambda").invoke(
        FunctionName=stack["ops_reports_function_name"],
        Payload=json.dumps({"report": report, "time": datetime.now(UTC).isoformat()}).encode(),
    )
    output: dict[str, Any] = json.loads(answer["Payload"].read())
    assert not answer.get("FunctionError"), output
    return output


def test_the_deployed_daily_and_weekly_reports_read_the_stages_dashboard(
    stack: dict[str, Any], aws: Any
) -> None:
    # Given the stage's dashboard, put by `make up`
    body = json.loads(aws("cloudwatch").get_dashboard(DashboardName="assistec-local")["DashboardBody"])
    [queues_widget] = [
        w for w in body["widgets"] if w["properties"].get("title") == "Queues: oldest message (s)"
    ]
    queue_labels = {row[-1]["label"] for row in queues_widget["properties"]["metrics"]}
    # When the deployed function runs the weekly and the daily report (as EventBridge's rules do)
    weekly = _invoke_report(aws, stack, "weekly")
    daily = _invoke_report(aws, stack, "daily")
    # Then neither says the dashboard was not read, nor that a section's metrics are not on it
    rows = [row for output in (weekly, daily) for _, section in output["sections"] for row in section]
    assert not [row for row in rows if "não lido" in row or "nenhuma métrica" in row], rows
    # And the weekly report lists every queue the dashboard draws, by its label there
    weekly_sections = {heading: section for heading, section in weekly["sections"]}
    ages = weekly_sections["Filas: mensagem mais antiga (máximo da semana)"]
    assert {row.rsplit(": ", 1)[0] for row in ages} == queue_labels
    assert not [r for r in weekly_sections["Funções: erros (semana)"] if "indisponível" in r]
    # And the daily one reads the backups' age from the dashboard (a value, or no point yet)
    [age] = [row for _, section in daily["sections"] for row in section if row.startswith("BackupAgeHours")]
    assert age.endswith((" h", ": sem dados")), age
    assert "indisponível" not in age
