"""HostRuntimeExecutor: LocalStack's RuntimeExecutor contract, fulfilled by a host subprocess.

One subprocess per execution environment (as one container per environment with Docker), so a
redeployed function gets a new environment, a new process and freshly imported code. What Lambda
enforces is enforced here, from outside the process (see limits.py): the function timeout (a
handler stuck in C code cannot escape it), MemorySize (a watchdog kills the process group past it),
the 10 s init limit (then the init is retried inside the invoke) and the 6 MB request and response
payloads. A process that died (timeout, crash, out of memory) is started again on the next invoke:
a cold start, as AWS does after resetting a sandbox.
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
from concurrent.futures import CancelledError, Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from pathlib import Path

import requests
from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint, ShutdownDuringStartup
from localstack.services.lambda_.invocation.lambda_models import (
    FunctionVersion,
    InvocationResult,
    RequestEntityTooLargeException,
)
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor
from localstack.utils.net import get_free_tcp_port
from localstack.utils.threads import TMP_THREADS

from assistec_local_executor import limits, threads

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


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _RuntimeExited(Exception):
    """The runtime process exited (crashed, or was killed for its memory) while invoking."""

    def __init__(self, exit: limits.Exit) -> None:
        super().__init__(limits.exit_reason(exit.returncode))
        self.exit = exit


class HostRuntimeExecutor(RuntimeExecutor):  # type: ignore[misc]
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ExecutorEndpoint(self.id, container_address="127.0.0.1")
        self._process: subprocess.Popen[bytes] | None = None
        self._env: dict[str, str] = {}
        self._log_path = Path(config.dirs.tmp) / "assistec-lambda" / f"{self.id}.log"
        self._lock = threading.Lock()
        # Where the output of the next invocation starts: at the first spawn since the last
        # invocation, so init output (an import error's traceback, an INIT_REPORT) lands in the
        # next invocation's logs, as in CloudWatch.
        self._log_offset: int | None = None
        # The last init ran past the init limit: the next invoke retries it within its timeout.
        self._retry_init = False
        threads.start_reaper(TMP_THREADS)

    @property
    def _memory_mb(self) -> int:
        return int(self.function_version.config.memory_size or 128)

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
        # An init past the limit does not fail the environment: as in AWS, the first invoke retries it.
        self._retry_init = not self._start_runtime(limits.INIT_LIMIT_S, phase="init")

    def _start_runtime(self, limit_s: float, phase: str) -> bool:
        """Spawn the runtime and wait until it is ready; past ``limit_s`` kill it, write the
        INIT_REPORT Lambda writes, and return False."""
        startup: Future[bool] = Future()
        self.executor_endpoint.startup_future = startup
        started = time.monotonic()
        self._spawn(startup)
        try:
            startup.result(timeout=limit_s)
        except FutureTimeout:
            self._kill()
            self._append_log(limits.init_report(limits.monotonic_ms_since(started), phase, "timeout"))
            LOG.info("%s: init timed out after %.0f s (%s phase)", self._name, limit_s, phase)
            return False
        except CancelledError as exc:  # the environment was stopped while starting
            raise ShutdownDuringStartup("Executor environment shutdown during startup") from exc
        return True

    def _spawn(self, startup: Future[bool]) -> None:
        if self._log_offset is None:
            self._log_offset = self._log_path.stat().st_size if self._log_path.exists() else 0
        port = get_free_tcp_port()
        self.executor_endpoint.container_port = port
        env = {**self._env, "ASSISTEC_RUNTIME_PORT": str(port)}
        with self._log_path.open("ab") as log:
            process = subprocess.Popen(
                [_python(), "-S", "-u", str(RUNTIME_SCRIPT)],
                cwd=env["LAMBDA_TASK_ROOT"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._process = process
        threading.Thread(
            target=self._watch, args=(process, startup), name=f"assistec-watch-{process.pid}", daemon=True
        ).start()

    def _watch(self, process: subprocess.Popen[bytes], startup: Future[bool]) -> None:
        """For the process's whole life: enforce MemorySize; then make sure an exit while starting
        or invoking does not leave LocalStack waiting."""
        exit = limits.watch(process, self._memory_mb, busy=lambda: self._busy(startup))
        if exit.out_of_memory:
            LOG.info("%s: runtime killed past %d MB (saw %d MB)", self._name, self._memory_mb, exit.peak_mb)
        with contextlib.suppress(InvalidStateError):
            if not startup.done():
                startup.set_exception(
                    LambdaRuntimeException(
                        f"runtime exited with error: {limits.exit_reason(exit.returncode)} during init"
                    )
                )
        pending = self.executor_endpoint.invocation_future
        if pending is not None and process is self._process:
            with contextlib.suppress(InvalidStateError):
                if not pending.done():
                    pending.set_exception(_RuntimeExited(exit))

    def _busy(self, startup: Future[bool]) -> bool:
        """Starting, or an invoke in flight: the runtime's memory may grow."""
        pending = self.executor_endpoint.invocation_future
        return not startup.done() or (pending is not None and not pending.done())

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

    @property
    def _name(self) -> str:
        return str(self.function_version.id.function_name)

    # --- invoke ----------------------------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        # LocalStack's own per-invocation threads, joined and forgotten (see threads.py).
        threads.reap_finished(TMP_THREADS)
        if len((payload.get("payload") or "").encode()) > limits.REQUEST_LIMIT_BYTES:
            raise RequestEntityTooLargeException(limits.request_too_large_message())
        with self._lock:
            return self._invoke(payload)

    def _invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        timeout_s = float(self.function_version.config.timeout)
        started = time.monotonic()
        deadline: float | None = None
        if not self._retry_init and (self._process is None or self._process.poll() is not None):
            # A cold start after the environment was reset (timeout, crash, out of memory).
            self._retry_init = not self._start_runtime(limits.INIT_LIMIT_S, phase="init")
        if self._retry_init:
            # The init is retried inside the invoke, and counts against the function timeout.
            self._retry_init = False
            started = time.monotonic()
            deadline = started + timeout_s
            if not self._start_runtime(timeout_s, phase="invoke"):
                return self._init_failed(request_id, timeout_s, started)
        endpoint = self.executor_endpoint
        endpoint.invocation_future = Future()
        endpoint.logs = None
        offset = self._take_log_offset()
        if deadline is None:
            started = time.monotonic()
            deadline = started + timeout_s
        response = requests.post(
            f"http://127.0.0.1:{endpoint.container_port}/invoke",
            json=payload,
            proxies={"http": "", "https": ""},
            timeout=10,
        )
        if response.status_code >= 300:
            raise LambdaRuntimeException(f"runtime refused the invoke: HTTP {response.status_code}")
        try:
            result: InvocationResult = endpoint.invocation_future.result(
                timeout=max(deadline - time.monotonic(), 0) + _GRACE_S
            )
        except FutureTimeout:
            self._kill()
            line = f"{_stamp()} {request_id} Task timed out after {timeout_s:.2f} seconds"
            LOG.info("%s: %s (%.2f s)", self._name, line, time.monotonic() - started)
            body = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: {line.split(' ', 2)[2]}",
            }
            logs = self._read_log(offset) + f"END RequestId: {request_id}\n{line}\n"
            return InvocationResult(request_id, json.dumps(body).encode(), is_error=True, logs=logs)
        except _RuntimeExited as exited:
            return self._exited(request_id, exited.exit, started, offset)
        result.logs = self._read_log(offset)
        result.request_id = result.request_id or request_id
        if len(result.payload or b"") > limits.RESPONSE_LIMIT_BYTES:
            LOG.info("%s: response of %d bytes refused", self._name, len(result.payload))
            body = limits.response_too_large_body()
            return InvocationResult(
                result.request_id, json.dumps(body).encode(), is_error=True, logs=result.logs
            )
        return result

    def _exited(self, request_id: str, exit: limits.Exit, started: float, offset: int) -> InvocationResult:
        # Lambda's cgroup caps usage at the limit, so that is what its REPORT shows.
        used = self._memory_mb if exit.out_of_memory else exit.peak_mb
        tail = limits.exit_log_lines(
            request_id, exit.returncode, limits.monotonic_ms_since(started), self._memory_mb, used
        )
        body = limits.exit_error_body(request_id, exit.returncode)
        logs = self._read_log(offset) + tail
        return InvocationResult(request_id, json.dumps(body).encode(), is_error=True, logs=logs)

    def _init_failed(self, request_id: str, timeout_s: float, started: float) -> InvocationResult:
        offset = self._take_log_offset()
        line = f"{_stamp()} {request_id} Task timed out after {timeout_s:.2f} seconds"
        tail = (
            f"END RequestId: {request_id}\n"
            f"REPORT RequestId: {request_id}\tDuration: {limits.monotonic_ms_since(started):.2f} ms"
            f"\tMemory Size: {self._memory_mb} MB\tStatus: timeout\n{line}\n"
        )
        body = limits.init_failed_body(request_id)
        logs = self._read_log(offset) + tail
        return InvocationResult(request_id, json.dumps(body).encode(), is_error=True, logs=logs)

    def _take_log_offset(self) -> int:
        offset = self._log_offset
        self._log_offset = None
        if offset is not None:
            return offset
        return self._log_path.stat().st_size if self._log_path.exists() else 0

    def _append_log(self, text: str) -> None:
        with self._log_path.open("ab") as log:
            log.write(text.encode())

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
