"""The stage the console talks to: its AWS clients (LocalStack's endpoint and test credentials for
``local``, as ``make up`` uses; the operator's profile or environment credentials for a real stage),
the stack's outputs, who the operator is, and the ops function."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any

LOCAL_REGION = "us-east-1"
# The ops function may take its whole timeout (900 s, infra capabilities/ops.py: a big restore): wait a
# little longer.
INVOKE_READ_TIMEOUT_S = 920


def local_endpoint() -> str:
    """LocalStack's edge URL, as localstack/devctl/paths.py computes it."""
    return f"http://127.0.0.1:{int(os.environ.get('ASSISTEC_LOCALSTACK_PORT', '4566'))}"


class ConsoleError(Exception):
    """Something the operator must fix (credentials, a stage not deployed, a missing resource);
    ``exit_code`` for the shell."""

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class FunctionFailed(ConsoleError):
    """The ops function crashed (a bug: its errors alarm fires); its error type and message."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"the ops function failed: {error_type}: {message}", exit_code=3)


@dataclass(frozen=True)
class Target:
    stage: str
    profile: str | None = None
    region: str | None = None

    @property
    def stack_name(self) -> str:
        return f"assistec-{self.stage}"


class Aws:
    """The console's way into one stage."""

    def __init__(self, target: Target) -> None:
        self.target = target

    @cached_property
    def _session(self) -> Any:
        import boto3

        if self.target.stage == "local":
            return boto3.Session(
                aws_access_key_id="test",
                aws_secret_access_key="test",
                region_name=self.target.region or LOCAL_REGION,
            )
        session = boto3.Session(profile_name=self.target.profile, region_name=self.target.region)
        if not session.region_name:
            raise ConsoleError("no AWS region: pass --region or set AWS_REGION (or the profile's region)")
        return session

    def client(self, service: str, **config: Any) -> Any:
        from botocore.config import Config

        endpoint = local_endpoint() if self.target.stage == "local" else None
        return self._session.client(
            service, endpoint_url=endpoint, config=Config(**config) if config else None
        )

    @cached_property
    def outputs(self) -> dict[str, str]:
        """The stack's outputs (what every command finds its resources by)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=self.target.stack_name)["Stacks"]
        except ClientError as exc:
            raise ConsoleError(f"stack {self.target.stack_name} not found or not readable: {exc}") from exc
        except BotoCoreError as exc:
            raise ConsoleError(f"cannot reach AWS for {self.target.stack_name}: {exc}") from exc
        return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}

    @cached_property
    def operator(self) -> str:
        """The caller's AWS identity (what every audit entry names)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return str(self.client("sts").get_caller_identity()["Arn"])
        except (ClientError, BotoCoreError) as exc:
            raise ConsoleError(f"no usable AWS credentials: {exc}") from exc

    def invoke(self, command: str, args: dict[str, Any]) -> dict[str, Any]:
        """Run one command in the ops function; its answer (``ok``, ``result`` or ``error``)."""
        name = self.outputs.get("OpsFunctionName")
        if not name:
            raise ConsoleError(
                f"{self.target.stack_name} has no ops function yet (output OpsFunctionName): deploy"
            )
        payload = {"command": command, "args": args, "operator": self.operator}
        response = self.client(
            "lambda", read_timeout=INVOKE_READ_TIMEOUT_S, retries={"total_max_attempts": 1}
        ).invoke(FunctionName=name, Payload=json.dumps(payload).encode())
        body = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            body = body if isinstance(body, dict) else {}
            raise FunctionFailed(str(body.get("errorType", "Unhandled")), str(body.get("errorMessage", "")))
        if not isinstance(body, dict):
            raise FunctionFailed("UnexpectedAnswer", repr(body)[:200])
        return body

    def invoke_function(self, output: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Invoke another function of the stack, found by its output (the backup's)."""
        name = self.outputs[output]
        response = self.client(
            "lambda", read_timeout=INVOKE_READ_TIMEOUT_S * 3, retries={"total_max_attempts": 1}
        ).invoke(FunctionName=name, Payload=json.dumps(payload).encode())
        body = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            body = body if isinstance(body, dict) else {}
            raise ConsoleError(
                f"{output} failed: {body.get('errorType', 'Unhandled')}: {body.get('errorMessage', '')}",
                exit_code=3,
            )
        return body if isinstance(body, dict) else {"answer": body}
