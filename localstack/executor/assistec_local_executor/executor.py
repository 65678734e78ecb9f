"""HostRuntimeExecutor: LocalStack's RuntimeExecutor contract, fulfilled by a host subprocess.

One subprocess per execution environment (as one container per environment with Docker), so a
redeployed function gets a new environment, a new process and freshly imported code. The function
timeout is enforced here, from outside the process: a handler stuck in C code cannot escape it.
A process that died (timeout, crash, failed init) is started again on the next invoke: a cold start,
as AWS does after resetting a sandbox.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from pathlib import Path

import requests
from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor
from localstack.utils.net import get_free_tcp_port

LOG = logging.getLogger(__name__)

RUNTIME_SCRIPT = Path(__file__).with_name("runtime.py")
# Seconds allowed beyond the function timeout for the result to travel back before we kill.
_GRACE_S = 0.5


def _python() -> str:
    return os.environ.get("ASSISTEC_LAMBDA_PYTHON") or sys.executable


def _layer_paths(function_version: FunctionVersion) -> list[str]:
    paths: list[str] = []
    for layer in function_version.config.layers or []:
        if layer.code is None:
            continue
        root = Path(layer.code.get_unzipped_code_location())
        # What AWS puts on sys.path from /opt for Python runtimes.
        paths += [str(root / "python"), str(root / "python" / "lib" / "python3.13" / "site-packages")]
    return paths


class HostRuntimeExecutor(RuntimeExecutor):  # type: ignore[misc]
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ExecutorEndpoint(self.id, container_address="127.0.0.1")
        self._process: subprocess.Popen[bytes] | None = None
        self._env: dict[str, str] = {}
        self._log_path = Path(config.dirs.tmp) / "assistec-lambda" / f"{self.id}.log"
        self._lock = threading.Lock()
        # Where the output of the next invocation starts: at spawn, so init output (an import
        # error's traceback) lands in the first invocation's logs, as in CloudWatch.
        self._log_offset: int | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        runtime = str(self.function_version.config.runtime or "")
        if not runtime.startswith("python"):
            raise LambdaRuntimeException(
                f"the host executor runs Python functions only, not '{runtime or 'image'}'"
            )
        code_dir = str(self.function_version.config.code.get_unzipped_code_location())
        env = {k: str(v) for k, v in env_vars.items()}
        env.update(
            LAMBDA_TASK_ROOT=code_dir,
            PYTHONPATH=os.pathsep.join([code_dir, *_layer_paths(self.function_version)]),
            PYTHONDONTWRITEBYTECODE="1",
            PATH=os.environ.get("PATH", "/usr/bin:/bin"),
            LANG="C.UTF-8",
            HOME=os.environ.get("HOME", "/tmp"),
            TZ="UTC",  # LocalStack passes ":UTC", which glibc reads as a file name
        )
        self._env = env
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self.executor_endpoint.start()
        self._spawn()

    def _spawn(self) -> None:
        self._log_offset = self._log_path.stat().st_size if self._log_path.exists() else 0
        port = get_free_tcp_port()
        self.executor_endpoint.container_port = port
        env = {**self._env, "ASSISTEC_RUNTIME_PORT": str(port)}
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [_python(), "-S", "-u", str(RUNTIME_SCRIPT)],
                cwd=env["LAMBDA_TASK_ROOT"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        threading.Thread(target=self._watch, args=(self._process,), daemon=True).start()
        self.executor_endpoint.wait_for_startup()

    def _restart(self) -> None:
        self._kill()
        self.executor_endpoint.startup_future = Future()
        self._spawn()

    def _watch(self, process: subprocess.Popen[bytes]) -> None:
        """A process that exits while starting or invoking must not leave LocalStack waiting."""
        code = process.wait()
        endpoint = self.executor_endpoint
        startup = endpoint.startup_future
        if startup is not None and not startup.done():
            startup.set_exception(LambdaRuntimeException(f"runtime exited with status {code} during init"))
        pending = endpoint.invocation_future
        if pending is not None and not pending.done() and process is self._process:
            body = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"Runtime exited with error: exit status {code}",
            }
            pending.set_result(InvocationResult("", json.dumps(body).encode(), is_error=True, logs=None))

    def _kill(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)

    def stop(self) -> None:
        self._kill()
        try:
            self.executor_endpoint.shutdown()
        except Exception as exc:
            LOG.debug("executor endpoint shutdown: %s", exc)

    # --- invoke ----------------------------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._restart()
            endpoint = self.executor_endpoint
            endpoint.invocation_future = Future()
            endpoint.logs = None
            offset = self._log_offset if self._log_offset is not None else self._log_path.stat().st_size
            self._log_offset = None
            request_id = payload["invoke-id"]
            timeout_s = float(self.function_version.config.timeout)
            started = time.monotonic()
            response = requests.post(
                f"http://127.0.0.1:{endpoint.container_port}/invoke",
                json=payload,
                proxies={"http": "", "https": ""},
                timeout=10,
            )
            if response.status_code >= 300:
                raise LambdaRuntimeException(f"runtime refused the invoke: HTTP {response.status_code}")
            try:
                result: InvocationResult = endpoint.invocation_future.result(timeout=timeout_s + _GRACE_S)
            except FutureTimeout:
                self._kill()
                elapsed = time.monotonic() - started
                stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
                line = f"{stamp} {request_id} Task timed out after {timeout_s:.2f} seconds"
                LOG.info("%s: %s (%.2f s)", self.function_version.id.function_name, line, elapsed)
                body = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {request_id} Error: {line.split(' ', 2)[2]}",
                }
                logs = self._read_log(offset) + f"END RequestId: {request_id}\n{line}\n"
                return InvocationResult(request_id, json.dumps(body).encode(), is_error=True, logs=logs)
            result.logs = self._read_log(offset)
            result.request_id = result.request_id or request_id
            return result

    def _read_log(self, offset: int) -> str:
        with self._log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")

    # --- addresses and logs ----------------------------------------------------------------------
    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://127.0.0.1:{port}{self.executor_endpoint.get_endpoint_prefix()}"

    def get_logs(self) -> str:
        try:
            return self._log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # --- versions --------------------------------------------------------------------------------
    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()
        for layer in function_version.config.layers or []:
            if layer.code is not None:
                layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        # LocalStack's own code store owns the unzipped folders; nothing of ours to remove.
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        return Path(_python()).exists()
