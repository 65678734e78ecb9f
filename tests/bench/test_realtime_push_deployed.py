"""Push latency FROM THE COMMIT (issue 14 §4) through the deployed local stack's pieces: a status change
committed by the API's unit of work → the outbox published after the commit (PutEvents) → an
EventBridge rule in LocalStack → the real-time function run by LocalStack's Lambda (the host
executor stand-in, localstack/executor) → the management API ``POST /@connections/{id}`` → the
WebSocket gateway stand-in (localstack/ws_gateway, ``make up``'s, 127.0.0.1:4595/4596) → 50 real
WebSocket clients of one shop. Reported, never asserted.

The executor runs the code LocalStack deployed (``make up`` of /work/main), so to put two versions of
the push function side by side on the same path this bench creates, for its run only, two functions
beside the stack's real-time function (its configuration, layer and role; the same endpoints), each
behind a rule of a bus of its own, and deletes them after: ``before`` runs the deployed code zip,
``after`` runs this checkout's ``functions/assistec``. The unit of work that commits runs in this
process (this checkout's code: OrdersService.transition on the stage's database through PgBouncer,
as the API function does) and publishes to the variant's bus; the events alternate between the
variants, so both see the same load. The connections are opened through the gateway, whose
``$connect`` is the deployed function's, and are the same 50 for both.

A ``probe`` function (a handler that only notes the time) behind a third bus measures what LocalStack
adds between PutEvents and a function's start. Times are ``time.perf_counter`` / ``time.time`` of
this host (one clock for every process)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import statistics
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import boto3
import httpx
import pytest
from websockets.asyncio.client import connect

from tests.bench.conftest import report

ROOT = Path(__file__).resolve().parents[2]
STACK_JSON = ROOT / ".local" / "stack.json"
SMOKE = os.environ.get("BENCH_RUNS") == "1"  # `make test`: a smoke run, so the bench cannot rot
# The measure is 50 connections of one shop; the smoke run keeps every step with fewer.
CONNECTIONS = 10 if SMOKE else 50
EVENTS = int(os.environ.get("BENCH_REALTIME_EVENTS") or (3 if SMOKE else 60))  # per variant
WARMUP = 2  # per variant: the first invocations start the executor's process and open its pools
PROBES = int(os.environ.get("BENCH_REALTIME_PROBES") or (3 if SMOKE else 40))
PROBE_LOG = Path("/tmp") / f"assistec-bench-probe-{os.getpid()}.log"
PUSHED = [
    "OrderCreated",
    "OrderStatusChanged",
    "ChargeStatusChanged",
    "WhatsappMessageReceived",
    "ConversationWaitingForStaff",
    "AppointmentChanged",
]
PROBE_CODE = f"""
import time


def handler(event, context):
    started = time.time()
    with open({str(PROBE_LOG)!r}, "a") as log:
        log.write(f"{{event['detail']['probe']}} {{started}}\\n")
    return {{}}
"""


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    if not STACK_JSON.exists():
        pytest.skip("the local stack is not up (`make up`)")
    info: dict[str, Any] = json.loads(STACK_JSON.read_text())
    if "ws_url" not in info:
        pytest.skip("the deployed stack declares no WebSocket API")
    try:
        httpx.get(f"{info['localstack_url']}/_localstack/health", timeout=5).raise_for_status()
    except httpx.HTTPError:
        pytest.skip("LocalStack is not answering")
    return info


def _aws(stack: dict[str, Any], service: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=stack["localstack_url"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue()


def _checkout_code() -> bytes:
    package = ROOT / "functions" / "assistec"
    return _zip(
        {
            str(path.relative_to(ROOT / "functions")): path.read_bytes()
            for path in package.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
    )


@contextmanager
def _behind_a_rule(
    stack: dict[str, Any], name: str, code: bytes, like: dict[str, Any], **config: Any
) -> Iterator[str]:
    """A function ``name`` (``like``'s configuration, this ``code``) behind a rule of a bus of its own
    that takes the pushed events; the bus's name. Everything is deleted on the way out."""
    lam, events = _aws(stack, "lambda"), _aws(stack, "events")
    env = dict(like.get("Environment", {}).get("Variables", {}))
    env.update(config.pop("env", {}))
    arn = lam.create_function(
        FunctionName=name,
        Runtime=like["Runtime"],
        Handler=config.pop("handler", like["Handler"]),
        Role=like["Role"],
        Code={"ZipFile": code},
        Timeout=like["Timeout"],
        MemorySize=like["MemorySize"],
        Layers=config.pop("layers", [layer["Arn"] for layer in like.get("Layers", [])]),
        Environment={"Variables": env},
    )["FunctionArn"]
    try:
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        events.create_event_bus(Name=name)
        try:
            events.put_rule(
                Name=name,
                EventBusName=name,
                EventPattern=json.dumps({"source": ["assistec.orders"], "detail-type": PUSHED}),
            )
            events.put_targets(Rule=name, EventBusName=name, Targets=[{"Id": "push", "Arn": arn}])
            try:
                yield name
            finally:
                events.remove_targets(Rule=name, EventBusName=name, Ids=["push"])
                events.delete_rule(Name=name, EventBusName=name)
        finally:
            events.delete_event_bus(Name=name)
    finally:
        lam.delete_function(FunctionName=name)


@contextmanager
def _checkout_gateway() -> Iterator[tuple[str, str, list[int]]]:
    """This checkout's gateway stand-in (localstack/ws_gateway) on free ports, as `make up` runs the
    stack's (a process of its own, INFO log to a file, the deployed configuration: $connect is the
    stack's real-time function): (its ws URL, its management URL, [its pid])."""
    import re
    import subprocess
    import sys
    import tempfile

    deployed = json.loads((ROOT / ".local" / "ws-gateway" / "config.json").read_text())
    with tempfile.TemporaryDirectory(prefix="assistec-bench-gw-") as folder:
        config = Path(folder) / "config.json"
        config.write_text(json.dumps(deployed))
        log = Path(folder) / "gateway.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ws_gateway",
                    "--config",
                    str(config),
                    "--port",
                    "0",
                    "--management-port",
                    "0",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT / "localstack")},
            )
        try:
            deadline = time.monotonic() + 30
            while not (found := re.search(r"on (ws://\S+); management API (http://\S+)", log.read_text())):
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            yield found[1], found[2], [process.pid]
        finally:
            process.terminate()
            process.wait(30)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _shop_with_orders(http: httpx.Client, count: int) -> tuple[dict[str, str], list[tuple[str, int]]]:
    from tests.e2e.shops import new_shop

    shop = new_shop(http, "Loja Bench Tempo Real Ponta a Ponta")
    headers = {"Authorization": f"Bearer {shop['access_token']}"}
    customer = http.post(
        "/customers", headers=headers, json={"name": "Cliente Bench", "phone": "31 99876-5432"}
    )
    assert customer.status_code == 201, customer.text
    device = http.post(
        f"/customers/{customer.json()['id']}/devices",
        headers=headers,
        json={"type": "phone", "brand": "Motorola", "model": "Moto G84"},
    )
    assert device.status_code == 201, device.text
    orders = []
    for _ in range(count):
        order = http.post(
            "/orders",
            headers=headers,
            json={
                "customer_id": customer.json()["id"],
                "device_id": device.json()["id"],
                "reported_problem": "Tela piscando",
            },
        )
        assert order.status_code == 201, order.text
        orders.append((order.json()["id"], order.json()["version"]))
    return shop, orders


def _put_probe(events: Any, bus: str, probe: str) -> Callable[[], object]:
    def put() -> object:
        entry = {
            "Source": "assistec.orders",
            "DetailType": "OrderStatusChanged",
            "Detail": json.dumps({"probe": probe}),
            "EventBusName": bus,
        }
        return events.put_events(Entries=[entry])

    return put


def _processes(marker: bytes, where: str) -> list[int]:
    """The host's processes with ``marker`` in their command line or environment."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/{where}", "rb") as f:
                if marker in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def _cpu_ms(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used, in ms (10 ms ticks)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def _handler_times(pids: list[int]) -> tuple[dict[str, float], dict[str, float]]:
    """From the function's log (the runtime's stdout): each pushed event's handler start (epoch s, its
    "realtime push" line's time less the invocation's duration) and duration (ms)."""
    from datetime import datetime

    lines: list[str] = []
    for pid in pids:
        try:
            lines += Path(os.readlink(f"/proc/{pid}/fd/1")).read_text(errors="replace").splitlines()
        except OSError:
            continue
    pushed: dict[str, tuple[str, float]] = {}  # request id → (event id, the log line's time)
    started: dict[str, float] = {}
    durations: dict[str, float] = {}
    for line in lines:
        if line.startswith("{") and '"realtime push"' in line:
            entry = json.loads(line)
            at = datetime.strptime(entry["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
            pushed[entry["function_request_id"]] = (entry["event_id"], at)
        elif line.startswith("REPORT RequestId: "):
            request_id = line.split()[2]
            if request_id in pushed:
                event_id, at = pushed[request_id]
                duration_ms = float(line.split("Duration: ")[1].split(" ms")[0])
                durations[event_id] = duration_ms
                started[event_id] = at - duration_ms / 1000
    return started, durations


def _p(values: list[float], q: int) -> str:
    if len(values) < 2:
        return "-"
    return f"{statistics.quantiles(values, n=100, method='inclusive')[q - 1]:.1f}"


def _quantiles(values: list[float]) -> dict[str, str]:
    p = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50_ms": f"{p[49]:.1f}",
        "p90_ms": f"{p[89]:.1f}",
        "p99_ms": f"{p[98]:.1f}",
        "max_ms": f"{max(values):.1f}",
    }


def test_push_from_the_commit_to_fifty_connections_through_the_local_stack(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistec.domain.orders import Status
    from assistec.domain.permissions import Role
    from assistec.domain.tokens import Identity
    from assistec.services.unit_of_work import UnitsOfWork
    from assistec.settings import DatabaseSettings
    from assistec.wiring.base import DatabaseRoot

    lam = _aws(stack, "lambda")
    deployed = next(
        f
        for page in lam.get_paginator("list_functions").paginate()
        for f in page["Functions"]
        if f["Handler"] == "assistec.handlers.realtime.handler"
        and f["FunctionName"].startswith(stack["stack_name"])
    )
    deployed_code = urlopen(
        lam.get_function(FunctionName=deployed["FunctionName"])["Code"]["Location"]
    ).read()
    run = uuid.uuid4().hex[:8]
    # variant: (the push function's code, the gateway its shop's 50 connections are on)
    variants = {
        "before": ("deployed", "deployed"),
        "after_function_only": ("checkout", "deployed"),
        "after": ("checkout", "checkout"),
    }
    code = {"deployed": deployed_code, "checkout": _checkout_code()}

    with httpx.Client(base_url=stack["api_url"], timeout=httpx.Timeout(60.0)) as http:
        shops = {v: _shop_with_orders(http, EVENTS + WARMUP) for v in variants}
        tickets: dict[str, list[str]] = {}
        for variant, (shop, _) in shops.items():
            tickets[variant] = []
            for _ in range(CONNECTIONS):
                answer = http.post(
                    "/realtime/ticket", headers={"Authorization": f"Bearer {shop['access_token']}"}
                )
                assert answer.status_code == 201, answer.text
                tickets[variant].append(answer.json()["ticket"])
    owners = {}
    for variant, (shop, _) in shops.items():
        claims = _claims(shop["access_token"])
        owners[variant] = Identity(
            uuid.UUID(claims["tid"]), uuid.UUID(claims["sub"]), Role(claims["role"]), uuid.UUID(claims["sid"])
        )

    # The commit's side: this process, as the API function (PgBouncer, the relay's fast path).
    for name, value in {
        "AWS_ENDPOINT_URL": stack["localstack_url"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }.items():
        monkeypatch.setenv(name, value)
    committed: dict[str, float] = {}
    published: dict[str, float] = {}
    original_publish = UnitsOfWork.publish

    committed_wall: dict[str, float] = {}

    def publish(self: UnitsOfWork, events: list[uuid.UUID]) -> None:
        now = time.perf_counter()  # the unit of work has just committed
        wall = time.time()
        for event in events:
            committed[str(event)] = now
            committed_wall[str(event)] = wall
        original_publish(self, events)
        for event in events:
            published[str(event)] = time.perf_counter()

    monkeypatch.setattr(UnitsOfWork, "publish", publish)
    settings = DatabaseSettings(database_url=stack["pooled_database_url"], db_sslmode="disable")

    with ExitStack() as cleanup:
        gateways = {
            "deployed": (
                stack["ws_url"],
                stack["ws_management_url"],
                _processes(b"ws_gateway\x00--port\x004595", "cmdline"),
            ),
            "checkout": cleanup.enter_context(_checkout_gateway()),
        }
        buses = {
            variant: cleanup.enter_context(
                _behind_a_rule(
                    stack,
                    f"assistec-bench-rt-{variant.replace('_', '-')}-{run}",
                    code[code_from],
                    deployed,
                    env={"REALTIME_MANAGEMENT_URL": gateways[gateway][1]},
                )
            )
            for variant, (code_from, gateway) in variants.items()
        }
        probe_bus = cleanup.enter_context(
            _behind_a_rule(
                stack,
                f"assistec-bench-rt-probe-{run}",
                _zip({"probe.py": PROBE_CODE.encode()}),
                deployed,
                handler="probe.handler",
                layers=[],
                env={},
            )
        )
        roots = {v: DatabaseRoot(settings, event_bus_name=buses[v]) for v in variants}
        for root in roots.values():
            cleanup.callback(root.close)
        from assistec.services.orders import OrdersService

        services = {v: OrdersService(roots[v].work) for v in variants}

        async def scenario() -> dict[str, Any]:
            sockets = {
                v: [
                    await connect(f"{gateways[variants[v][1]][0]}?ticket={t}", open_timeout=60)
                    for t in tickets[v]
                ]
                for v in variants
            }
            loop = asyncio.get_running_loop()
            received: dict[str, list[float]] = {}
            done: dict[str, asyncio.Event] = {}

            async def listen(ws: Any) -> None:
                async for raw in ws:
                    message = json.loads(raw)
                    event_id = message.get("event_id")
                    if isinstance(event_id, str):
                        received.setdefault(event_id, []).append(time.perf_counter())
                        if len(received[event_id]) == CONNECTIONS and event_id in done:
                            done[event_id].set()

            listeners = [asyncio.create_task(listen(ws)) for group in sockets.values() for ws in group]
            results: dict[str, dict[str, list[float]]] = {
                v: {
                    "delivery": [],
                    "all": [],
                    "first": [],
                    "spread": [],
                    "publish": [],
                    "fn_cpu": [],
                    "gw_cpu": [],
                }
                for v in variants
            }
            functions: dict[str, list[int]] = {}
            results_events: dict[str, list[str]] = {v: [] for v in variants}
            pending = {v: list(shops[v][1]) for v in variants}
            order = list(variants)
            for i in range(EVENTS + WARMUP):
                for variant in order[i % len(order) :] + order[: i % len(order)]:
                    order_id, version = pending[variant].pop()

                    def commit(v: str = variant, o: str = order_id, ver: int = version) -> None:
                        services[v].transition(
                            owners[v], uuid.UUID(o), to=Status.DIAGNOSING, version=ver, reason=None
                        )

                    if i == WARMUP and variant not in functions:
                        functions[variant] = _processes(
                            f"AWS_LAMBDA_FUNCTION_NAME={buses[variant]}".encode(), "environ"
                        )
                    gateway_pids = gateways[variants[variant][1]][2]
                    function_cpu = _cpu_ms(functions.get(variant, []))
                    gateway_cpu = _cpu_ms(gateway_pids)
                    before = set(committed)
                    await loop.run_in_executor(None, commit)
                    new = set(committed) - before
                    assert len(new) == 1, new  # the status change's one event
                    [event_id] = new
                    done.setdefault(event_id, asyncio.Event())
                    if len(received.get(event_id, [])) < CONNECTIONS:
                        await asyncio.wait_for(done[event_id].wait(), 60)
                    if i < WARMUP:
                        continue
                    t0 = committed[event_id]
                    times = [(t - t0) * 1000 for t in received[event_id]]
                    r = results[variant]
                    results_events[variant].append(event_id)
                    r["delivery"].extend(times)
                    r["all"].append(max(times))
                    r["first"].append(min(times))
                    r["spread"].append(max(times) - min(times))
                    r["publish"].append((published[event_id] - t0) * 1000)
                    await asyncio.sleep(0.05)  # the function's last bookkeeping (its log, metrics)
                    r["fn_cpu"].append(_cpu_ms(functions[variant]) - function_cpu)
                    r["gw_cpu"].append(_cpu_ms(gateway_pids) - gateway_cpu)
            # What LocalStack adds between PutEvents and a function's start (the probe only notes the time).
            events = _aws(stack, "events")
            probes: list[float] = []
            put_calls: list[float] = []
            PROBE_LOG.unlink(missing_ok=True)
            for n in range(PROBES + 1):
                probe = f"{run}-{n}"
                sent = time.time()
                await loop.run_in_executor(None, _put_probe(events, probe_bus, probe))
                put_calls.append((time.time() - sent) * 1000)
                deadline = time.monotonic() + 60
                while True:
                    lines = PROBE_LOG.read_text().split("\n") if PROBE_LOG.exists() else []
                    found = [float(line.split()[1]) for line in lines if line.startswith(f"{probe} ")]
                    if found:
                        if n:
                            probes.append((found[0] - sent) * 1000)
                        break
                    assert time.monotonic() < deadline, "the probe never ran"
                    await asyncio.sleep(0.002)
            PROBE_LOG.unlink(missing_ok=True)
            # The functions' own view (their log: the push's line, then the runtime's REPORT): when the
            # handler started after the commit, and how long it ran.
            for variant in variants:
                started, durations = _handler_times(functions[variant])
                r = results[variant]
                r["to_start"] = [
                    (started[e] - committed_wall[e]) * 1000 for e in results_events[variant] if e in started
                ]
                r["handler"] = [durations[e] for e in results_events[variant] if e in durations]
            for task in listeners:
                task.cancel()
            await asyncio.gather(*(ws.close() for group in sockets.values() for ws in group))
            return {"results": results, "probes": probes, "put_calls": put_calls[1:]}

        outcome = asyncio.run(scenario())

    rows = []
    for variant, (code_from, gateway) in variants.items():
        r = outcome["results"][variant]
        rows.append(
            {
                "variant": variant,
                "function": code_from,
                "gateway": gateway,
                "events": len(r["all"]),
                "deliveries": len(r["delivery"]),
                **_quantiles(r["delivery"]),
                "all_50_p99_ms": f"{statistics.quantiles(r['all'], n=100, method='inclusive')[98]:.1f}",
                # the first connection's receipt (commit → bus → function → first post) and the
                # spread from the first to the last (the fan-out), median and p99 of the events
                "first_p50_ms": f"{statistics.median(r['first']):.1f}",
                "first_p99_ms": f"{statistics.quantiles(r['first'], n=100, method='inclusive')[98]:.1f}",
                "spread_p50_ms": f"{statistics.median(r['spread']):.1f}",
                "spread_p99_ms": f"{statistics.quantiles(r['spread'], n=100, method='inclusive')[98]:.1f}",
                "publish_p50_ms": f"{statistics.median(r['publish']):.1f}",
                # commit → the push handler's start (PutEvents, the rule, LocalStack's Lambda), and the
                # handler's duration (the shop's connections read, the 50 posts), from the function's log
                "to_handler_p50_ms": _p(r["to_start"], 50),
                "to_handler_p99_ms": _p(r["to_start"], 99),
                "handler_p50_ms": _p(r["handler"], 50),
                "handler_p99_ms": _p(r["handler"], 99),
                "function_cpu_ms_per_push": f"{statistics.mean(r['fn_cpu']):.0f}",
                "gateway_cpu_ms_per_push": f"{statistics.mean(r['gw_cpu']):.0f}",
                "load_avg_1m": f"{os.getloadavg()[0]:.1f}",  # the host's (2 cores here), at the end
            }
        )
    report("realtime_push_from_commit", rows)
    report(
        "realtime_eventbridge_to_lambda",
        [
            {
                "probes": len(outcome["probes"]),
                "put_events_p50_ms": f"{statistics.median(outcome['put_calls']):.1f}",
                **_quantiles(outcome["probes"]),
            }
        ],
    )
