"""Step Functions: start a state machine's execution, and hand a waiting task's token back."""

from __future__ import annotations

import json
from typing import Any, Protocol

from assistec.errors import ServiceUnavailableError


class FlowStarter(Protocol):
    def start(self, name: str, flow: dict[str, Any]) -> str:
        """Start an execution named ``name`` with ``flow`` as its input; its ARN."""
        ...


class FlowResumer(Protocol):
    def resume(self, token: str, output: dict[str, Any]) -> None:
        """Complete the task waiting on ``token`` with ``output``."""
        ...


def _client() -> Any:
    import boto3  # deferred: only the flows' own routes and tasks need it

    return boto3.client("stepfunctions")


class StepFunctionsStarter:
    def __init__(self, state_machine_arn: str | None) -> None:
        self._arn = state_machine_arn
        self._client: Any = None

    def start(self, name: str, flow: dict[str, Any]) -> str:
        if not self._arn:
            raise ServiceUnavailableError("O fluxo de pagamento não está configurado neste ambiente.")
        if self._client is None:
            self._client = _client()
        started = self._client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(flow))
        return str(started["executionArn"])


class StepFunctionsResumer:
    def __init__(self) -> None:
        self._client: Any = None

    def resume(self, token: str, output: dict[str, Any]) -> None:
        if self._client is None:
            self._client = _client()
        self._client.send_task_success(taskToken=token, output=json.dumps(output))
