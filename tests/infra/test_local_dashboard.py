"""The local stage's dashboard (localstack/devctl/dashboard.py): LocalStack's CloudFormation skips
``AWS::CloudWatch::Dashboard``, so `make up` resolves the synthesized dashboard's body against the
deployed stack and puts it through CloudWatch's API. Here the local template's own body is resolved
against a stack deployed the way LocalStack deploys it (physical ids in its shapes): every reference
becomes its resource's value, the body is valid JSON, and its widgets are the synthesized ones."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from devctl.dashboard import StackReferences, StackResource, Unresolved, dashboards, resolve
from tests.infra.templates import _template
from tests.infra.test_dashboard import _dashboard

STACK_ID = "arn:aws:cloudformation:us-east-1:000000000000:stack/assistec-local/b922f845"
QUEUE_URL = "http://sqs.us-east-1.127.0.0.1:4566/000000000000/"
ALARM_ARN = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:"


def _physical_id(logical_id: str, resource_type: str) -> str:
    """A physical id in the shape LocalStack gives the type (a queue's is its URL)."""
    name = f"assistec-local-{logical_id[:22]}-5f3a9c1e"
    return {
        "AWS::SQS::Queue": QUEUE_URL + name,
        "AWS::StepFunctions::StateMachine": f"arn:aws:states:us-east-1:000000000000:stateMachine:{name}",
    }.get(resource_type, name)


def _deployed(template: dict[str, Any]) -> list[StackResource]:
    """The stack as LocalStack deploys it: every resource but the dashboard, which it skips."""
    return [
        StackResource(logical_id, r["Type"], _physical_id(logical_id, r["Type"]))
        for logical_id, r in template["Resources"].items()
        if r["Type"] != "AWS::CloudWatch::Dashboard"
    ]


class AlarmLookup:
    """CloudWatch's DescribeAlarms: each alarm's ARN by its name; counts the calls."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, names: list[str]) -> dict[str, str]:
        self.calls.append(names)
        return {name: ALARM_ARN + name for name in names}


def _references(resources: list[StackResource], lookup: AlarmLookup | None = None) -> StackReferences:
    return StackReferences(stack_id=STACK_ID, resources=resources, alarm_arns=lookup or AlarmLookup())


@pytest.fixture(scope="module")
def local_template(local_stack: Any) -> dict[str, Any]:
    template: dict[str, Any] = _template(local_stack).to_json()
    return template


def _expected(body: Any, values: dict[str, str]) -> Any:
    """The synthesized body (references written ``${LogicalId}``, ``${LogicalId.Attribute}``) with
    each reference replaced by its deployed value."""
    if isinstance(body, dict):
        return {key: _expected(value, values) for key, value in body.items()}
    if isinstance(body, list):
        return [_expected(value, values) for value in body]
    if isinstance(body, str):
        return re.sub(r"\$\{([^}]+)\}", lambda m: values[m[1]], body)
    return body


def test_the_local_dashboard_resolves_to_the_synthesized_one_with_the_deployed_names(
    local_stack: Any, local_template: dict[str, Any]
) -> None:
    # Given the local template's dashboard and the stack deployed without it
    _, properties, synthesized = _dashboard(_template(local_stack))
    resources = _deployed(local_template)
    lookup = AlarmLookup()
    # When devctl resolves it against the deployed stack
    [(name, body)] = dashboards(local_template, _references(resources, lookup)).items()
    # Then it has the stage's name and a JSON body with no reference left
    assert name == properties["DashboardName"] == "assistec-local"
    resolved = json.loads(body)
    assert "${" not in body
    assert "Fn::" not in body
    assert '"Ref"' not in body
    # And it is the synthesized dashboard, widget for widget, each reference its deployed value:
    # functions and state machines by their physical id, queues by name, alarms by ARN, the region
    values = {"AWS::Region": "us-east-1"}
    for r in resources:
        values[r.logical_id] = r.physical_id
        if r.resource_type == "AWS::SQS::Queue":
            values[f"{r.logical_id}.QueueName"] = r.physical_id.removeprefix(QUEUE_URL)
        if r.resource_type == "AWS::CloudWatch::Alarm":
            values[f"{r.logical_id}.Arn"] = ALARM_ARN + r.physical_id
    assert resolved == _expected(synthesized, values)
    assert [w["type"] for w in resolved["widgets"]] == [w["type"] for w in synthesized["widgets"]]
    # And every alarm of the stack is on it, by the ARN CloudWatch gave, asked for once
    alarms = [r.physical_id for r in resources if r.resource_type == "AWS::CloudWatch::Alarm"]
    shown = [arn for w in resolved["widgets"] if w["type"] == "alarm" for arn in w["properties"]["alarms"]]
    assert sorted(shown) == sorted(ALARM_ARN + a for a in alarms)
    assert len(lookup.calls) == 1


def test_a_reference_to_a_resource_not_deployed_stops_the_step_with_its_name(
    local_template: dict[str, Any],
) -> None:
    # Given the deployed stack without one of the queues the dashboard draws
    deployed = _deployed(local_template)
    [missing] = [
        r
        for r in deployed
        if r.resource_type == "AWS::SQS::Queue" and r.logical_id.startswith("PaymentsEventsDlq")
    ]
    resources = [r for r in deployed if r != missing]
    # When the dashboard is resolved, Then it fails naming the resource, rather than leave a hole
    with pytest.raises(Unresolved, match=missing.logical_id):
        dashboards(local_template, _references(resources))


def test_an_attribute_devctl_does_not_know_is_refused_by_name() -> None:
    refs = _references([StackResource("PaymentsEvents", "AWS::SQS::Queue", QUEUE_URL + "events")])
    assert resolve({"Fn::GetAtt": ["PaymentsEvents", "QueueName"]}, refs) == "events"
    with pytest.raises(Unresolved, match=r"PaymentsEvents\.Arn \(AWS::SQS::Queue\)"):
        resolve({"Fn::GetAtt": ["PaymentsEvents", "Arn"]}, refs)
    with pytest.raises(Unresolved, match="Fn::Select"):
        resolve({"Fn::Select": [0, ["a"]]}, refs)


def test_an_alarm_cloudwatch_does_not_have_is_refused() -> None:
    refs = StackReferences(
        stack_id=STACK_ID,
        resources=[StackResource("Api5xxAlarm", "AWS::CloudWatch::Alarm", "assistec-local-Api5xx")],
        alarm_arns=lambda names: {},
    )
    with pytest.raises(Unresolved, match="assistec-local-Api5xx"):
        resolve({"Fn::GetAtt": ["Api5xxAlarm", "Arn"]}, refs)


def test_sub_and_join_resolve_as_cloudformation_does() -> None:
    # Given a function and a queue deployed
    refs = _references(
        [
            StackResource("ApiFunction", "AWS::Lambda::Function", "assistec-local-Api-1"),
            StackResource("Events", "AWS::SQS::Queue", QUEUE_URL + "assistec-local-Events-2"),
        ]
    )
    # When Fn::Sub (both forms) and Fn::Join are resolved, Then pseudo parameters, references,
    # attributes, variables and ${!literal} are CloudFormation's values
    assert (
        resolve(
            {"Fn::Sub": "${AWS::Region}/${AWS::AccountId}/${ApiFunction}/${Events.QueueName}/${!Kept}"}, refs
        )
        == "us-east-1/000000000000/assistec-local-Api-1/assistec-local-Events-2/${Kept}"
    )
    assert (
        resolve({"Fn::Sub": ["${Name} in ${AWS::Partition}", {"Name": {"Ref": "ApiFunction"}}]}, refs)
        == "assistec-local-Api-1 in aws"
    )
    assert (
        resolve(
            {"Fn::Join": ["-", ["a", {"Ref": "AWS::StackName"}, {"Fn::GetAtt": "Events.QueueName"}]]}, refs
        )
        == "a-assistec-local-assistec-local-Events-2"
    )
