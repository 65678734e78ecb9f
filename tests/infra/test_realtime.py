"""The staff's real-time channel in both stages: in prod API Gateway's WebSocket API (routes to the one
real-time function, the $default route's response, no ticket in the access log), the management API's
grant on this stage's connections only, the bus's events the panel shows and the sweep's schedule; in
the local stage no WebSocket API (LocalStack serves none) but the ``WebSocketApi`` output the local
gateway stand-in is started from, which devctl accepts as it is."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from assistec.domain import realtime as rules
from assistec.settings import RealtimeSettings
from assistec_infra import constants
from assistec_infra.capabilities import realtime
from tests.infra.templates import _function, _functions, _template

_RUNTIME_VARIABLES = {"STAGE", "APP_VERSION", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}
_RUNTIME_VARIABLES |= {"POWERTOOLS_LOG_LEVEL", "POWERTOOLS_TRACER_CAPTURE_RESPONSE"}


@pytest.fixture(scope="module")
def prod(prod_stack: Any) -> Template:
    """Prod's real-time nested stack (its own template: the stack is at CloudFormation's limit)."""
    from aws_cdk import NestedStack

    [nested] = [
        c
        for c in prod_stack[0].node.find_all()
        if isinstance(c, NestedStack) and c.node.id == "RealtimeStack"
    ]
    return Template.from_stack(nested)


@pytest.fixture(scope="module")
def prod_parent(prod_stack: Any) -> Template:
    return _template(prod_stack)


@pytest.fixture(scope="module")
def local(local_stack: Any) -> Template:
    return _template(local_stack)


def _function_id(template: Template, handler: str) -> str:
    [name] = [n for n, f in _functions(template).items() if f["Properties"]["Handler"] == handler]
    return str(name)


def _resolve(value: Any) -> Any:
    """A template value with each Ref as the logical id it names and Fn::Join joined."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return value["Ref"]
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_resolve(p)) for p in parts)
    return value


def _statements(template: Template) -> list[tuple[dict[str, Any], list[Any]]]:
    return [
        (statement, policy["Properties"]["Roles"])
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_the_code_and_the_stack_agree() -> None:
    # The events the rule takes are the ones the push shows; the variable devctl sets is the setting's
    assert constants.REALTIME_PUSHED_EVENTS == rules.PUSHED_EVENTS
    assert constants.REALTIME_MANAGEMENT_VARIABLE.lower() in RealtimeSettings.model_fields
    assert realtime.FUNCTION.timeout_s <= 30


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_function_reads_only_its_settings(stage: str, local: Template, prod: Template) -> None:
    template = local if stage == "local" else prod
    env = set(_function(template, constants.REALTIME_HANDLER)["Environment"]["Variables"])
    fields = {name.upper() for name in RealtimeSettings.model_fields}
    assert env - _RUNTIME_VARIABLES <= fields, env - _RUNTIME_VARIABLES - fields
    assert "DB_SECRET_ID" in env
    # The management endpoint is the stage's callback URL in prod; locally devctl sets the stand-in's
    assert ("REALTIME_MANAGEMENT_URL" in env) == (stage == "prod")


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_panels_events_and_the_sweep_reach_the_function(
    stage: str, local: Template, prod: Template
) -> None:
    template = local if stage == "local" else prod
    function_id = _function_id(template, constants.REALTIME_HANDLER)
    rules_ = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if any(t["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]} for t in r["Properties"].get("Targets", []))
    ]
    [push] = [r for r in rules_ if "EventPattern" in r]
    [sweep] = [r for r in rules_ if "ScheduleExpression" in r]
    # The domain events the panel shows, from the app's bus, tried twice within 5 minutes
    assert push["EventPattern"] == {
        "source": [constants.EVENT_SOURCE],
        "detail-type": list(rules.PUSHED_EVENTS),
    }
    assert "EventBusName" in push
    assert push["Targets"][0]["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 300}
    # The sweep every 15 minutes
    assert sweep["ScheduleExpression"] == "rate(15 minutes)"


def test_prod_serves_the_websocket_from_api_gateway(prod: Template, prod_parent: Template) -> None:
    function_id = _function_id(prod, constants.REALTIME_HANDLER)
    [(api_id, api)] = prod.find_resources("AWS::ApiGatewayV2::Api").items()
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert api["Properties"]["RouteSelectionExpression"] == "$request.body.action"
    # Each route a Lambda proxy integration of the real-time function, none behind an authorizer
    # ($connect checks the ticket itself)
    integrations = prod.find_resources("AWS::ApiGatewayV2::Integration")
    routes = {
        r["Properties"]["RouteKey"]: r for r in prod.find_resources("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    for route in routes.values():
        target = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[target]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert function_id in json.dumps(integration["IntegrationUri"])
        assert route["Properties"].get("AuthorizationType", "NONE") == "NONE"
    # Only $default answers the client (ping, chat)
    responses = prod.find_resources("AWS::ApiGatewayV2::RouteResponse")
    assert [r["Properties"]["RouteResponseKey"] for r in responses.values()] == ["$default"]
    assert [r["Properties"].get("RouteResponseSelectionExpression") for r in routes.values()].count(
        "$default"
    ) == 1
    # The stage: v1, throttled, access-logged without the query string (it carries the ticket)
    [stage] = prod.find_resources("AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "v1"
    assert props["AutoDeploy"] is True
    assert props["ApiId"] == {"Ref": api_id}
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    log_format = props["AccessLogSettings"]["Format"]
    assert "$context.connectionId" in log_format
    assert "querystring" not in log_format.lower()
    # The API hands out the wss:// URL with each ticket
    api_env = _function(prod_parent, "assistec.handlers.api.handler")["Environment"]["Variables"]
    assert "REALTIME_URL" in api_env
    assert "REALTIME_MANAGEMENT_URL" not in api_env


def test_only_the_realtime_function_may_post_to_connections_and_only_this_stages(prod: Template) -> None:
    role = _function(prod, constants.REALTIME_HANDLER)["Role"]["Fn::GetAtt"][0]
    [api_id] = prod.find_resources("AWS::ApiGatewayV2::Api")
    managing = [
        (s, roles) for s, roles in _statements(prod) if any(a.startswith("execute-api:") for a in _actions(s))
    ]
    assert managing
    for statement, roles in managing:
        assert roles == [{"Ref": role}]
        assert _actions(statement) == {"execute-api:ManageConnections"}
        resource = json.dumps(statement["Resource"])
        assert api_id in resource
        assert "/v1/*/@connections/*" in resource


def test_the_local_stage_declares_the_api_to_the_gateway_stand_in(local: Template) -> None:
    from devctl import ws_gateway_proc

    # No API Gateway v2 resource (LocalStack's community edition has none)
    assert not local.find_resources("AWS::ApiGatewayV2::Api")
    function_id = _function_id(local, constants.REALTIME_HANDLER)
    outputs = local.to_json()["Outputs"]
    spec = json.loads(_resolve(outputs[constants.REALTIME_OUTPUT]["Value"]))
    # devctl accepts the declaration as it is
    config = ws_gateway_proc.gateway_config(spec)
    [api] = config["apis"]
    assert api["stage"] == "v1"
    assert {k: (r["function"], r["two_way"]) for k, r in api["routes"].items()} == {
        "$connect": (function_id, False),
        "$disconnect": (function_id, False),
        "$default": (function_id, True),
    }
    assert spec["management_endpoint"] == {"variable": "REALTIME_MANAGEMENT_URL", "functions": [function_id]}
    assert ws_gateway_proc.declared_api({constants.REALTIME_OUTPUT: json.dumps(spec)}) == spec
    # The API hands out the stand-in's ws:// URL with each ticket (prod: the stage's wss:// URL): the
    # gateway's port as devctl serves it, the declared stage
    api_env = _function(local, "assistec.handlers.api.handler")["Environment"]["Variables"]
    assert api_env["REALTIME_URL"] == f"{ws_gateway_proc.URL}/{api['stage']}" == "ws://127.0.0.1:4595/v1"
    assert "REALTIME_MANAGEMENT_URL" not in api_env


def test_prod_stays_within_cloudformations_resource_limit(prod: Template, prod_parent: Template) -> None:
    # The real-time capability lives in a nested stack of its own; each stack is under 500
    assert len(prod_parent.to_json()["Resources"]) <= 500
    assert len(prod.to_json()["Resources"]) <= 500
    assert prod_parent.find_resources("AWS::CloudFormation::Stack")
    assert not prod_parent.find_resources("AWS::ApiGatewayV2::Api")
