"""Cold start of every Lambda entry module, next to bare Powertools REST resolvers, in one run.

Each sample is a fresh interpreter (what a cold start pays), median of RUNS samples, after one
warm-up run for the page cache. Target (issue 3): each entry module <= 300 ms and <= 1.5x the bare
resolver. Two baselines are reported: a bare resolver, and a bare resolver with request validation
(the Powertools feature the API uses, whose OpenAPI machinery alone costs ~60 ms). The cold first
request (import, then GET /health against the local PostgreSQL) is reported too: deferring an
import moves its cost there rather than removing it. Reported, never asserted.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from tests.bench.conftest import report
from tests.conftest import PgDatabase

ROOT = Path(__file__).resolve().parents[2]
# `make bench` takes the median of 9; `make test` runs each once (BENCH_RUNS=1) so the bench cannot rot.
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
BARE = (
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\napp = APIGatewayRestResolver()\n"
)
BARE_VALIDATING = (
    "from typing import Annotated\n"
    "from pydantic import BaseModel\n"
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "from aws_lambda_powertools.event_handler.openapi.params import Body\n"
    "app = APIGatewayRestResolver(enable_validation=True)\n"
    "class Item(BaseModel):\n    name: str\n"
    "@app.post('/items')\n"
    "def create(item: Annotated[Item, Body()]) -> Item:\n    return item\n"
)
FIRST_REQUEST = (
    "import json\n"
    "from assistec.handlers.api import handler\n"
    "from tests.conftest import LambdaContext, load_event\n"
    "response = handler(load_event('apigw_rest_get_health'), LambdaContext())\n"
    "assert response['statusCode'] == 200, response\n"
)


def _entry_modules() -> list[str]:
    handlers = ROOT / "functions" / "assistec" / "handlers"
    return [f"assistec.handlers.{p.stem}" for p in sorted(handlers.glob("*.py")) if p.stem != "__init__"]


def _cold_ms(code: str, env: dict[str, str] | None = None) -> float:
    probe = f"import time\nt0 = time.perf_counter()\n{code}\nprint((time.perf_counter() - t0) * 1000)\n"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            **(env or {}),
        },
    )
    return float(out.stdout.strip().splitlines()[-1])


def _median_ms(code: str, env: dict[str, str] | None = None) -> float:
    _cold_ms(code, env)
    return statistics.median(_cold_ms(code, env) for _ in range(RUNS))


def test_cold_import_time_of_entry_modules(database: PgDatabase) -> None:
    bare = _median_ms(BARE)
    validating = _median_ms(BARE_VALIDATING)
    rows = [
        {"what": "bare REST resolver", "median_ms": f"{bare:.1f}", "x_bare": "1.00", "x_validating": "-"},
        {
            "what": "bare REST resolver + validation",
            "median_ms": f"{validating:.1f}",
            "x_bare": f"{validating / bare:.2f}",
            "x_validating": "1.00",
        },
    ]
    for module in _entry_modules():
        ms = _median_ms(f"import {module}")
        rows.append(
            {
                "what": f"import {module}",
                "median_ms": f"{ms:.1f}",
                "x_bare": f"{ms / bare:.2f}",
                "x_validating": f"{ms / validating:.2f}",
            }
        )
    api_env = {
        "STAGE": "test",
        "APP_VERSION": "bench",
        "DATABASE_URL": database.app_url,
        "DB_SSLMODE": "disable",
        "AUTH_SIGNING_KEY": "b" * 48,
        "DEVICES_BUCKET": "bench-photos",
        "UNLOCK_CODE_KEY_ID": "alias/bench",
        "EVENT_BUS_NAME": "bench",
        "PAYMENTS_KEY_ID": "alias/bench",
        "PAYMENTS_QUEUE_URL": "https://sqs.bench/q",
    }
    first = _median_ms(FIRST_REQUEST, api_env)
    rows.append(
        {
            "what": "API cold first request (import + GET /health)",
            "median_ms": f"{first:.1f}",
            "x_bare": "-",
            "x_validating": "-",
        }
    )
    report("import_time", rows)
    assert len(rows) > 3, "no Lambda entry modules found"
