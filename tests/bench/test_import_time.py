"""Cold import time of every Lambda entry module, next to a bare Powertools REST resolver.

Each sample is a fresh interpreter (what a cold start pays), median of RUNS samples. Targets
(issue 3): each entry module <= 300 ms and <= 1.5x the bare resolver on this machine. Reported,
never asserted: timings depend on the machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

from tests.bench.conftest import report

ROOT = Path(__file__).resolve().parents[2]
RUNS = 7
BARE_RESOLVER = (
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "app = APIGatewayRestResolver()\n"
    "@app.get('/health')\n"
    "def health():\n    return {'ok': True}\n"
)


def _entry_modules() -> list[str]:
    handlers = ROOT / "functions" / "assistec" / "handlers"
    return [f"assistec.handlers.{p.stem}" for p in sorted(handlers.glob("*.py")) if p.stem != "__init__"]


def _cold_import_ms(code: str) -> float:
    probe = f"import time\nt0 = time.perf_counter()\n{code}\nprint((time.perf_counter() - t0) * 1000)\n"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "POWERTOOLS_METRICS_NAMESPACE": "Bench"},
    )
    return float(out.stdout.strip().splitlines()[-1])


def _median_ms(code: str) -> float:
    _cold_import_ms(code)  # warm the OS page cache once, as a real cold start finds it warm too
    return statistics.median(_cold_import_ms(code) for _ in range(RUNS))


def test_cold_import_time_of_entry_modules() -> None:
    bare = _median_ms(BARE_RESOLVER)
    rows = [{"module": "bare Powertools REST resolver", "median_ms": f"{bare:.1f}", "ratio": "1.00"}]
    for module in _entry_modules():
        ms = _median_ms(f"import {module}")
        rows.append({"module": module, "median_ms": f"{ms:.1f}", "ratio": f"{ms / bare:.2f}"})
    report("import_time", rows)
    assert len(rows) > 1, "no Lambda entry modules found"
