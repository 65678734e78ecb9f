"""The local WebSocket gateway (localstack/ws_gateway: API Gateway WebSocket APIs, which LocalStack's
community edition does not serve) as a background process on 127.0.0.1, started by `make up` only
when the deployed stack declares a WebSocket API.

The contract with the CDK app (issue 14): the stack's output ``WebSocketApi`` holds, as a JSON
string (``Stack.to_json_string``), what the gateway needs to stand in for the stage's API::

    {
      "api_id": "<the API's id; optional, "local" by default>",
      "stage": "v1",
      "route_selection_expression": "$request.body.action",        (optional, this by default)
      "routes": {
        "$connect": {"function": "<function name or ARN>"},
        "$disconnect": {"function": "..."},
        "$default": {"function": "...", "two_way": false},          (two_way: a route response)
        "<custom route key>": {"function": "..."}
      },
      "management_endpoint": {                                      (optional)
        "variable": "<the environment variable the functions read the endpoint from>",
        "functions": ["<name of each function that posts to connections>"]
      }
    }

`make up` then writes the gateway's configuration (.local/ws-gateway/config.json), (re)starts it
when that changed, sets each listed function's ``variable`` to the gateway's management endpoint
(``http://127.0.0.1:4596/<stage>``; in AWS the stage's callback URL, ``https://<api id>.execute-api.
<region>.amazonaws.com/<stage>``) and records ``ws_url`` and ``ws_management_url`` in .local/stack.json.
Without the output nothing happens.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from devctl.paths import LOCAL, LOCALSTACK_URL, REGION
from devctl.simproc import Simulator

OUTPUT = "WebSocketApi"  # the stack output that declares the API
PORT = int(os.environ.get("ASSISTEC_WS_GATEWAY_PORT", "4595"))
MANAGEMENT_PORT = int(os.environ.get("ASSISTEC_WS_GATEWAY_MANAGEMENT_PORT", "4596"))
CONFIG = LOCAL / "ws-gateway" / "config.json"
SIMULATOR = Simulator(
    "ws-gateway",
    "ws_gateway",
    PORT,
    "/_ws_gateway/health",
    ("--management-port", str(MANAGEMENT_PORT), "--config", str(CONFIG)),
)
URL = f"ws://127.0.0.1:{PORT}"
MANAGEMENT_URL = f"http://127.0.0.1:{MANAGEMENT_PORT}"
is_running = SIMULATOR.is_running
stop = SIMULATOR.stop


def declared_api(outputs: Mapping[str, str]) -> dict[str, Any] | None:
    """The WebSocket API the deployed stack declares, or None."""
    raw = outputs.get(OUTPUT)
    if not raw:
        return None
    spec: dict[str, Any] = json.loads(raw)
    return spec


def gateway_config(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The gateway's configuration for the declared API, checked (a wrong declaration stops
    `make up` with the field at fault): its routes invoked through LocalStack's Lambda."""
    from ws_gateway.config import GatewayConfig  # only when the stack has a WebSocket API

    api = {
        key: spec[key] for key in ("api_id", "stage", "route_selection_expression", "routes") if key in spec
    }
    config = {"lambda_endpoint": LOCALSTACK_URL, "region": REGION, "apis": [api]}
    return GatewayConfig.model_validate(config).model_dump(mode="json")


def point_functions_at(lambda_client: Any, functions: list[str], variable: str, endpoint: str) -> None:
    """Set ``variable`` to the gateway's management endpoint on each function (where it differs)."""
    for name in functions:
        env = (
            lambda_client.get_function_configuration(FunctionName=name)
            .get("Environment", {})
            .get("Variables", {})
        )
        if env.get(variable) == endpoint:
            continue
        lambda_client.update_function_configuration(
            FunctionName=name, Environment={"Variables": {**env, variable: endpoint}}
        )
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)


def up(outputs: Mapping[str, str], lambda_client: Any) -> tuple[dict[str, Any], bool]:
    """What `make up` does for the stack's WebSocket API: ``(stack.json entries, whether this call
    started the gateway)``; ``({}, False)`` when the stack declares none."""
    spec = declared_api(outputs)
    if spec is None:
        return {}, False
    config = json.dumps(gateway_config(spec), indent=2, sort_keys=True)
    changed = not CONFIG.exists() or CONFIG.read_text() != config
    if changed:
        CONFIG.parent.mkdir(parents=True, exist_ok=True)
        CONFIG.write_text(config)
        stop()  # a gateway serving an older declaration
    started = SIMULATOR.start()
    stage = json.loads(config)["apis"][0]["stage"]
    endpoint = f"{MANAGEMENT_URL}/{stage}"
    management = spec.get("management_endpoint")
    if management:
        point_functions_at(
            lambda_client, list(management["functions"]), str(management["variable"]), endpoint
        )
    return {"ws_url": f"{URL}/{stage}", "ws_management_url": endpoint}, started
