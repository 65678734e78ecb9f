"""The Lambda proxy integration: each event goes to its route's function through Lambda's real
Invoke API (boto3, synchronous ``RequestResponse``), at the configured endpoint (LocalStack, whose
Lambda runs the functions through our executor), and the answer is classified as API Gateway
classifies it. API Gateway does not retry a failed invocation and gives up after the integration
timeout (29 s), so neither does this."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

log = logging.getLogger("ws_gateway")

# LocalStack's own credentials: locally any key is accepted, and the gateway holds no AWS secret.
LOCAL_ACCESS_KEY = "test"
LOCAL_SECRET_KEY = "test"


class Outcome(Enum):
    OK = "ok"  # the function returned (its payload is the proxy response)
    FUNCTION_ERROR = "function_error"  # the function raised, timed out or crashed (X-Amz-Function-Error)
    TIMEOUT = "timeout"  # no answer within the integration timeout
    INVOKE_ERROR = "invoke_error"  # Lambda refused the call (no such function, throttled, ...)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    payload: Any = None  # the decoded response payload (OK, FUNCTION_ERROR)
    detail: str = ""  # what went wrong, for the log


class LambdaIntegration:
    """Invokes functions from the event loop through a pool of threads (boto3 blocks)."""

    def __init__(self, endpoint: str, region: str, timeout_s: float, *, max_workers: int = 64) -> None:
        self.endpoint = endpoint
        self.region = region
        self.timeout_s = timeout_s
        self._max_workers = max_workers
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ws-gateway-invoke")
        self._client: LambdaClient | None = None
        self._lock = threading.Lock()

    def _lambda(self) -> LambdaClient:
        with self._lock:
            if self._client is None:
                self._client = boto3.client(
                    "lambda",
                    endpoint_url=self.endpoint,
                    region_name=self.region,
                    aws_access_key_id=LOCAL_ACCESS_KEY,
                    aws_secret_access_key=LOCAL_SECRET_KEY,
                    config=Config(
                        retries={"total_max_attempts": 1},
                        connect_timeout=5,
                        # The gateway stops waiting at the integration timeout; the call itself may
                        # take as long as the function's own timeout.
                        read_timeout=900,
                        max_pool_connections=self._max_workers,
                    ),
                )
            return self._client

    def _invoke_blocking(self, function: str, event: dict[str, Any]) -> Result:
        try:
            response = self._lambda().invoke(
                FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
            )
        except ClientError as exc:
            return Result(Outcome.INVOKE_ERROR, detail=f"{exc.response['Error'].get('Code')}: {exc}")
        except BotoCoreError as exc:
            return Result(Outcome.INVOKE_ERROR, detail=str(exc))
        raw = response["Payload"].read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        if response.get("FunctionError"):
            return Result(Outcome.FUNCTION_ERROR, payload, detail=str(response["FunctionError"]))
        return Result(Outcome.OK, payload)

    async def invoke(self, function: str, event: dict[str, Any]) -> Result:
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(self._pool, self._invoke_blocking, function, event)
        try:
            return await asyncio.wait_for(call, self.timeout_s)
        except TimeoutError:
            return Result(Outcome.TIMEOUT, detail=f"no answer in {self.timeout_s:g} s")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
