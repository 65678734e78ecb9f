"""A local stand-in for API Gateway WebSocket APIs, which LocalStack's community edition does not
serve (issue 14, in progress): a WebSocket server on 127.0.0.1 that speaks API Gateway's protocol to
the deployed functions, as the executor (localstack/executor) stands in for Lambda's sandbox.

- ``$connect``, ``$disconnect``, ``$default`` and custom routes, chosen by the API's route selection
  expression (``$request.body.action``), each a Lambda proxy integration invoked through Lambda's
  real Invoke API at LocalStack with API Gateway's event shapes (tests/fixtures/apigw_websocket);
- the management API (``POST``/``GET``/``DELETE /{stage}/@connections/{id}``) that boto3's
  ``apigatewaymanagementapi`` client calls, with AWS's answers and errors (``GoneException``);
- API Gateway's answers and limits: the handshake refused with ``$connect``'s status (502 on a
  function error), "Forbidden" and "Internal server error" messages to the client, 32 KB frames,
  128 KB messages, text frames only, 10 min idle and 2 h connections (configurable).

Not emulated: Lambda (REQUEST) authorizers, non-proxy integrations (mapping templates, HTTP, MOCK),
route request validation and models, API keys and usage plans, throttling, access logs, TLS (the
client speaks ``ws://``), custom domains.

Run it: ``python -m ws_gateway --config gateway.json --port 4595 --management-port 4596`` (binds
127.0.0.1; the file's format is in ``ws_gateway.config``). ``make up`` starts it when the deployed
stack declares a WebSocket API (devctl/ws_gateway_proc.py). In tests, ``start(config)`` serves on
free ports from a thread and ``stop()`` ends it.

The modules: ``config`` (the APIs, routes and limits), ``events`` (API Gateway's event shapes and
ids), ``routing`` (route selection), ``integration`` (Lambda Invoke), ``gateway`` (handshake,
messages, limits, close), ``management`` (the @connections API), ``server`` (serving, the CLI).
"""

from __future__ import annotations

from ws_gateway.config import Api, GatewayConfig, Route, load
from ws_gateway.server import RunningGateway, start

__all__ = ["Api", "GatewayConfig", "Route", "RunningGateway", "load", "start"]
