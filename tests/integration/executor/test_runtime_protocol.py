"""The host executor's function-side runtime, driven over its HTTP protocol against a fake LocalStack.

Fast and LocalStack-free; tests/e2e/test_local_executor.py checks the same behaviour through real
LocalStack.
"""

from __future__ import annotations

import http.server
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

RUNTIME = Path(__file__).resolve().parents[3] / "localstack/executor/assistec_local_executor/runtime.py"


class FakeLocalStack:
    """Records what the runtime POSTs to LocalStack's executor endpoint."""

    def __init__(self) -> None:
        self.posts: queue.Queue[tuple[str, Any]] = queue.Queue()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.posts.put((self.path, json.loads(body) if body else None))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/_localstack_lambda/exec1"

    def next_post(self, timeout: float = 10) -> tuple[str, Any]:
        return self.posts.get(timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Runtime:
    def __init__(
        self,
        code: dict[str, str],
        tmp: Path,
        *,
        handler: str = "app.handler",
        layer: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.fake = FakeLocalStack()
        code_dir = tmp / "task"
        _write(code_dir, code)
        paths = [str(code_dir)]
        if layer is not None:
            _write(tmp / "layer", layer)
            paths.append(str(tmp / "layer" / "python"))
        self.port = _free_port()
        self.log = tmp / "out.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-u", str(RUNTIME)],
            cwd=code_dir,
            env={
                "PATH": os.environ["PATH"],
                "PYTHONPATH": os.pathsep.join(paths),
                "LAMBDA_TASK_ROOT": str(code_dir),
                "LOCALSTACK_RUNTIME_ENDPOINT": self.fake.url,
                "LOCALSTACK_RUNTIME_ID": "exec1",
                "ASSISTEC_RUNTIME_PORT": str(self.port),
                "_HANDLER": handler,
                "AWS_LAMBDA_FUNCTION_NAME": "fn",
                "AWS_LAMBDA_FUNCTION_TIMEOUT": "3",
                **(env or {}),
            },
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        path, _ = self.fake.next_post()
        assert path == "/_localstack_lambda/exec1/status/exec1/ready"

    def invoke(self, event: Any) -> tuple[str, Any, str]:
        request_id = str(uuid.uuid4())
        offset = self.log.stat().st_size
        body = json.dumps(
            {
                "invoke-id": request_id,
                "invoked-function-arn": "arn:fn",
                "payload": json.dumps(event),
                "trace-id": "Root=1-abc",
            }
        ).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/invoke", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 202
        path, result = self.fake.next_post()
        assert path.startswith(f"/_localstack_lambda/exec1/invocations/{request_id}/")
        logs = self.log.read_bytes()[offset:].decode()
        return path.rsplit("/", 1)[1], result, logs

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.fake.server.shutdown()


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    started: list[Runtime] = []

    def _start(code: dict[str, str], **kwargs: Any) -> Runtime:
        runtime = Runtime(code, tmp_path, **kwargs)
        started.append(runtime)
        return runtime

    yield _start
    for runtime in started:
        runtime.close()


APP = """
import os
def handler(event, context):
    print("got", event)
    return {"echo": event, "fn": context.function_name, "env": os.environ.get("GREETING"),
            "left_ms": context.get_remaining_time_in_millis(), "trace": os.environ.get("_X_AMZN_TRACE_ID")}
"""


def test_invoke_returns_the_handler_result_with_context_and_env(start: Any) -> None:
    runtime = start({"app.py": APP}, env={"GREETING": "olá"})
    kind, result, logs = runtime.invoke({"a": 1})
    assert kind == "response"
    assert result["echo"] == {"a": 1}
    assert (result["fn"], result["env"], result["trace"]) == ("fn", "olá", "Root=1-abc")
    assert 0 < result["left_ms"] <= 3000
    lines = logs.splitlines()
    assert lines[0].startswith("START RequestId: ")
    assert "got {'a': 1}" in lines
    assert lines[-2].startswith("END RequestId: ")
    assert lines[-1].startswith("REPORT RequestId: ")
    assert "Init Duration" in lines[-1]
    # A warm second invoke reports no init
    _, _, warm_logs = runtime.invoke({})
    assert "Init Duration" not in warm_logs


def test_handler_exception_is_an_error_with_type_message_and_trace(start: Any) -> None:
    runtime = start({"app.py": "def handler(e, c):\n    raise KeyError('faltou')\n"})
    kind, result, logs = runtime.invoke({})
    assert kind == "error"
    assert result["errorType"] == "KeyError"
    assert result["errorMessage"] == "'faltou'"
    assert any("app.py" in frame and "handler" in frame for frame in result["stackTrace"])
    assert not any("runtime.py" in frame for frame in result["stackTrace"])
    assert "[ERROR] KeyError: 'faltou'" in logs


def test_unserialisable_result_is_a_marshal_error(start: Any) -> None:
    runtime = start({"app.py": "def handler(e, c):\n    return {1, 2}\n"})
    kind, result, _ = runtime.invoke({})
    assert (kind, result["errorType"]) == ("error", "Runtime.MarshalError")


def test_import_error_is_reported_on_invoke_and_the_process_exits(start: Any) -> None:
    runtime = start({"app.py": "import not_installed_anywhere\ndef handler(e, c):\n    return 1\n"})
    kind, result, _ = runtime.invoke({})
    assert kind == "error"
    assert result["errorType"] == "Runtime.ImportModuleError"
    assert "not_installed_anywhere" in result["errorMessage"]
    assert runtime.proc.wait(timeout=5) == 1  # a fresh environment retries the init


def test_missing_handler_function_is_handler_not_found(start: Any) -> None:
    runtime = start({"app.py": "x = 1\n"})
    _, result, _ = runtime.invoke({})
    assert result["errorType"] == "Runtime.HandlerNotFound"


def test_layers_are_importable_and_the_interpreter_site_packages_are_not(start: Any) -> None:
    code = {
        "app.py": "import layered\ndef handler(e, c):\n    import importlib.util as u\n"
        "    return [layered.VALUE, u.find_spec('pytest') is None]\n"
    }
    runtime = start(code, layer={"python/layered.py": "VALUE = 'da camada'\n"})
    kind, result, _ = runtime.invoke({})
    # pytest is installed in the interpreter running this test, yet the function cannot see it
    assert (kind, result) == ("response", ["da camada", True])
