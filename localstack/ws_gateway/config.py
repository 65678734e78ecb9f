"""The gateway's configuration: the WebSocket API(s) it stands in for, each with its stage, route
selection expression and routes (route key → Lambda function), and the limits API Gateway enforces.

A JSON file (``python -m ws_gateway --config FILE``)::

    {
      "lambda_endpoint": "http://127.0.0.1:4566",
      "region": "us-east-1",
      "apis": [
        {
          "api_id": "local",
          "stage": "v1",
          "route_selection_expression": "$request.body.action",
          "routes": {
            "$connect": {"function": "assistec-local-RealtimeConnect"},
            "$disconnect": {"function": "assistec-local-RealtimeDisconnect"},
            "$default": {"function": "assistec-local-RealtimeMessage", "two_way": true},
            "chat": {"function": "arn:aws:lambda:us-east-1:000000000000:function:assistec-local-Chat"}
          }
        }
      ]
    }

``two_way`` says the route has a route response: only then does the integration's ``body`` go back
to the client, as in API Gateway. The limits default to AWS's (10 min idle, 2 h per connection, the
29 s integration timeout); tests shorten them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"

# API Gateway's quotas for WebSocket APIs, none adjustable (AWS's "Quotas for configuring and running a
# WebSocket API in API Gateway").
IDLE_TIMEOUT_S = 10 * 60
MAX_CONNECTION_S = 2 * 60 * 60
INTEGRATION_TIMEOUT_S = 29.0
MESSAGE_LIMIT_BYTES = 128 * 1024
FRAME_LIMIT_BYTES = 32 * 1024

# `$request.body.action`, `${request.body.action}`, `$request.body.message.type`: the forms a
# WebSocket API's route selection expression takes for a JSON body.
_SELECTION = re.compile(
    r"^(?:\$request\.body\.(?P<plain>[^.{}\s]+(?:\.[^.{}\s]+)*)|\$\{request\.body\.(?P<braced>[^.{}\s]+(?:\.[^.{}\s]+)*)\})$"
)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    function: Annotated[str, Field(min_length=1)]  # a function name or ARN, as Lambda's Invoke takes it
    two_way: bool = False


class Api(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_id: str = "local"
    stage: str
    route_selection_expression: str = "$request.body.action"
    routes: dict[str, Route]

    @field_validator("api_id", "stage")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r}: letters, digits, '-' and '_' only (it is a URL path segment)")
        return value

    @field_validator("route_selection_expression")
    @classmethod
    def _expression(cls, value: str) -> str:
        if not _SELECTION.match(value):
            raise ValueError(
                f"{value!r}: only $request.body.<field>[.<field>...] (or ${{request.body...}}) is supported"
            )
        return value

    @field_validator("routes")
    @classmethod
    def _route_keys(cls, routes: dict[str, Route]) -> dict[str, Route]:
        unknown = [key for key in routes if key.startswith("$") and key not in (CONNECT, DISCONNECT, DEFAULT)]
        if unknown:
            raise ValueError(f"unknown reserved route keys {unknown}: only $connect, $disconnect, $default")
        return routes

    @property
    def selection_path(self) -> tuple[str, ...]:
        """The JSON path the route selection expression reads from a message body."""
        match = _SELECTION.match(self.route_selection_expression)
        assert match is not None  # validated
        return tuple((match["plain"] or match["braced"]).split("."))


class GatewayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    apis: Annotated[list[Api], Field(min_length=1)]
    lambda_endpoint: str = "http://127.0.0.1:4566"
    region: str = "us-east-1"
    idle_timeout_s: Annotated[float, Field(gt=0)] = IDLE_TIMEOUT_S
    max_connection_s: Annotated[float, Field(gt=0)] = MAX_CONNECTION_S
    integration_timeout_s: Annotated[float, Field(gt=0)] = INTEGRATION_TIMEOUT_S

    @model_validator(mode="after")
    def _unique_apis(self) -> Self:
        ids = [api.api_id for api in self.apis]
        if len(set(ids)) != len(ids):
            raise ValueError(f"api_id must be unique: {ids}")
        return self

    def find_api(self, segments: list[str]) -> Api | None:
        """The API a URL path names: ``/{stage}`` when one API has that stage, or ``/{api_id}/{stage}``."""
        if len(segments) == 1:
            matches = [api for api in self.apis if api.stage == segments[0]]
            return matches[0] if len(matches) == 1 else None
        if len(segments) == 2:
            return next((a for a in self.apis if a.api_id == segments[0] and a.stage == segments[1]), None)
        return None


def load(path: str | Path) -> GatewayConfig:
    return GatewayConfig.model_validate(json.loads(Path(path).read_text()))
