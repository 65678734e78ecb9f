"""The stage's CloudWatch dashboard, locally: LocalStack's CloudFormation has no provider for
``AWS::CloudWatch::Dashboard`` (it skips the resource), but its CloudWatch API has PutDashboard and
GetDashboard. After the deploy, the dashboard the stack declares is put through that API under the
same name, with the same body, so that the ops reports read the stage's dashboard locally as in AWS.

The body is the deployed template's own (GetTemplate: what CloudFormation was given, so it matches
the deployed resources), an ``Fn::Join`` of text and references. The references are resolved the way
CloudFormation resolves them, from the deployed stack: ``Ref`` is a resource's physical id (a
function's name, a state machine's ARN) or a pseudo parameter (the region, from the stack's ARN);
``Fn::GetAtt`` is read from the resource (an alarm's ARN from CloudWatch, a queue's name from its
URL). A reference devctl cannot resolve stops the deploy with its name, never a dashboard with a
hole in it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DASHBOARD_TYPE = "AWS::CloudWatch::Dashboard"
# DescribeAlarms' limit of names per request.
ALARM_NAMES_PER_REQUEST = 100


class Unresolved(Exception):
    """A value of the template devctl cannot resolve (the message names it)."""


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    resource_type: str
    physical_id: str


class StackReferences:
    """What ``Ref`` and ``Fn::GetAtt`` stand for in one deployed stack.

    ``alarm_arns`` answers each alarm's ARN by its name (CloudWatch's DescribeAlarms locally).
    """

    def __init__(
        self,
        *,
        stack_id: str,
        resources: Iterable[StackResource],
        alarm_arns: Callable[[list[str]], Mapping[str, str]],
    ) -> None:
        # arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>
        _, partition, _, region, account, rest = stack_id.split(":", 5)
        self.pseudo = {
            "AWS::Partition": partition,
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::StackName": rest.split("/")[1],
            "AWS::StackId": stack_id,
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.resources = {r.logical_id: r for r in resources}
        self._alarm_arns_of = alarm_arns
        self._alarm_arns: Mapping[str, str] | None = None

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        return self._resource(name).physical_id

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource = self._resource(logical_id)
        read = ATTRIBUTES.get((resource.resource_type, attribute))
        if read is None:
            raise Unresolved(
                f"{logical_id}.{attribute} ({resource.resource_type}): devctl does not resolve this "
                "attribute (devctl/dashboard.py, ATTRIBUTES)"
            )
        return read(self, resource)

    def alarm_arn(self, name: str) -> str:
        if self._alarm_arns is None:
            names = [
                r.physical_id for r in self.resources.values() if r.resource_type == "AWS::CloudWatch::Alarm"
            ]
            self._alarm_arns = self._alarm_arns_of(names)
        if name not in self._alarm_arns:
            raise Unresolved(f"alarm {name}: not in CloudWatch")
        return self._alarm_arns[name]

    def _resource(self, logical_id: str) -> StackResource:
        if logical_id not in self.resources:
            raise Unresolved(f"{logical_id}: no such resource in the deployed stack")
        return self.resources[logical_id]


# (resource type, attribute) → its value, from the deployed resource. Only what the dashboard uses.
ATTRIBUTES: dict[tuple[str, str], Callable[[StackReferences, StackResource], str]] = {
    ("AWS::CloudWatch::Alarm", "Arn"): lambda refs, r: refs.alarm_arn(r.physical_id),
    # A queue's physical id is its URL: .../<account>/<name>
    ("AWS::SQS::Queue", "QueueName"): lambda refs, r: r.physical_id.rstrip("/").rsplit("/", 1)[1],
}

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def resolve(value: Any, refs: StackReferences) -> Any:
    """``value`` with every intrinsic function CloudFormation would evaluate (``Ref``, ``Fn::GetAtt``,
    ``Fn::Join``, ``Fn::Sub``) evaluated against the deployed stack."""
    if isinstance(value, list):
        return [resolve(item, refs) for item in value]
    if not isinstance(value, Mapping):
        return value
    if len(value) == 1:
        [(function, argument)] = value.items()
        if function == "Ref":
            return refs.ref(argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return refs.get_att(logical_id, resolve(attribute, refs))
        if function == "Fn::Join":
            separator, items = argument
            return separator.join(_text(resolve(item, refs), function) for item in resolve(items, refs))
        if function == "Fn::Sub":
            return _sub(argument, refs)
        if function.startswith("Fn::"):
            raise Unresolved(f"{function}: devctl does not evaluate this function")
    return {key: resolve(item, refs) for key, item in value.items()}


def _sub(argument: Any, refs: StackReferences) -> str:
    text, variables = (argument, {}) if isinstance(argument, str) else argument
    values = {name: _text(resolve(v, refs), "Fn::Sub") for name, v in variables.items()}

    def substitute(match: re.Match[str]) -> str:
        name = match[1]
        if name.startswith("!"):  # ${!Literal} is the text ${Literal}
            return f"${{{name[1:]}}}"
        if name in values:
            return values[name]
        if "." in name and name not in refs.pseudo:
            logical_id, attribute = name.split(".", 1)
            return refs.get_att(logical_id, attribute)
        return refs.ref(name)

    return _SUB_VARIABLE.sub(substitute, str(text))


def _text(value: Any, function: str) -> str:
    if not isinstance(value, str):
        raise Unresolved(f"{function}: a part is not text: {value!r}")
    return value


def dashboards(template: Mapping[str, Any], refs: StackReferences) -> dict[str, str]:
    """The template's dashboards, name → body (JSON text), every reference resolved."""
    found: dict[str, str] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != DASHBOARD_TYPE:
            continue
        properties = resource.get("Properties", {})
        if "DashboardName" not in properties:  # CloudFormation would name it; the stage's are named
            raise Unresolved(f"{logical_id}: a dashboard without DashboardName")
        name = _text(resolve(properties["DashboardName"], refs), logical_id)
        body = _text(resolve(properties["DashboardBody"], refs), logical_id)
        try:
            json.loads(body)
        except ValueError as exc:
            raise Unresolved(f"{logical_id}: the resolved body is not JSON ({exc})") from exc
        found[name] = body
    return found


def deployed_references(cloudformation: Any, cloudwatch: Any, stack_name: str) -> StackReferences:
    """The references of the deployed stack (ListStackResources: DescribeStackResources stops at 100)."""
    stack_id = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackId"]
    resources = [
        StackResource(r["LogicalResourceId"], r["ResourceType"], r["PhysicalResourceId"])
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        for r in page["StackResourceSummaries"]
        if r.get("PhysicalResourceId")
    ]

    def alarm_arns(names: list[str]) -> dict[str, str]:
        arns: dict[str, str] = {}
        for first in range(0, len(names), ALARM_NAMES_PER_REQUEST):
            chunk = names[first : first + ALARM_NAMES_PER_REQUEST]
            pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNames=chunk)
            arns.update({a["AlarmName"]: a["AlarmArn"] for page in pages for a in page["MetricAlarms"]})
        return arns

    return StackReferences(stack_id=stack_id, resources=resources, alarm_arns=alarm_arns)


def put_stack_dashboards(cloudformation: Any, cloudwatch: Any, stack_name: str) -> list[str]:
    """Put the deployed stack's dashboards through CloudWatch's API (safe to repeat: PutDashboard
    replaces a dashboard's body). Returns their names."""
    template = cloudformation.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    if isinstance(template, str):
        template = json.loads(template)
    found = dashboards(template, deployed_references(cloudformation, cloudwatch, stack_name))
    for name, body in found.items():
        answer = cloudwatch.put_dashboard(DashboardName=name, DashboardBody=body)
        if answer.get("DashboardValidationMessages"):
            raise RuntimeError(f"dashboard {name}: {answer['DashboardValidationMessages']}")
    return sorted(found)
