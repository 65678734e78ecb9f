"""`make up`'s side of the local WebSocket gateway (devctl/ws_gateway_proc.py): what the stack's
``WebSocketApi`` output must hold, and what `make up` makes of it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from devctl import ws_gateway_proc
from devctl.paths import LOCALSTACK_URL

SPEC = {
    "api_id": "abc123",
    "stage": "v1",
    "routes": {
        "$connect": {"function": "assistec-local-RealtimeConnect"},
        "$disconnect": {"function": "assistec-local-RealtimeDisconnect"},
        "$default": {"function": "assistec-local-RealtimeMessage", "two_way": True},
    },
    "management_endpoint": {
        "variable": "WS_MANAGEMENT_ENDPOINT",
        "functions": ["assistec-local-RealtimePush"],
    },
}


def test_a_stack_without_a_websocket_api_starts_nothing() -> None:
    # Given the outputs of today's stack (no WebSocketApi output): nothing is started or written
    outputs = {"ApiId": "x", "ApiStageName": "v1"}
    assert ws_gateway_proc.declared_api(outputs) is None
    assert ws_gateway_proc.up(outputs, lambda_client=None) == ({}, False)


def test_the_declared_api_becomes_the_gateways_configuration() -> None:
    # Given the output as the CDK app writes it (a JSON string)
    outputs = {ws_gateway_proc.OUTPUT: json.dumps(SPEC)}

    # When make up reads it
    config = ws_gateway_proc.gateway_config(ws_gateway_proc.declared_api(outputs) or {})

    # Then the gateway serves that API, invoking its functions through LocalStack's Lambda
    assert config["lambda_endpoint"] == LOCALSTACK_URL
    (api,) = config["apis"]
    assert (api["api_id"], api["stage"], api["route_selection_expression"]) == (
        "abc123",
        "v1",
        "$request.body.action",
    )
    assert api["routes"]["$default"] == {"function": "assistec-local-RealtimeMessage", "two_way": True}
    assert api["routes"]["$connect"] == {"function": "assistec-local-RealtimeConnect", "two_way": False}
    assert (config["idle_timeout_s"], config["max_connection_s"]) == (600, 7200)


def test_a_wrong_declaration_stops_make_up_with_the_field_at_fault() -> None:
    with pytest.raises(ValidationError, match="route_selection_expression"):
        ws_gateway_proc.gateway_config({**SPEC, "route_selection_expression": "$request.header.action"})


class FakeLambdaConfig:
    """Lambda's function configuration API, as far as point_functions_at uses it."""

    def __init__(self, env: dict[str, dict[str, str]]) -> None:
        self.env = env
        self.updates: list[str] = []

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        return {"Environment": {"Variables": dict(self.env[FunctionName])}}

    def update_function_configuration(self, FunctionName: str, Environment: dict[str, Any]) -> None:
        self.updates.append(FunctionName)
        self.env[FunctionName] = Environment["Variables"]

    def get_waiter(self, name: str) -> Any:
        class Waiter:
            def wait(self, FunctionName: str) -> None:
                pass

        return Waiter()


def test_push_functions_are_pointed_at_the_management_endpoint() -> None:
    # Given a push function with its settings, one already pointed at the endpoint
    lam = FakeLambdaConfig({"push": {"STAGE": "local"}, "sweep": {"WS_ENDPOINT": "http://127.0.0.1:4596/v1"}})

    # When make up points them at the gateway
    ws_gateway_proc.point_functions_at(lam, ["push", "sweep"], "WS_ENDPOINT", "http://127.0.0.1:4596/v1")

    # Then the variable is set, the rest of the environment kept, and an up-to-date one left alone
    assert lam.env["push"] == {"STAGE": "local", "WS_ENDPOINT": "http://127.0.0.1:4596/v1"}
    assert lam.updates == ["push"]
