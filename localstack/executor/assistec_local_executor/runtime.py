"""The function side of the host executor: a tiny Lambda runtime, standard library only.

It runs as ``python -S -u runtime.py`` with ``PYTHONPATH`` = the function's code, then each layer's
``python/`` folder, exactly what ``/var/task`` and ``/opt/python`` give a function in AWS; ``-S``
keeps the interpreter's own site-packages off the path, so a dependency missing from the layer
fails here as it would there.

Protocol (LocalStack's, as its Go runtime-init speaks it): POST ``{endpoint}/status/{id}/ready``
once initialised; then for each ``POST /invoke`` received on our port, run the handler and POST
``{endpoint}/invocations/{request id}/response`` (or ``/error``). Output goes to stdout/stderr,
which the executor captures per invocation; START/END/REPORT lines frame it as in CloudWatch.
What Lambda enforces (the function timeout, MemorySize, the 10 s init, the 6 MB payloads) the
executor enforces from outside this process (limits.py): it can kill a stuck or bloated one.
"""

from __future__ import annotations

import http.server
import importlib
import json
import os
import queue
import sys
import threading
import time
import traceback
import urllib.request
from typing import Any

ENDPOINT = os.environ["LOCALSTACK_RUNTIME_ENDPOINT"]
RUNTIME_ID = os.environ["LOCALSTACK_RUNTIME_ID"]
PORT = int(os.environ["ASSISTEC_RUNTIME_PORT"])
HANDLER = os.environ.get("_HANDLER", "")
VERSION = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
MEMORY_MB = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
TIMEOUT_S = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))

_jobs: queue.Queue[dict[str, Any]] = queue.Queue()


def _post(path: str, body: bytes) -> None:
    request = urllib.request.Request(
        f"{ENDPOINT}{path}", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def _error_body(exc: BaseException, error_type: str | None = None, request_id: str = "") -> dict[str, Any]:
    # The user's frames only, as in AWS: not this runtime's own.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        "stackTrace": [
            f'  File "{f.filename}", line {f.lineno}, in {f.name}\n    {f.line}\n' for f in frames
        ],
    }


def _load_handler() -> Any:
    module_name, _, function_name = HANDLER.rpartition(".")
    if not module_name or not function_name:
        raise ValueError(f"Bad handler '{HANDLER}': expected module.function")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:
        raise _InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _InitError(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'"
        )
    return handler


def _peak_rss_mb() -> int:
    # VmHWM, not getrusage: Linux carries ru_maxrss over from the parent (LocalStack) across exec.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


class _InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class LambdaContext:
    """The attributes of AWS's context object that handlers (and Powertools) read."""

    def __init__(self, request_id: str, function_arn: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = VERSION
        self.memory_limit_in_mb = str(MEMORY_MB)
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


class _InvokeHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/invoke":
            self.send_response(404)
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length") or 0)
        _jobs.put(json.loads(self.rfile.read(length)))
        self.send_response(202)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _run(job: dict[str, Any], handler: Any, init_error: _InitError | None, init_ms: float | None) -> None:
    request_id = job["invoke-id"]
    os.environ["_X_AMZN_TRACE_ID"] = job.get("trace-id") or ""
    print(f"START RequestId: {request_id} Version: {VERSION}", flush=True)
    started = time.perf_counter()
    outcome: tuple[str, bytes]
    if init_error is not None:
        body = {
            "errorMessage": str(init_error),
            "errorType": init_error.error_type,
            "requestId": request_id,
            "stackTrace": [],
        }
        print(f"[ERROR] {init_error.error_type}: {init_error}", file=sys.stderr, flush=True)
        outcome = ("error", json.dumps(body).encode())
    else:
        context = LambdaContext(request_id, job.get("invoked-function-arn", ""), time.time() + TIMEOUT_S)
        try:
            event = json.loads(job.get("payload") or "null")
            result = handler(event, context)
            try:
                outcome = ("response", json.dumps(result).encode())
            except (TypeError, ValueError) as exc:
                outcome = (
                    "error",
                    json.dumps(_error_body(exc, "Runtime.MarshalError", request_id)).encode(),
                )
        except Exception as exc:
            sys.stdout.flush()
            print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
            print("Traceback (most recent call last):", file=sys.stderr)
            print("".join(_error_body(exc)["stackTrace"]), end="", file=sys.stderr)
            sys.stderr.flush()
            outcome = ("error", json.dumps(_error_body(exc, request_id=request_id)).encode())
    duration_ms = (time.perf_counter() - started) * 1000
    max_rss_mb = _peak_rss_mb()
    init = f"\tInit Duration: {init_ms:.2f} ms" if init_ms is not None else ""
    print(f"END RequestId: {request_id}", flush=True)
    print(
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
        f"\tBilled Duration: {int(duration_ms) + 1} ms\tMemory Size: {MEMORY_MB} MB"
        f"\tMax Memory Used: {max_rss_mb} MB{init}",
        flush=True,
    )
    sys.stderr.flush()
    # The executor reads this invocation's output when the result arrives: everything is flushed above.
    _post(f"/invocations/{request_id}/{outcome[0]}", outcome[1])


def _exit_with_parent(parent: int, poll_s: float = 1.0) -> None:
    """The executor ends this process when it is done with it. If LocalStack itself dies first (a
    hang, then SIGKILL) nothing would, and the runtime would serve no one forever: leave once
    reparented. (PR_SET_PDEATHSIG would follow the spawning *thread*, which LocalStack recycles.)"""
    while True:
        time.sleep(poll_s)
        if os.getppid() != parent:
            os._exit(0)


def main() -> None:
    # sys.path[0] is this file's folder (we run as a script): the function must not see it. The
    # function's code and layers come from PYTHONPATH, set by the executor.
    del sys.path[0]
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    started = time.perf_counter()
    handler: Any = None
    init_error: _InitError | None = None
    try:
        handler = _load_handler()
    except _InitError as exc:
        init_error = exc
        traceback.print_exc(file=sys.stderr)
    except Exception as exc:
        init_error = _InitError(
            "Runtime.UserCodeSyntaxError" if isinstance(exc, SyntaxError) else "Runtime.ImportModuleError",
            str(exc),
        )
        traceback.print_exc(file=sys.stderr)
    init_ms: float | None = (time.perf_counter() - started) * 1000

    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), _InvokeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _post(f"/status/{RUNTIME_ID}/ready", b"{}")
    while True:
        job = _jobs.get()
        _run(job, handler, init_error, init_ms)
        init_ms = None
        if init_error is not None:
            # As in AWS, a failed init is retried by a fresh environment on the next invoke.
            os._exit(1)


if __name__ == "__main__":
    main()
