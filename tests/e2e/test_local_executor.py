"""The host executor inside real LocalStack: functions created through the Lambda API, run as host
subprocesses. Invoke, environment, errors, timeouts, CloudWatch logs, layers and redeploys."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def lam(aws: Callable[[str], Any]) -> Any:
    return aws("lambda")


@pytest.fixture
def make_function(lam: Any) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def make(
        code: str, *, timeout: int = 5, layers: list[str] | None = None, env: dict[str, str] | None = None
    ) -> str:
        name = f"exec-test-{uuid.uuid4().hex[:10]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": _zip({"app.py": code})},
            Timeout=timeout,
            Layers=layers or [],
            Environment={"Variables": env or {}},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
        created.append(name)
        return name

    yield make
    for name in created:
        lam.delete_function(FunctionName=name)


def _invoke(lam: Any, name: str, event: Any = None) -> tuple[str | None, Any, str]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), LogType="Tail")
    logs = base64.b64decode(response.get("LogResult", "")).decode()
    return response.get("FunctionError"), json.loads(response["Payload"].read()), logs


def test_invoke_with_environment_and_cloudwatch_logs(lam: Any, make_function: Any, aws: Any) -> None:
    name = make_function(
        "import os\ndef handler(e, c):\n    print('processando', e['n'])\n"
        "    return {'n': e['n'] * 2, 'env': os.environ['SHOP'], 'fn': c.function_name}\n",
        env={"SHOP": "Conserta Já"},
    )
    error, payload, logs = _invoke(lam, name, {"n": 21})
    assert error is None
    assert payload == {"n": 42, "env": "Conserta Já", "fn": name}
    assert "processando 21" in logs
    # The same lines reach CloudWatch Logs
    messages: list[str] = []
    logs = aws("logs")
    for _ in range(20):
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}").get("events", [])
        except logs.exceptions.ResourceNotFoundException:  # LocalStack ships logs asynchronously
            events = []
        messages = [e["message"] for e in events]
        if any("REPORT RequestId" in m for m in messages):
            break
        time.sleep(0.5)
    assert any(m.startswith("START RequestId") for m in messages)
    assert any("processando 21" in m for m in messages)


def test_handler_error_surfaces_type_message_and_stack(lam: Any, make_function: Any) -> None:
    name = make_function("def handler(e, c):\n    raise ValueError('orçamento inválido')\n")
    error, payload, logs = _invoke(lam, name)
    assert error == "Unhandled"
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "orçamento inválido"
    assert any("app.py" in frame for frame in payload["stackTrace"])
    assert "[ERROR] ValueError" in logs


def test_timeout_is_enforced_and_the_next_invoke_works(lam: Any, make_function: Any) -> None:
    name = make_function(
        "import time\ndef handler(e, c):\n    time.sleep(e.get('sleep', 0))\n    return 'ok'\n", timeout=1
    )
    started = time.monotonic()
    error, payload, logs = _invoke(lam, name, {"sleep": 30})
    assert time.monotonic() - started < 10
    assert error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    assert "Task timed out after 1.00 seconds" in logs
    # The killed environment is replaced: a cold start, then a normal answer
    error, payload, logs = _invoke(lam, name, {"sleep": 0})
    assert (error, payload) == (None, "ok")
    assert "Init Duration" in logs


def test_layers_are_on_the_path_and_missing_ones_fail_like_aws(lam: Any, make_function: Any) -> None:
    layer = lam.publish_layer_version(
        LayerName=f"exec-test-layer-{uuid.uuid4().hex[:6]}",
        Content={"ZipFile": _zip({"python/precos.py": "TABELA = {'tela': 35000}\n"})},
        CompatibleRuntimes=["python3.13"],
    )
    code = "import precos\ndef handler(e, c):\n    return precos.TABELA['tela']\n"
    with_layer = make_function(code, layers=[layer["LayerVersionArn"]])
    assert _invoke(lam, with_layer)[:2] == (None, 35000)
    without_layer = make_function(code)
    error, payload, _ = _invoke(lam, without_layer)
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "precos" in payload["errorMessage"]
    # The project's own dependencies are not visible either: only what the layer ships
    venv_only = make_function("def handler(e, c):\n    import pydantic\n    return 1\n")
    error, payload, _ = _invoke(lam, venv_only)
    assert (error, payload["errorType"]) == ("Unhandled", "ModuleNotFoundError")


def test_redeployed_code_is_picked_up_without_restarting_localstack(lam: Any, make_function: Any) -> None:
    name = make_function("def handler(e, c):\n    return 'v1'\n")
    assert _invoke(lam, name)[1] == "v1"
    lam.update_function_code(
        FunctionName=name, ZipFile=_zip({"app.py": "def handler(e, c):\n    return 'v2'\n"})
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert _invoke(lam, name)[1] == "v2"
