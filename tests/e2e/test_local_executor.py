"""The host executor inside real LocalStack: functions created through the Lambda API, run as host
subprocesses. Invoke, environment, errors, timeouts, CloudWatch logs, layers and redeploys; what
Lambda enforces (MemorySize, the 10 s init, 6 MB request and response), reported as Lambda reports
it; and LocalStack staying flat under sustained use of the local API."""

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
from botocore.exceptions import ClientError

from tests.bench.test_soak import hammer, localstack_pid, process_figures

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
        code: str,
        *,
        timeout: int = 5,
        layers: list[str] | None = None,
        env: dict[str, str] | None = None,
        memory: int = 128,
    ) -> str:
        name = f"exec-test-{uuid.uuid4().hex[:10]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": _zip({"app.py": code})},
            Timeout=timeout,
            MemorySize=memory,
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


def test_memory_size_is_enforced_and_reported_as_lambda_does(lam: Any, make_function: Any) -> None:
    # Given a function with MemorySize 128 MB that allocates what the event asks
    name = make_function(
        "def handler(e, c):\n    chunks = [b'x' * (8 << 20) for _ in range(e['mb'] // 8)]\n"
        "    return len(chunks)\n",
        memory=128,
    )
    assert _invoke(lam, name, {"mb": 16})[:2] == (None, 2)
    # When an invoke allocates past it
    error, payload, logs = _invoke(lam, name, {"mb": 1024})
    # Then the runtime was killed and the invoke fails as Lambda's does
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    assert "Memory Size: 128 MB\tMax Memory Used: 128 MB" in logs
    assert "Error: Runtime exited with error: signal: killed\nRuntime.ExitError" in logs
    # And the next invoke gets a fresh environment (a cold start) that works
    error, payload, logs = _invoke(lam, name, {"mb": 16})
    assert (error, payload) == (None, 2)
    assert "Init Duration" in logs


SLOW_INIT = """
import os, time
if os.environ.get("ALWAYS_SLOW") or not os.path.exists(os.environ["MARKER"]):
    open(os.environ["MARKER"], "w").close()
    time.sleep(float(os.environ["INIT_SLEEP"]))
def handler(e, c):
    return "pronto"
"""


def test_an_init_past_10_s_is_retried_inside_the_first_invoke(
    lam: Any, make_function: Any, tmp_path: Any
) -> None:
    # Given a function whose first init takes 15 s (a later one is quick)
    marker = tmp_path / "initialised"
    name = make_function(SLOW_INIT, env={"MARKER": str(marker), "INIT_SLEEP": "15"})
    # When it is invoked
    error, payload, logs = _invoke(lam, name)
    # Then the init was abandoned at the 10 s limit, retried inside the invoke, and the invoke worked
    assert marker.exists()
    assert (error, payload) == (None, "pronto")
    assert "\tPhase: init\tStatus: timeout" in logs


def test_an_init_that_overruns_its_retry_fails_the_invoke(
    lam: Any, make_function: Any, tmp_path: Any
) -> None:
    # Given a function whose every init takes 30 s, and a 2 s timeout
    name = make_function(
        SLOW_INIT, timeout=2, env={"MARKER": str(tmp_path / "m"), "ALWAYS_SLOW": "1", "INIT_SLEEP": "30"}
    )
    # When it is invoked
    error, payload, logs = _invoke(lam, name)
    # Then the init timed out at 10 s, its retry inside the invoke at the function timeout, and the
    # invoke failed
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.Unknown"
    assert "\tPhase: init\tStatus: timeout" in logs
    assert "\tPhase: invoke\tStatus: timeout" in logs


def test_a_request_over_6_mb_is_refused_and_one_under_it_runs(lam: Any, make_function: Any) -> None:
    name = make_function("def handler(e, c):\n    return len(e['blob'])\n")
    # When the request body is over 6 MB (6,291,456 bytes)
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName=name, Payload=json.dumps({"blob": "x" * 6_291_456}).encode())
    # Then Lambda's error, before the function runs
    response = refused.value.response
    assert response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert "6291456 bytes" in response["Error"]["Message"]
    # And a request just under the limit runs
    assert _invoke(lam, name, {"blob": "x" * 6_000_000})[:2] == (None, 6_000_000)


def test_a_response_over_6_mb_is_an_error_and_one_under_it_is_returned(lam: Any, make_function: Any) -> None:
    name = make_function("def handler(e, c):\n    return 'x' * e['n']\n")
    # When the function returns more than Lambda carries back (6 MB + 100 bytes, quotes included)
    error, payload, _ = _invoke(lam, name, {"n": 6_291_556})
    # Then the invoke fails as Lambda's does
    assert error == "Unhandled"
    assert payload == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    # And a response under it arrives whole
    error, payload, _ = _invoke(lam, name, {"n": 6_000_000})
    assert error is None
    assert len(payload) == 6_000_000


def test_sustained_use_of_the_local_api_leaves_localstack_flat(stack: dict[str, Any]) -> None:
    # Given LocalStack serving the local API, warmed up (environments started, pools grown)
    pid = localstack_pid()
    url = f"{stack['api_url']}/health"
    hammer(url, 100, 4)
    before = process_figures(pid)
    # When 800 requests go through it (the soak in `make bench` sends 100,000)
    answered, errors, _ = hammer(url, 800, 4)
    assert (answered, errors) == (800, {})
    # Then, once the last invocations' helper threads are done, LocalStack's threads are back near
    # where they were and its address space has not grown by a finished thread's stack per request
    # (8 MB each: 6.4 GB for these 800 before the reaper; the assertions allow 1 GB and 20 threads)
    after = process_figures(pid)
    for _ in range(60):
        if after["Threads"] <= before["Threads"] + 20:
            break
        time.sleep(0.5)
        after = process_figures(pid)
    assert after["Threads"] <= before["Threads"] + 20, (before, after)
    assert after["VmSize"] - before["VmSize"] < 1024, (before, after)
    assert after["maps"] - before["maps"] < 400, (before, after)
