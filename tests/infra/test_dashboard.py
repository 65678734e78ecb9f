"""The stage's CloudWatch dashboard and the alarms' runbook (issue §4 "Monitoring"), on the prod
template: one dashboard shows the API, every function, flow and queue of the stack, the app's own
metrics and every alarm's state; every alarm tells the alarm topic when it fires and when it clears,
and has its line in README's "Runbook: alarms"."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from assistec_infra import constants
from assistec_infra.capabilities.monitoring import RUNBOOK_KEY
from tests.infra.templates import _nested, _nested_reference, _template

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
HANDLERS = ROOT / "functions" / "assistec" / "handlers"
# The handler of the CDK's own deploy-time functions (here: the VPC's default security group
# restricted at deploy); they run only inside a deploy, whose failure CloudFormation reports.
CDK_PROVIDER_HANDLER = "__entrypoint__.handler"


@pytest.fixture(scope="module")
def prod(prod_stack: Any) -> Template:
    return _template(prod_stack)


def _token(part: Any) -> str:
    """A part of the body's Fn::Join as text: a reference becomes ``${LogicalId}`` or
    ``${LogicalId.Attribute}``."""
    if isinstance(part, str):
        return part
    if list(part) == ["Ref"]:
        return f"${{{part['Ref']}}}"
    if list(part) == ["Fn::GetAtt"]:
        resource, attribute = part["Fn::GetAtt"]
        return f"${{{resource}.{attribute}}}"
    raise AssertionError(f"unexpected token in the dashboard body: {part}")


def _dashboard(template: Template) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The stack's one dashboard: its logical id, its properties and its body (references as text)."""
    dashboards = template.find_resources("AWS::CloudWatch::Dashboard")
    assert len(dashboards) == 1, sorted(dashboards)
    [(logical_id, dashboard)] = dashboards.items()
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, dict):
        separator, parts = body["Fn::Join"]
        body = separator.join(_token(part) for part in parts)
    return logical_id, dashboard["Properties"], json.loads(body)


def _graphed(body: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, str], str | None]]:
    """Every metric the body's graphs draw: namespace, name, dimensions and statistic."""
    for widget in body["widgets"]:
        for row in widget.get("properties", {}).get("metrics", []):
            options = row[-1] if isinstance(row[-1], dict) else {}
            namespace, name, *dimensions = row[:-1] if options else row
            yield (
                namespace,
                name,
                dict(zip(dimensions[::2], dimensions[1::2], strict=True)),
                options.get("stat"),
            )


def _drawn(body: dict[str, Any], namespace: str, dimension: str, value: str) -> set[tuple[str, str | None]]:
    """(metric, statistic) drawn for one resource: those of ``namespace`` whose ``dimension`` is ``value``."""
    return {
        (name, stat)
        for ns, name, dims, stat in _graphed(body)
        if ns == namespace and dims.get(dimension) == value
    }


def _alarm_topic(template: Template) -> str:
    return str(template.to_json()["Outputs"]["AlarmTopicArn"]["Value"]["Ref"])


def test_one_dashboard_named_for_the_stage_and_given_as_an_output(prod: Template) -> None:
    # Given the prod template
    # When its dashboard is read
    logical_id, properties, body = _dashboard(prod)
    # Then it is the stage's (assistec-prod), a plain CloudFormation dashboard ops find by the output
    assert properties["DashboardName"] == f"{constants.APP_NAME}-prod"
    assert prod.to_json()["Outputs"]["DashboardName"]["Value"] == {"Ref": logical_id}
    assert body["widgets"]


def test_every_function_is_drawn_errors_p99_duration_and_throttles_and_alarmed(prod: Template) -> None:
    # Given every function of the stack: the app's (its handlers) and the CDK's deploy-time ones
    functions = prod.find_resources("AWS::Lambda::Function")
    app = {name for name, f in functions.items() if f["Properties"]["Handler"].startswith("assistec.")}
    # The panel's BucketDeployment handler (the CDK's) runs only inside a deploy, which fails with it
    deploy_time = {
        name
        for name, f in functions.items()
        if name.startswith("CustomCDKBucketDeployment") and f["Properties"]["Handler"] == "index.handler"
    }
    others = {
        name: f["Properties"]["Handler"] for name, f in functions.items() if name not in app | deploy_time
    }
    assert len(app) >= 15
    # (anything else is a function nobody watches: decide, then extend this test)
    assert set(others.values()) <= {CDK_PROVIDER_HANDLER}, others
    alarmed = {
        (a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"]["Ref"])
        for a in prod.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/Lambda"
    }
    # When the dashboard is read
    _, _, body = _dashboard(prod)
    # Then each app function is drawn (errors, p99 duration, throttles) and alarmed on (errors,
    # throttles): the dashboard lists what the alarms watch
    for name in sorted(app):
        drawn = _drawn(body, "AWS/Lambda", "FunctionName", f"${{{name}}}")
        assert {("Errors", "Sum"), ("Duration", "p99"), ("Throttles", "Sum")} <= drawn, name
        assert {("Errors", name), ("Throttles", name)} <= alarmed, name


def test_every_state_machine_is_drawn_failed_timed_out_and_aborted(prod: Template) -> None:
    # Given the stack's state machines (the payment flow, the quote flow, the backup flow)
    machines = prod.find_resources("AWS::StepFunctions::StateMachine")
    assert len(machines) >= 3
    # When the dashboard is read
    _, _, body = _dashboard(prod)
    # Then each one's failed, timed-out and aborted executions are drawn
    for name in sorted(machines):
        drawn = _drawn(body, "AWS/States", "StateMachineArn", f"${{{name}}}")
        assert {
            ("ExecutionsFailed", "Sum"),
            ("ExecutionsTimedOut", "Sum"),
            ("ExecutionsAborted", "Sum"),
        } <= drawn, name


def test_main_queues_show_their_oldest_message_and_dead_letter_queues_their_messages(prod: Template) -> None:
    # Given the stack's queues, a dead-letter queue being one another queue's redrive policy names
    queues = prod.find_resources("AWS::SQS::Queue")
    dead_letter = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    main = set(queues) - dead_letter
    assert dead_letter
    assert main
    # When the dashboard is read
    _, _, body = _dashboard(prod)
    # Then each main queue's oldest message and each dead-letter queue's waiting messages are drawn
    for name in sorted(main):
        drawn = _drawn(body, "AWS/SQS", "QueueName", f"${{{name}.QueueName}}")
        assert ("ApproximateAgeOfOldestMessage", "Maximum") in drawn, name
    for name in sorted(dead_letter):
        drawn = _drawn(body, "AWS/SQS", "QueueName", f"${{{name}.QueueName}}")
        assert ("ApproximateNumberOfMessagesVisible", "Maximum") in drawn, name


def test_the_api_latency_requests_and_errors_are_drawn(prod: Template) -> None:
    # Given the stage's REST API
    [api] = prod.find_resources("AWS::ApiGateway::RestApi").values()
    # When the dashboard is read
    _, _, body = _dashboard(prod)
    drawn = _drawn(body, "AWS/ApiGateway", "ApiName", api["Properties"]["Name"])
    # Then its latency and integration latency (p50, p99), requests, 4XX and 5XX are there
    assert {
        ("Latency", "p50"),
        ("Latency", "p99"),
        ("IntegrationLatency", "p50"),
        ("IntegrationLatency", "p99"),
        ("Count", "Sum"),
        ("4XXError", "Sum"),
        ("5XXError", "Sum"),
    } <= drawn


def test_the_apps_metrics_are_those_the_handlers_publish(prod: Template) -> None:
    # Given the app's metrics on the dashboard (its namespace and service) and the handlers' source
    _, _, body = _dashboard(prod)
    app_metrics = {
        name
        for namespace, name, dims, _ in _graphed(body)
        if namespace == constants.METRICS_NAMESPACE and dims == {"service": constants.SERVICE_NAME}
    }
    source = "\n".join(path.read_text() for path in sorted(HANDLERS.glob("*.py")))
    # Then the backups' age and failures are there, under the names handlers/backup.py publishes
    backup = {
        constants.BACKUP_AGE_METRIC,
        constants.BACKUP_FAILURES_METRIC,
        constants.RESTORE_TEST_FAILURES_METRIC,
    }
    assert backup == {"BackupAgeHours", "BackupFailures", "RestoreTestFailures"}
    assert backup <= app_metrics
    # And every one is a name a handler publishes (a renamed metric leaves a blank graph); the backup's
    # handlers come with their own branch (issue 13 §3): until handlers/backup.py exists, its names wait
    waiting = set() if (HANDLERS / "backup.py").exists() else backup
    unpublished = {m for m in app_metrics - waiting if f'"{m}"' not in source}
    assert not unpublished, f"on the dashboard but published by no handler: {sorted(unpublished)}"
    # And every app metric an alarm watches is drawn
    watched = {
        a["Properties"]["MetricName"]
        for a in prod.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == constants.METRICS_NAMESPACE
    }
    assert watched
    assert watched <= app_metrics, sorted(watched - app_metrics)


def test_every_alarm_is_on_the_status_widget_and_tells_the_topic_both_ways(
    prod: Template, prod_stack: Any
) -> None:
    # Given every alarm of the stack and the alarm topic
    alarms = prod.find_resources("AWS::CloudWatch::Alarm")
    topic = _alarm_topic(prod)
    # When the dashboard's alarm status widgets are read
    _, _, body = _dashboard(prod)
    shown = [arn for w in body["widgets"] if w["type"] == "alarm" for arn in w["properties"]["alarms"]]
    # Then they show each alarm once, the nested stacks' (through their outputs) too
    nested = _nested(prod_stack)
    own = [arn for arn in shown if ".Outputs." not in arn]
    assert sorted(own) == sorted(f"${{{name}.Arn}}" for name in alarms)
    from_nested = [arn for arn in shown if ".Outputs." in arn]
    nested_alarms = [
        (nested_id, name, alarm)
        for nested_id, template in nested.items()
        for name, alarm in template.find_resources("AWS::CloudWatch::Alarm").items()
    ]
    assert len(from_nested) == len(nested_alarms)
    for nested_id, name, alarm in nested_alarms:
        assert [arn for arn in from_nested if _nested_reference(arn, nested_id, name)], name
        # (the topic comes into a nested stack as a parameter the parent sets to it)
        parameters = prod.find_resources("AWS::CloudFormation::Stack")[nested_id]["Properties"]["Parameters"]
        for actions in (alarm["Properties"].get("AlarmActions"), alarm["Properties"].get("OKActions")):
            assert actions is not None, name
            assert len(actions) == 1, name
            assert parameters[actions[0]["Ref"]] == {"Ref": topic}, name
    # And each alarm tells the topic when it fires and when it clears
    silent = [
        name
        for name, a in alarms.items()
        if a["Properties"].get("AlarmActions") != [{"Ref": topic}]
        or a["Properties"].get("OKActions") != [{"Ref": topic}]
    ]
    assert not silent, f"alarms that do not tell the alarm topic both ways: {silent}"


def _runbook_rows() -> list[list[str]]:
    """README's "Runbook: alarms" table rows (key, meaning, first step), the header aside."""
    text = README.read_text()
    match = re.search(r"^## Runbook: alarms\n(?P<section>.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Runbook: alarms' section"
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in match["section"].splitlines()
        if line.startswith("| `")
    ]


def test_every_alarm_has_one_runbook_line_and_every_line_an_alarm(prod: Template, prod_stack: Any) -> None:
    # Given every alarm's runbook key (the end of its description), the nested stacks' too, and
    # README's runbook lines
    alarms = prod.find_resources("AWS::CloudWatch::Alarm")
    for template in _nested(prod_stack).values():
        alarms |= template.find_resources("AWS::CloudWatch::Alarm")
    keys: dict[str, str] = {}
    unkeyed = []
    for name, alarm in alarms.items():
        found = RUNBOOK_KEY.search(alarm["Properties"].get("AlarmDescription", ""))
        if found is None:
            unkeyed.append(name)
        else:
            keys[found["key"]] = name
    rows = _runbook_rows()
    lines = [row[0].strip("`") for row in rows]
    # Then every alarm carries a key, a key of its own
    assert not unkeyed, f"alarms whose description ends with no [runbook: <key>]: {unkeyed}"
    assert len(keys) == len(alarms)
    # And every key has exactly one line saying what it means and what ops does first
    lacking = sorted(set(keys) - set(lines))
    assert not lacking, f"alarms lacking a line in README's 'Runbook: alarms': {lacking}"
    assert len(lines) == len(set(lines)), sorted({k for k in lines if lines.count(k) > 1})
    incomplete = [row[0] for row in rows if len(row) != 3 or not all(row)]
    assert not incomplete, f"runbook lines without a meaning and a first step: {incomplete}"
    # And no line is left for an alarm that no longer exists
    stale = sorted(set(lines) - set(keys))
    assert not stale, f"runbook lines naming no alarm of the stack: {stale}"
