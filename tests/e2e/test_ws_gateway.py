"""The local WebSocket gateway in front of LocalStack's real Lambda (our executor): functions created
through the Lambda API and run as host subprocesses, a real WebSocket client, and a function that
answers its caller through boto3's ``apigatewaymanagementapi`` with the endpoint from its environment,
as the push function of issue 14 will."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from ws_gateway import GatewayConfig, RunningGateway, start

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

CONNECT = """
def handler(event, context):
    query = event.get("queryStringParameters") or {}
    return {"statusCode": 200 if query.get("ticket") == "valid" else 403}
"""
# Answers through the management API, never through a route response.
ECHO = """
import os
import boto3

def handler(event, context):
    api = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WS_ENDPOINT"])
    context_ = event["requestContext"]
    answer = "eco " + context_["routeKey"] + ": " + event["body"]
    api.post_to_connection(ConnectionId=context_["connectionId"], Data=answer.encode())
    return {"statusCode": 200}
"""
FAIL = """
def handler(event, context):
    raise RuntimeError("falhou")
"""
DISCONNECT = """
import json

def handler(event, context):
    context_ = event["requestContext"]
    print("DISCONNECTED", json.dumps([context_["connectionId"], context_["disconnectStatusCode"]]))
    return {"statusCode": 200}
"""


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def lam(aws: Callable[[str], Any]) -> Any:
    return aws("lambda")


@pytest.fixture
def dependency_layer(lam: Any, stack: dict[str, Any]) -> list[str]:
    """The deployed dependency layer (boto3 included), as the API function has it."""
    layers: list[str] = [
        layer["Arn"]
        for layer in lam.get_function_configuration(FunctionName=stack["api_function_name"]).get("Layers", [])
    ]
    return layers


@pytest.fixture
def functions(lam: Any) -> Iterator[Callable[..., None]]:
    created: list[str] = []

    def make(
        name: str, code: str, *, layers: list[str] | None = None, env: dict[str, str] | None = None
    ) -> None:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": _zip({"app.py": code})},
            Timeout=20,
            MemorySize=256,
            Layers=layers or [],
            Environment={"Variables": env or {}},
        )
        created.append(name)
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})

    yield make
    for name in created:
        lam.delete_function(FunctionName=name)


@pytest.fixture
def gateway(stack: dict[str, Any]) -> Iterator[tuple[RunningGateway, str]]:
    prefix = f"ws-e2e-{uuid.uuid4().hex[:8]}"
    config = GatewayConfig.model_validate(
        {
            "lambda_endpoint": stack["localstack_url"],
            "apis": [
                {
                    "stage": "v1",
                    "routes": {
                        "$connect": {"function": f"{prefix}-connect"},
                        "$default": {"function": f"{prefix}-echo"},
                        "fail": {"function": f"{prefix}-fail"},
                        "$disconnect": {"function": f"{prefix}-disconnect"},
                    },
                }
            ],
        }
    )
    running = start(config)
    yield running, prefix
    running.stop()


def test_websocket_api_through_localstack_lambda(
    gateway: tuple[RunningGateway, str],
    functions: Callable[..., None],
    dependency_layer: list[str],
    aws: Callable[[str], Any],
) -> None:
    running, prefix = gateway
    # Given the API's functions in LocalStack: $connect checks a ticket, $default answers through
    # the management API (its endpoint in the environment, as the push function's settings hold it)
    functions(f"{prefix}-connect", CONNECT)
    functions(f"{prefix}-echo", ECHO, layers=dependency_layer, env={"WS_ENDPOINT": running.management_url()})
    functions(f"{prefix}-fail", FAIL)
    functions(f"{prefix}-disconnect", DISCONNECT)

    # When a client comes without a valid ticket, then $connect's 403 refuses the handshake
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{running.ws_url()}?ticket=expired", open_timeout=60)
    assert refused.value.response.status_code == 403

    # When a client with a ticket sends a message, then the function's post comes back to it
    with connect(f"{running.ws_url()}?ticket=valid", open_timeout=60) as ws:
        ws.send(json.dumps({"action": "hello", "texto": "olá"}, ensure_ascii=False))
        assert ws.recv(timeout=60) == 'eco $default: {"action": "hello", "texto": "olá"}'

        # And a failing route answers API Gateway's error, the connection staying open
        ws.send(json.dumps({"action": "fail"}))
        error = json.loads(ws.recv(timeout=60))
        assert error["message"] == "Internal server error"
        connection_id = error["connectionId"]
        ws.send("de novo")
        assert ws.recv(timeout=60) == "eco $default: de novo"

    # And closing it runs $disconnect with the connection's id and the close code
    logs = aws("logs")
    wanted = json.dumps([connection_id, 1000])
    messages: list[str] = []
    for _ in range(60):
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/{prefix}-disconnect").get("events", [])
        except logs.exceptions.ResourceNotFoundException:  # LocalStack ships logs asynchronously
            found = []
        messages = [e["message"] for e in found]
        if any(wanted in m for m in messages):
            break
        time.sleep(0.5)
    assert any(f"DISCONNECTED {wanted}" in m for m in messages)
