"""Soak: many requests through the local API (LocalStack's API Gateway → the API function on the host
executor → PostgreSQL), reporting LocalStack's memory and threads before and after. Flat is the
target: before the thread reaper (localstack/executor/assistec_local_executor/threads.py) every
invocation pinned a finished thread's 8 MB stack, ~100 GB of virtual memory after 33,000 requests.

Needs the stack up (`make up`); 127.0.0.1 only; stops by itself after SOAK_REQUESTS requests
(100,000 by default, 100 when BENCH_RUNS=1, as in `make test`: a smoke run) sent by
SOAK_CONCURRENCY clients (8). Reported, never asserted (tests/e2e/test_local_executor.py holds
the leak assertion).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.bench.conftest import report

STACK_JSON = Path(__file__).resolve().parents[2] / ".local" / "stack.json"
REQUESTS = int(os.environ.get("SOAK_REQUESTS") or (100 if os.environ.get("BENCH_RUNS") == "1" else 100_000))
CONCURRENCY = int(os.environ.get("SOAK_CONCURRENCY") or 8)


def localstack_pid() -> int:
    from devctl import localstack_proc

    pid = localstack_proc.running_pid()
    if pid is None:
        pytest.skip("LocalStack is not running: `make up` first")
    return pid


def process_figures(pid: int) -> dict[str, int]:
    """VmRSS and VmSize (MB), kernel threads and memory maps of a process, from /proc."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmSize"):
            fields[key] = int(value.split()[0]) // 1024
        elif key == "Threads":
            fields[key] = int(value)
    with open(f"/proc/{pid}/maps", "rb") as maps:
        fields["maps"] = sum(1 for _ in maps)
    return fields


def runtime_processes() -> int:
    """Lambda runtime processes the host executor is running."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"assistec_local_executor/runtime.py" in (entry / "cmdline").read_bytes():
                    count += 1
            except OSError:
                pass
    return count


def hammer(url: str, total: int, concurrency: int) -> tuple[int, dict[str, int], float]:
    """GET ``url`` ``total`` times from ``concurrency`` clients; (answered, errors by kind, seconds)."""
    remaining = iter(range(total))
    lock = threading.Lock()
    errors: dict[str, int] = {}
    answered = [0]

    def client() -> None:
        with httpx.Client(timeout=60) as http:
            while True:
                with lock:
                    if next(remaining, None) is None:
                        return
                try:
                    status = http.get(url).status_code
                    kind = "" if status == 200 else f"HTTP {status}"
                except httpx.HTTPError as exc:
                    kind = type(exc).__name__
                with lock:
                    answered[0] += 1
                    if kind:
                        errors[kind] = errors.get(kind, 0) + 1

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(concurrency)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return answered[0], errors, time.perf_counter() - started


def test_soak_local_api_memory_and_threads() -> None:
    if not STACK_JSON.exists():
        pytest.skip("the local stack is not up: `make up` first")
    info: dict[str, Any] = json.loads(STACK_JSON.read_text())
    api_url = info["api_url"]
    assert urlsplit(api_url).hostname == "127.0.0.1", "the soak runs against the local stack only"
    pid = localstack_pid()
    url = f"{api_url}/health"
    hammer(url, CONCURRENCY * 10, CONCURRENCY)  # warm: environments started, pools grown
    before = {**process_figures(pid), "runtimes": runtime_processes()}

    answered, errors, seconds = hammer(url, REQUESTS, CONCURRENCY)
    time.sleep(5)  # let the last invocations' helper threads finish before looking
    after = {**process_figures(pid), "runtimes": runtime_processes()}

    rows = [
        {"when": when, **figures, "requests": n, "errors": e, "req/s": rate}
        for when, figures, n, e, rate in (
            ("before", before, 0, "", ""),
            ("after", after, answered, json.dumps(errors) if errors else 0, f"{answered / seconds:.0f}"),
        )
    ]
    for row in rows:
        row["VmRSS MB"], row["VmSize MB"] = row.pop("VmRSS"), row.pop("VmSize")
    report("soak", rows)
